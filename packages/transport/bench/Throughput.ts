/**
 * 64 MiB from a local Node server through this runtime's Transport layer, plaintext and TLS, and
 * how much the server could send while the client read nothing for a second (kernel buffers on
 * both sides plus ours: what a slow reader costs in memory).
 *
 *   node --conditions=@effect-mysql/source packages/transport/bench/Throughput.ts
 *   deno run -A --conditions=@effect-mysql/source packages/transport/bench/Throughput.ts
 *   bun --conditions=@effect-mysql/source packages/transport/bench/Throughput.ts
 */

import { TestPki } from "@effect-mysql/testing"
import { Effect, Layer } from "effect"
import * as Endpoint from "../src/Endpoint.ts"
import * as RuntimeTransport from "../src/RuntimeTransport.ts"
import * as SslPolicy from "../src/SslPolicy.ts"
import { Transport } from "../src/Transport.ts"
import * as LocalServers from "../test/support/LocalServers.ts"

const size = 64 * 1024 * 1024
const rounds = 7

type Variant = { readonly name: string; readonly mode: SslPolicy.SslMode }

const variants: ReadonlyArray<Variant> = [
  { name: "plaintext", mode: "disabled" },
  { name: "TLS required", mode: "required" },
  { name: "TLS verify-identity", mode: "verify-identity" }
]

const once = (servers: LocalServers.LocalServers, pki: TestPki.TestPki, variant: Variant, stall: boolean) =>
  Effect.gen(function* () {
    const source = variant.mode === "disabled" ? "plainSource" : "tlsSource"
    const endpoint = Endpoint.tcp("127.0.0.1", servers.ports[source])
    const policy = yield* SslPolicy.make({ mode: variant.mode, ca: pki.ca.pem }, endpoint)
    const started = performance.now()
    const connection = yield* (yield* Transport).connect(endpoint)
    let implementation = "plain socket"
    if (policy.mode !== "disabled") implementation = (yield* connection.upgradeTls(policy.tls)).implementation
    let total = 0
    let stalled = 0
    if (stall) {
      total += (yield* connection.read()).length
      yield* Effect.sleep("1 second")
      stalled = servers.sentBeforeWaiting(source)
    }
    while (total < size) total += (yield* connection.read()).length
    const seconds = (performance.now() - started) / 1000
    return { implementation, mibPerSecond: size / 1024 / 1024 / seconds, stalled }
  }).pipe(Effect.scoped)

/** Mean milliseconds to connect and upgrade (verify-identity), over 50 connections after a warm-up. */
const handshakes = (servers: LocalServers.LocalServers, pki: TestPki.TestPki, mode: SslPolicy.SslMode) =>
  Effect.gen(function* () {
    const endpoint = Endpoint.tcp("127.0.0.1", servers.ports.good)
    const policy = yield* SslPolicy.make({ mode, ca: pki.ca.pem }, endpoint)
    if (policy.mode === "disabled") return 0
    const one = Effect.gen(function* () {
      const connection = yield* (yield* Transport).connect(endpoint)
      yield* connection.upgradeTls(policy.tls)
    }).pipe(Effect.scoped)
    for (let i = 0; i < 10; i++) yield* one
    const started = performance.now()
    for (let i = 0; i < 50; i++) yield* one
    return (performance.now() - started) / 50
  })

const program = Effect.gen(function* () {
  const pki = yield* TestPki.generate
  const servers = yield* LocalServers.start(pki, size)
  console.log(`runtime: ${RuntimeTransport.runtime}`)
  for (const variant of variants) {
    const speeds: Array<number> = []
    let implementation = ""
    yield* once(servers, pki, variant, false) // warm-up
    for (let round = 0; round < rounds; round++) {
      const result = yield* once(servers, pki, variant, false)
      speeds.push(result.mibPerSecond)
      implementation = result.implementation
    }
    speeds.sort((a, b) => a - b)
    const stalled = (yield* once(servers, pki, variant, true)).stalled
    const connect = yield* handshakes(servers, pki, variant.mode)
    console.log(
      `${variant.name.padEnd(20)} ${implementation.padEnd(26)} median ${speeds[rounds >> 1].toFixed(0).padStart(5)} MiB/s` +
        `  best ${speeds[rounds - 1].toFixed(0).padStart(5)} MiB/s  sent while stalled ${(stalled / 1024 / 1024).toFixed(1)} MiB` +
        (connect > 0 ? `  connect+TLS ${connect.toFixed(2)} ms` : "")
    )
  }
}).pipe(Effect.scoped, Effect.provide(Layer.fresh(RuntimeTransport.layer)))

Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
