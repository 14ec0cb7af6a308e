// The fake server against an independent client: mysql2 logs in with caching_sha2_password (fast
// path, full authentication over TLS, and over plaintext with the RSA key it fetches), which shows
// that the fake server speaks the real protocol rather than our client's idea of it.
import { assert, describe, layer } from "@effect/vitest"
import { TestPki } from "@effect-mysql/testing"
import { Context, Effect, Layer } from "effect"
import * as Mysql2 from "mysql2/promise"
import * as FakeServer from "../src/FakeServer.ts"

class Pki extends Context.Service<Pki, TestPki.TestPki>()("test/Pki") {}

const PkiLive = Layer.effect(Pki, Effect.orDie(TestPki.generate))

const password = "peer-secret"

/** Logs in with mysql2, asks who it is, and disconnects. */
const mysql2Login = (server: FakeServer.FakeServer, options: Partial<Mysql2.ConnectionOptions> = {}) =>
  Effect.tryPromise(async () => {
    const connection = await Mysql2.createConnection({
      host: server.host,
      port: server.port,
      user: "peer",
      password,
      ...options
    })
    try {
      const [rows] = await connection.query("SELECT CURRENT_USER() AS user")
      return (rows as Array<{ user: string }>)[0]!.user
    } finally {
      await connection.end()
    }
  })

const authPackets = (connection: FakeServer.FakeConnection) =>
  connection.received.filter((packet) => packet.phase === "auth").map((packet) => packet.payload)

const accounts = [{ user: "peer", password }]

layer(PkiLive, { timeout: 60_000, excludeTestServices: true })("FakeServer", (it) => {
  describe("mysql2 authenticates with caching_sha2_password", () => {
    it.effect("full authentication over TLS, then the fast path from the cache it filled", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({
          accounts,
          tls: { cert: pki.servers.good.cert.pem, key: pki.servers.good.key.pem }
        })
        const ssl = { ca: pki.ca.pem }
        assert.strictEqual(yield* mysql2Login(server, { ssl }), "peer@%")
        assert.strictEqual(yield* mysql2Login(server, { ssl }), "peer@%")
        const [full, fast] = yield* server.settled
        assert.isTrue(full!.tls)
        assert.isTrue(full!.authenticated)
        // mysql2 answers the greeting's plugin with its scramble, then sends the password inside TLS.
        assert.strictEqual(full!.handshakeResponse?.authPluginName, "caching_sha2_password")
        assert.strictEqual(full!.handshakeResponse?.authResponse.length, 32)
        assert.deepStrictEqual(authPackets(full!), [new TextEncoder().encode(`${password}\0`)])
        assert.isTrue(fast!.tls)
        assert.deepStrictEqual(authPackets(fast!), [])
      })
    )

    it.effect("fast path on a warm cache", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts, cachedUsers: ["peer"] })
        assert.strictEqual(yield* mysql2Login(server), "peer@%")
        const [record] = yield* server.settled
        assert.isFalse(record!.tls)
        assert.strictEqual(record!.handshakeResponse?.authResponse.length, 32)
        assert.deepStrictEqual(authPackets(record!), [])
      })
    )

    it.effect("full authentication over plaintext: mysql2 fetches the key, the server decrypts", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts })
        assert.strictEqual(yield* mysql2Login(server), "peer@%")
        const [record] = yield* server.settled
        const packets = authPackets(record!)
        assert.deepStrictEqual(packets[0], Uint8Array.of(0x02))
        assert.strictEqual(packets[1]!.length, 256)
      })
    )

    it.effect("a wrong password is refused with 1045", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts, cachedUsers: ["peer"] })
        const error = yield* Effect.flip(mysql2Login(server, { password: "wrong" }))
        assert.match(String(error.cause), /Access denied/)
      })
    )
  })

  it.effect("a hook can cut the connection at any packet, and the record says so", () =>
    Effect.gen(function* () {
      const server = yield* FakeServer.start({
        accounts,
        hooks: { onSend: (packet) => (packet.phase === "connect" ? { _tag: "Close" } : { _tag: "Send" }) }
      })
      yield* Effect.flip(mysql2Login(server))
      const [record] = yield* server.settled
      assert.strictEqual(record!.end, "closed by onSend")
      assert.deepStrictEqual(record!.received, [])
    })
  )
})
