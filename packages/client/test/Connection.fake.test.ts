// ssl-modes, zstd compression and both result-set protocols against the fake MySQL 8 server,
// checked on what the server received.
import { assert, describe, layer } from "@effect/vitest"
import { FakeServer } from "@effect-mysql/fake-server"
import { TestPki } from "@effect-mysql/testing"
import { Context, Effect, Layer } from "effect"
import { MysqlClient } from "../src/index.ts"
import { connect, containsBytes, optionsFor, refused, tlsOf } from "./fakeSupport.ts"

class Pki extends Context.Service<Pki, TestPki.TestPki>()("test/Pki") {}

const PkiLive = Layer.effect(Pki, Effect.orDie(TestPki.generate))

const accounts = [{ user: "app", password: "app-secret" }]

layer(PkiLive, { timeout: 60_000, excludeTestServices: true })("connection against a fake MySQL 8", (it) => {
  describe("ssl-mode", () => {
    for (const mode of ["required", "verify-ca", "verify-identity"] as const) {
      it.effect(`${mode} against a server without CLIENT_SSL: TlsError, and not a byte of the login sent`, () =>
        Effect.gen(function* () {
          const pki = yield* Pki
          const server = yield* FakeServer.start({ accounts })
          const error = yield* refused(optionsFor(server, "app", "app-secret", { ssl: { mode, ca: pki.ca.pem } }))
          assert.strictEqual(error._tag, "TlsError")
          if (error._tag === "TlsError") assert.strictEqual(error.reason, "server-has-no-tls")
          const [record] = yield* server.settled
          assert.deepStrictEqual(record!.received, [])
          assert.isUndefined(record!.sslRequest)
          assert.isUndefined(record!.handshakeResponse)
        })
      )
    }

    it.effect("preferred against a server that offers TLS: TLS is used, and the login goes inside it", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki), cachedUsers: ["app"] })
        const conn = yield* connect(optionsFor(server, "app", "app-secret", { ssl: { mode: "preferred" } }))
        assert.isDefined(conn.info.tls)
        const record = server.connections[0]!
        assert.isTrue(record.tls)
        // Before TLS: the 32-byte SSL Request alone, with no user name in it.
        const [sslRequest, response] = record.received
        assert.strictEqual(sslRequest!.payload.length, 32)
        assert.strictEqual(sslRequest!.sequenceId, 1)
        assert.isFalse(containsBytes(sslRequest!.payload, new TextEncoder().encode("app")))
        assert.strictEqual(response!.sequenceId, 2)
        assert.strictEqual(record.handshakeResponse?.username, "app")
      })
    )

    describe("a CA without a mode is checked (verify-identity)", () => {
      it.effect("a server whose certificate the given CA did not sign: TlsError, not a byte of the login", () =>
        Effect.gen(function* () {
          const pki = yield* Pki
          const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki), cachedUsers: ["app"] })
          const error = yield* refused(optionsFor(server, "app", "app-secret", { ssl: { ca: pki.untrustedCa.pem } }))
          assert.strictEqual(error._tag, "TlsError")
          if (error._tag === "TlsError") assert.strictEqual(error.reason, "chain-not-trusted")
          const [record] = yield* server.settled
          assert.isUndefined(record!.handshakeResponse)
        })
      )

      it.effect("a server without TLS: TlsError, no fallback to plaintext", () =>
        Effect.gen(function* () {
          const pki = yield* Pki
          const server = yield* FakeServer.start({ accounts, cachedUsers: ["app"] })
          const error = yield* refused(optionsFor(server, "app", "app-secret", { ssl: { ca: pki.ca.pem } }))
          assert.strictEqual(error._tag, "TlsError")
          if (error._tag === "TlsError") assert.strictEqual(error.reason, "server-has-no-tls")
          const [record] = yield* server.settled
          assert.deepStrictEqual(record!.received, [])
        })
      )

      it.effect("the right CA: connected, with the chain and the host name checked", () =>
        Effect.gen(function* () {
          const pki = yield* Pki
          const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki), cachedUsers: ["app"] })
          const conn = yield* connect(optionsFor(server, "app", "app-secret", { ssl: { ca: pki.ca.pem } }))
          assert.deepStrictEqual(conn.info.tls?.verification, {
            mode: "verify-identity",
            chain: true,
            hostname: server.host,
            fingerprint: false
          })
        })
      )

      it.effect("in a URL, ssl-ca without ssl-mode: the same", () =>
        Effect.gen(function* () {
          const pki = yield* Pki
          const withTls = yield* FakeServer.start({ accounts, tls: tlsOf(pki), cachedUsers: ["app"] })
          const withoutTls = yield* FakeServer.start({ accounts, cachedUsers: ["app"] })
          const urlOf = (server: FakeServer.FakeServer, ca: string) =>
            `mysql://app:app-secret@${server.host}:${server.port}/?ssl-ca=${encodeURIComponent(ca)}`
          const untrusted = yield* refused(yield* MysqlClient.optionsFromUrl(urlOf(withTls, pki.untrustedCa.path)))
          assert.strictEqual(untrusted._tag === "TlsError" && untrusted.reason, "chain-not-trusted")
          const plaintext = yield* refused(yield* MysqlClient.optionsFromUrl(urlOf(withoutTls, pki.ca.path)))
          assert.strictEqual(plaintext._tag === "TlsError" && plaintext.reason, "server-has-no-tls")
          const conn = yield* connect(yield* MysqlClient.optionsFromUrl(urlOf(withTls, pki.ca.path)))
          assert.strictEqual(conn.info.tls?.verification.mode, "verify-identity")
        })
      )
    })

    it.effect("disabled against a server that offers TLS: plaintext", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki), cachedUsers: ["app"] })
        const conn = yield* connect(optionsFor(server, "app", "app-secret", { ssl: { mode: "disabled" } }))
        assert.isUndefined(conn.info.tls)
        assert.isFalse(server.connections[0]!.tls)
        assert.isUndefined(server.connections[0]!.sslRequest)
      })
    )
  })

  it.effect("zstd compression: negotiated, and the server really decoded zstd frames", () =>
    Effect.gen(function* () {
      const server = yield* FakeServer.start({ accounts, compression: ["zlib", "zstd"], cachedUsers: ["app"] })
      const conn = yield* connect(
        optionsFor(server, "app", "app-secret", {
          ssl: { mode: "disabled" },
          compression: { algorithms: ["zstd"], zstdLevel: 7 }
        })
      )
      assert.strictEqual(conn.info.compression?.algorithm, "zstd")
      const text = "compressible ".repeat(40)
      const result = yield* conn.query<{ s: string }>(`SELECT '${text}' AS s`)
      assert.strictEqual(result.rows[0]!.s, text)
      const record = server.connections[0]!
      assert.strictEqual(record.compression, "zstd")
      assert.strictEqual(record.handshakeResponse?.zstdCompressionLevel, 7)
      const frames = record.compressedFrames
      assert.isAbove(frames.length, 0)
      for (const frame of frames) {
        assert.strictEqual(frame.algorithm, "zstd")
        // The zstd frame magic number, 0xFD2FB528 little-endian.
        assert.deepStrictEqual(Array.from(frame.compressed.subarray(0, 4)), [0x28, 0xb5, 0x2f, 0xfd])
        assert.isBelow(frame.compressed.length, frame.uncompressedLength)
      }
    })
  )

  it.effect("text and binary result sets", () =>
    Effect.gen(function* () {
      const server = yield* FakeServer.start({ accounts, cachedUsers: ["app"] })
      const conn = yield* connect(optionsFor(server, "app", "app-secret", { ssl: { mode: "disabled" } }))
      const text = yield* conn.query("SELECT 1")
      assert.deepStrictEqual(text.rows, [{ "1": 1 }])
      const binary = yield* conn.execute("SELECT 1 AS one")
      assert.deepStrictEqual(binary.rows, [{ one: 1 }])
      const echo = yield* conn.execute<{ v: string }>("SELECT ? AS v", ["hello"])
      assert.deepStrictEqual(echo.rows, [{ v: "hello" }])
      const kinds = server.connections[0]!.commands.map((command) => command._tag)
      assert.includeMembers(kinds, ["ComQuery", "ComStmtPrepare", "OtherCommand"])
    })
  )
})
