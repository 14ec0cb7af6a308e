import * as Fs from "node:fs"
import { assert, it } from "@effect/vitest"
import { MysqlConnection } from "@effect-mysql/client"
import { TestAccounts, type TestTarget } from "@effect-mysql/testing"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Effect, Layer } from "effect"
import { inject } from "vitest"
import * as SshTunnel from "../src/SshTunnel.ts"

const target: TestTarget.TestTarget = inject("mysqlTarget")

it.effect("smoke", () =>
  Effect.gen(function* () {
    const tunnel = SshTunnel.layer({
      host: "127.0.0.1",
      port: 2222,
      user: "root",
      privateKey: Fs.readFileSync("/tmp/sshs/user_ed25519", "utf8"),
      hostKeys: ["SHA256:YOYI8+NrWDWr3z+9R4qqMRQUdqzBolHUAXqI4bSRFe8"]
    }).pipe(Layer.provide(RuntimeTransport.layer))
    const t0 = performance.now()
    const rows = yield* Effect.gen(function* () {
      const conn = yield* MysqlConnection.connect({
        host: "127.0.0.1",
        port: target.port,
        user: TestAccounts.root.user,
        password: TestAccounts.root.password,
        ssl: { mode: "verify-identity", ca: target.tls.ca.pem, servername: "localhost" }
      })
      const t1 = performance.now()
      for (let i = 0; i < 200; i++) yield* conn.query("SELECT 1")
      const t2 = performance.now()
      console.log("connect", t1 - t0, "per query", (t2 - t1) / 200)
      return yield* conn.query(
        "SELECT @@version v, (SELECT variable_value FROM information_schema.session_status WHERE variable_name='Ssl_version') tls"
      )
    }).pipe(Effect.scoped, Effect.provide(tunnel))
    console.log(rows)
    assert.ok(rows)
  })
)

it.effect("unknown", () =>
  Effect.gen(function* () {
    const tunnel = SshTunnel.layer({
      host: "127.0.0.1",
      port: 2222,
      user: "root",
      privateKey: Fs.readFileSync("/tmp/sshs/user_ed25519", "utf8")
    }).pipe(Layer.provide(RuntimeTransport.layer))
    const e = yield* Effect.flip(Layer.build(tunnel).pipe(Effect.scoped))
    console.log(e)
  })
)
