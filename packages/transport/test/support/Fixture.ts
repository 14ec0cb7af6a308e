/** What the unit tests share: a test PKI, the local servers, the runtime's Transport, and helpers. */
import { X509Certificate } from "node:crypto"
import { concatBytes } from "@effect-mysql/protocol"
import { TestPki } from "@effect-mysql/testing"
import { Context, Effect, Layer } from "effect"
import * as Endpoint from "../../src/Endpoint.ts"
import * as RuntimeTransport from "../../src/RuntimeTransport.ts"
import * as SslPolicy from "../../src/SslPolicy.ts"
import { type Connection, type OperationOptions, Transport } from "../../src/Transport.ts"
import * as LocalServers from "./LocalServers.ts"

export const sourceBytes = 64 * 1024 * 1024

export class Fixture extends Context.Service<
  Fixture,
  { readonly pki: TestPki.TestPki; readonly servers: LocalServers.LocalServers }
>()("test/Fixture") {}

export const layer = Layer.merge(
  Layer.effect(
    Fixture,
    Effect.gen(function* () {
      const pki = yield* TestPki.generate
      const servers = yield* LocalServers.start(pki, sourceBytes)
      return { pki, servers }
    }).pipe(Effect.orDie)
  ),
  RuntimeTransport.layer
)

export const localhost = (port: number) => Endpoint.tcp("127.0.0.1", port)

export const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256

/** Reads until `length` bytes have arrived, each read with the connection's default deadline unless given one. */
export const readExactly = (
  connection: Connection,
  length: number,
  options: OperationOptions = { timeout: "5 seconds" }
) =>
  Effect.gen(function* () {
    const parts: Array<Uint8Array> = []
    let received = 0
    while (received < length) {
      const chunk = yield* connection.read(options)
      parts.push(chunk)
      received += chunk.length
    }
    return concatBytes(parts)
  })

const ping = new TextEncoder().encode("ping")

/** Writes "ping" and expects it back: the server accepted the session. */
export const echoes = (connection: Connection, options?: OperationOptions) =>
  Effect.gen(function* () {
    yield* connection.write(ping)
    return new TextDecoder().decode(yield* readExactly(connection, ping.length, options))
  })

/**
 * Connects to `port`, upgrades as `ssl` says (a server that offers TLS) and checks the echo; gives
 * the TLS info, or "plaintext" when the mode does not upgrade.
 */
export const tryTls = (port: number, ssl: SslPolicy.SslOptions) =>
  Effect.gen(function* () {
    const transport = yield* Transport
    const endpoint = localhost(port)
    const policy = yield* SslPolicy.make(ssl, endpoint)
    const decision = yield* Effect.fromResult(SslPolicy.decide(policy, true))
    if (policy.mode === "disabled" || decision === "plaintext") return "plaintext" as const
    const connection = yield* transport.connect(endpoint, { connectTimeout: "5 seconds" })
    const info = yield* connection.upgradeTls(policy.tls)
    const echoed = yield* echoes(connection)
    if (echoed !== "ping") return yield* Effect.die(`echo was ${echoed}`)
    return info
  }).pipe(Effect.scoped)
