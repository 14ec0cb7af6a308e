/** What the unit tests share: a test PKI, the local servers, the runtime's Transport, and helpers. */
import { execFileSync } from "node:child_process"
import { X509Certificate } from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { concatBytes } from "@effect-mysql/protocol"
import { TestPki } from "@effect-mysql/testing"
import { Context, Effect, Layer } from "effect"
import * as Endpoint from "../../src/Endpoint.ts"
import * as RuntimeTransport from "../../src/RuntimeTransport.ts"
import * as SslPolicy from "../../src/SslPolicy.ts"
import { type Connection, type OperationOptions, Transport } from "../../src/Transport.ts"
import * as LocalServers from "./LocalServers.ts"

export const sourceBytes = 64 * 1024 * 1024

/**
 * CRLs of the test CA: one that revokes nothing, one that revokes the `good` server certificate;
 * and one signed by the untrusted CA, which says nothing about certificates of the test CA.
 */
export interface RevocationLists {
  readonly empty: string
  readonly revokesGood: string
  readonly fromOtherCa: string
}

export class Fixture extends Context.Service<
  Fixture,
  { readonly pki: TestPki.TestPki; readonly servers: LocalServers.LocalServers; readonly crl: RevocationLists }
>()("test/Fixture") {}

/** Uses the `openssl ca` database TestPki leaves in its directory (it issues the expired certificate with it). */
const revocationLists = (pki: TestPki.TestPki): RevocationLists => {
  const openssl = (...args: ReadonlyArray<string>) => execFileSync("openssl", args, { cwd: pki.dir, stdio: "pipe" })
  const gencrl = (name: string, ...issuer: ReadonlyArray<string>) => {
    openssl("ca", "-config", "ca.cnf", "-gencrl", "-crldays", "30", ...issuer, "-out", name)
    return Fs.readFileSync(Path.join(pki.dir, name), "utf8")
  }
  const empty = gencrl("empty.crl")
  const fromOtherCa = gencrl("other-ca.crl", "-cert", "untrusted-ca.pem", "-keyfile", "untrusted-ca.key")
  openssl("ca", "-config", "ca.cnf", "-revoke", pki.servers.good.cert.path)
  return { empty, revokesGood: gencrl("revokes-good.crl"), fromOtherCa }
}

export const layer = Layer.merge(
  Layer.effect(
    Fixture,
    Effect.gen(function* () {
      const pki = yield* TestPki.generate
      const servers = yield* LocalServers.start(pki, sourceBytes)
      return { pki, servers, crl: revocationLists(pki) }
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
