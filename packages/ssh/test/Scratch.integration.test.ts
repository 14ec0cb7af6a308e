import { it } from "@effect/vitest"
import { MysqlConnection } from "@effect-mysql/client"
import { SshKeys, SshServer, TestAccounts, type TestTarget } from "@effect-mysql/testing"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Effect, Layer } from "effect"
import { inject } from "vitest"
import * as SshTunnel from "../src/SshTunnel.ts"

const target: TestTarget.TestTarget = inject("mysqlTarget")

const measure = (label: string, layer: Layer.Layer<any, any, never>) =>
  Effect.gen(function* () {
    const t0 = performance.now()
    const conn = yield* MysqlConnection.connect({
      host: "127.0.0.1",
      port: target.port,
      user: TestAccounts.root.user,
      password: TestAccounts.root.password,
      ssl: { mode: "verify-identity", ca: target.tls.ca.pem }
    })
    const t1 = performance.now()
    for (let i = 0; i < 500; i++) yield* conn.query("SELECT 1")
    const samples: number[] = []
    for (let r = 0; r < 5; r++) {
      const a = performance.now()
      for (let i = 0; i < 2000; i++) yield* conn.query("SELECT 1")
      samples.push((performance.now() - a) / 2000)
    }
    samples.sort((a, b) => a - b)
    console.log(`RESULT ${label} connect=${(t1 - t0).toFixed(1)}ms perQuery=${(samples[2]! * 1000).toFixed(0)}us`)
  }).pipe(Effect.scoped, Effect.provide(layer))

it.live(
  "latency",
  () =>
    Effect.gen(function* () {
      const keys = yield* SshKeys.generateAll
      const server = yield* SshServer.start({ authorizedKeys: [keys.ed25519.publicKey] })
      yield* measure("direct", RuntimeTransport.layer)
      const tunnel = SshTunnel.layer({
        host: server.host,
        port: server.port,
        user: server.user,
        privateKey: keys.ed25519.privateKey,
        hostKeys: server.fingerprints
      }).pipe(Layer.provide(RuntimeTransport.layer))
      yield* measure("tunnel", tunnel)
      yield* measure("direct", RuntimeTransport.layer)
      yield* measure("tunnel", tunnel)
    }).pipe(Effect.scoped),
  { timeout: 120_000 }
)
