// TLS session resumption against a real MariaDB. Whether a handshake resumed is what the client's
// TLS library says (`TlsInfo.sessionReused`): MariaDB 10.11's `Ssl_sessions_reused` stays 0 even
// for resumed connections (see docs/tls.md). Each test shows the server willing to resume the
// session, so a handshake with other settings or to another port that did not resume was not
// offered it.
import { assert, describe, it } from "@effect/vitest"
import { FaultProxy, TestAccounts } from "@effect-mysql/testing"
import { Effect, Layer, Result } from "effect"
import { inject } from "vitest"
import * as Endpoint from "../src/Endpoint.ts"
import { connect } from "../src/internal/NodeSocketTransport.ts"
import { sessionKey, TlsSessionCache } from "../src/internal/TlsSessionCache.ts"
import * as RuntimeTransport from "../src/RuntimeTransport.ts"
import * as SslPolicy from "../src/SslPolicy.ts"
import { type Connection, type TlsInfo, Transport } from "../src/Transport.ts"
import {
  CLIENT_SSL,
  describeReply,
  handshakeResponse,
  packetReader,
  parseGreeting,
  sslRequest
} from "./support/MiniHandshake.ts"

const target = inject("mysqlTarget")
const tcp = Endpoint.tcp(target.host, target.port)

/** Deno's TLS stacks never resume (docs/tls.md): there every connection is a full handshake. */
const resumes = RuntimeTransport.runtime !== "deno"

const verified: SslPolicy.SslOptions = { mode: "verify-identity", ca: target.tls.ca.pem }
const withCertificate: SslPolicy.SslOptions = { ...verified, cert: target.tls.cert.pem, key: target.tls.key.pem }

/** Over TLS as `ssl` says, logged in; what the transport reports of the session. */
const onConnection = (connection: Connection, endpoint: Endpoint.Endpoint, ssl: SslPolicy.SslOptions) =>
  Effect.gen(function* () {
    const policy = yield* SslPolicy.make(ssl, endpoint)
    if (policy.mode === "disabled") return yield* Effect.die("these tests need TLS")
    const nextPacket = packetReader(connection)
    const greeting = parseGreeting((yield* nextPacket).payload)
    assert.isTrue((greeting.capabilities & CLIENT_SSL) !== 0)
    yield* connection.write(sslRequest())
    const tls = yield* connection.upgradeTls(policy.tls)
    const { user, password } = TestAccounts[ssl.cert === undefined ? "tlsOnly" : "x509"]
    yield* connection.write(yield* handshakeResponse(user, password, greeting.scramble, 2, true))
    assert.strictEqual(describeReply((yield* nextPacket).payload), "OK")
    return tls
  })

/** A login through the layer in context. */
const login = (ssl: SslPolicy.SslOptions, endpoint: Endpoint.Endpoint = tcp) =>
  Effect.gen(function* () {
    const connection = yield* (yield* Transport).connect(endpoint, { connectTimeout: "10 seconds" })
    return yield* onConnection(connection, endpoint, ssl)
  }).pipe(Effect.scoped)

/** Whether each of the logins resumed a session, in order. */
const reusedInTurn = (logins: ReadonlyArray<Effect.Effect<TlsInfo, unknown, Transport>>) =>
  Effect.forEach(logins, (one) => Effect.map(one, (tls) => tls.sessionReused))

describe("TLS session resumption", () => {
  it.live("a second connection with the same settings resumes, and reports the certificate it verified", () =>
    Effect.gen(function* () {
      const first = yield* login(withCertificate)
      const second = yield* login(withCertificate)
      assert.isFalse(first.sessionReused)
      assert.strictEqual(second.sessionReused, resumes)
      assert.strictEqual(second.peerCertificate?.subject, "CN=localhost")
      assert.strictEqual(second.peerCertificate?.fingerprint256, first.peerCertificate?.fingerprint256)
      assert.strictEqual(second.verification.hostname, target.host)
    }).pipe(Effect.provide(RuntimeTransport.layer))
  )

  it.live("TLS 1.2 resumes too, connection after connection", () =>
    Effect.gen(function* () {
      const tls12 = { ...withCertificate, maxVersion: "TLSv1.2" } as const
      const reused = yield* reusedInTurn([login(tls12), login(tls12), login(tls12)])
      assert.deepStrictEqual(reused, [false, resumes, resumes])
    }).pipe(Effect.provide(RuntimeTransport.layer))
  )

  it.live("a session is never offered with other verification settings", () =>
    Effect.gen(function* () {
      const pki = target.pki
      const tls = yield* login(withCertificate)
      const others: ReadonlyArray<SslPolicy.SslOptions> = [
        { ...withCertificate, mode: "verify-ca" },
        { ...withCertificate, ca: [target.tls.ca.pem, ...(pki === undefined ? [] : [pki.untrustedCa.pem])] },
        { ...withCertificate, servername: "localhost" },
        { ...withCertificate, maxVersion: "TLSv1.2" },
        { ...withCertificate, mode: "required", ca: undefined },
        { ...withCertificate, fingerprints: [tls.peerCertificate?.fingerprint256 ?? ""] },
        verified
      ]
      for (const ssl of others) {
        // The server would resume the session (it does on the second try): it is the client's
        // choice not to offer it.
        assert.deepStrictEqual(yield* reusedInTurn([login(ssl), login(ssl)]), [false, resumes], JSON.stringify(ssl))
      }
      assert.strictEqual((yield* login(withCertificate)).sessionReused, resumes)
    }).pipe(Effect.provide(RuntimeTransport.layer))
  )

  it.live("a session is never offered to another port of the same server", () =>
    Effect.gen(function* () {
      const proxy = yield* FaultProxy.start({ target: { host: target.host, port: target.port } })
      const other = Endpoint.tcp(proxy.host, proxy.port)
      yield* login(withCertificate)
      assert.deepStrictEqual(yield* reusedInTurn([login(withCertificate, other), login(withCertificate, other)]), [
        false,
        resumes
      ])
    }).pipe(Effect.scoped, Effect.provide(RuntimeTransport.layer))
  )

  it.live("each layer keeps its own sessions, and sessionReuse: false offers none", () =>
    Effect.gen(function* () {
      yield* login(withCertificate)
      const elsewhere = yield* login(withCertificate).pipe(Effect.provide(Layer.fresh(RuntimeTransport.layer)))
      assert.isFalse(elsewhere.sessionReused)
      const off = { ...withCertificate, sessionReuse: false }
      assert.deepStrictEqual(yield* reusedInTurn([login(off), login(off)]), [false, false])
      assert.strictEqual((yield* login(withCertificate)).sessionReused, resumes)
    }).pipe(Effect.provide(RuntimeTransport.layer))
  )

  it.live("a resumed connection is checked against the certificate its session was verified with", () =>
    Effect.gen(function* () {
      const runtime = { name: "test", limits: {} }
      const cache = new TlsSessionCache()
      const open = (ssl: SslPolicy.SslOptions) =>
        Effect.flatMap(connect(runtime, cache, tcp, { connectTimeout: "10 seconds" }), (connection) =>
          onConnection(connection, tcp, ssl)
        ).pipe(Effect.scoped)
      const first = yield* open(withCertificate)
      const pinned = { ...withCertificate, fingerprints: [first.peerCertificate?.fingerprint256 ?? ""] }
      assert.isFalse((yield* open(pinned)).sessionReused)
      if (!resumes) {
        // Deno's node:tls hands out no TLS 1.3 session to keep.
        assert.strictEqual(cache.size, 0)
        return
      }
      // The kept certificate, as if another server's had been verified: only a resumed handshake sees it.
      const policy = Result.getOrThrow(SslPolicy.resolve(pinned, tcp))
      if (policy.mode === "disabled") return
      const key = sessionKey(`Tcp:${Endpoint.format(tcp)}`, policy.tls)
      const kept = cache.get(key, new Date())!
      const forged = `${"AB:".repeat(31)}AB`
      cache.set(key, {
        ...kept,
        peer: { ...kept.peer, certificate: { ...kept.peer.certificate, fingerprint256: forged } }
      })
      const refused = yield* Effect.flip(open(pinned))
      assert.strictEqual(refused._tag === "TlsError" ? refused.reason : refused._tag, "fingerprint-mismatch")
      assert.include(refused.message, forged)
      assert.isUndefined(cache.get(key, new Date()))
    })
  )
})
