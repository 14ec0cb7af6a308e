// Every authentication plugin and the rules for sending a password, against the fake MySQL 8
// server: each test checks what the server received, not only what the client said.
import { assert, describe, layer } from "@effect/vitest"
import { FakeServer } from "@effect-mysql/fake-server"
import { TestPki } from "@effect-mysql/testing"
import { Context, Effect, Layer, Redacted } from "effect"
import type { MysqlConnection } from "../src/index.ts"
import { connect, optionsFor, refused, sawPassword, tlsOf } from "./fakeSupport.ts"

class Pki extends Context.Service<Pki, TestPki.TestPki>()("test/Pki") {}

const PkiLive = Layer.effect(Pki, Effect.orDie(TestPki.generate))

const password = "s3cret-Pässword"

const currentUser = (conn: MysqlConnection.MysqlConnection) =>
  Effect.map(conn.query<{ user: string }>("SELECT CURRENT_USER() AS user"), (result) => result.rows[0]!.user)

/** The payloads the client sent during the auth exchange (after its handshake response). */
const authPackets = (connection: FakeServer.FakeConnection) =>
  connection.received.filter((packet) => packet.phase === "auth").map((packet) => packet.payload)

const cleartext = (text: string) => new Uint8Array([...new TextEncoder().encode(text), 0])

const only = (connections: ReadonlyArray<FakeServer.FakeConnection>) => {
  assert.strictEqual(connections.length, 1)
  return connections[0]!
}

layer(PkiLive, { timeout: 60_000, excludeTestServices: true })("authentication against a fake MySQL 8", (it) => {
  describe("caching_sha2_password", () => {
    it.effect("fast path: the scramble matches the cache, no password travels", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts: [{ user: "app", password }], cachedUsers: ["app"] })
        const conn = yield* connect(optionsFor(server, "app", password, { ssl: { mode: "disabled" } }))
        assert.strictEqual(yield* currentUser(conn), "app@%")
        const record = only(server.connections)
        assert.strictEqual(record.handshakeResponse?.authPluginName, "caching_sha2_password")
        assert.strictEqual(record.handshakeResponse?.authResponse.length, 32)
        assert.deepStrictEqual(authPackets(record), [])
        assert.isFalse(sawPassword(record, password))
      })
    )

    it.effect("a wrong password on the fast path is refused with the server's 1045", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts: [{ user: "app", password }], cachedUsers: ["app"] })
        const error = yield* refused(optionsFor(server, "app", "wrong", { ssl: { mode: "disabled" } }))
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag === "AuthenticationError") assert.strictEqual(error.errno, 1045)
      })
    )

    it.effect("full authentication over TLS sends the password in clear inside the tunnel, then the cache serves", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({ accounts: [{ user: "app", password }], tls: tlsOf(pki) })
        const ssl = { mode: "verify-identity", ca: pki.ca.pem } as const
        yield* Effect.scoped(Effect.flatMap(connect(optionsFor(server, "app", password, { ssl })), currentUser))
        yield* Effect.scoped(Effect.flatMap(connect(optionsFor(server, "app", password, { ssl })), currentUser))
        const [full, fast] = yield* server.settled
        assert.isTrue(full!.tls)
        assert.deepStrictEqual(authPackets(full!), [cleartext(password)])
        assert.isTrue(fast!.tls)
        assert.deepStrictEqual(authPackets(fast!), [])
      })
    )

    it.effect("full authentication over plaintext with serverPublicKey: RSA-encrypted, nothing fetched", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts: [{ user: "app", password }] })
        const conn = yield* connect(
          optionsFor(server, "app", password, { ssl: { mode: "disabled" }, serverPublicKey: server.publicKeyPem })
        )
        assert.strictEqual(yield* currentUser(conn), "app@%")
        const record = only(server.connections)
        assert.isFalse(record.tls)
        const packets = authPackets(record)
        assert.strictEqual(packets.length, 1)
        assert.strictEqual(packets[0]!.length, 256)
        assert.isFalse(sawPassword(record, password))
      })
    )

    it.effect("public key retrieval only with allowPublicKeyRetrieval", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts: [{ user: "app", password }] })
        const error = yield* refused(optionsFor(server, "app", password, { ssl: { mode: "disabled" } }))
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag === "AuthenticationError") {
          assert.strictEqual(error.plugin, "caching_sha2_password")
          assert.include(error.message, "allowPublicKeyRetrieval")
        }
        const [denied] = yield* server.settled
        // The scramble went (it proves nothing without the cache); then the client stopped.
        assert.deepStrictEqual(authPackets(denied!), [])
        assert.isFalse(sawPassword(denied!, password))

        const conn = yield* connect(
          optionsFor(server, "app", password, { ssl: { mode: "disabled" }, allowPublicKeyRetrieval: true })
        )
        assert.strictEqual(yield* currentUser(conn), "app@%")
        const packets = authPackets(server.connections[1]!)
        assert.deepStrictEqual(packets[0], Uint8Array.of(0x02))
        assert.strictEqual(packets[1]!.length, 256)
        assert.isFalse(sawPassword(server.connections[1]!, password))
      })
    )
  })

  describe("sha256_password", () => {
    const accounts = [{ user: "old", password, plugin: "sha256_password" }]

    it.effect("over verified TLS: the password in clear inside the tunnel, after the switch", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki) })
        const conn = yield* connect(optionsFor(server, "old", password, { ssl: { ca: pki.ca.pem } }))
        assert.strictEqual(yield* currentUser(conn), "old@%")
        const record = only(server.connections)
        assert.isTrue(record.tls)
        assert.deepStrictEqual(authPackets(record), [cleartext(password)])
      })
    )

    it.effect("over plaintext: RSA with the configured key, refused without one", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts })
        const user = yield* Effect.scoped(
          Effect.flatMap(
            connect(
              optionsFor(server, "old", password, { ssl: { mode: "disabled" }, serverPublicKey: server.publicKeyPem })
            ),
            currentUser
          )
        )
        assert.strictEqual(user, "old@%")
        assert.strictEqual(authPackets(server.connections[0]!)[0]!.length, 256)

        const error = yield* refused(optionsFor(server, "old", password, { ssl: { mode: "disabled" } }))
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag === "AuthenticationError") assert.strictEqual(error.plugin, "sha256_password")
        yield* server.settled
        assert.deepStrictEqual(authPackets(server.connections[1]!), [])
        assert.isFalse(sawPassword(server.connections[1]!, password))
      })
    )

    it.effect("over plaintext with allowPublicKeyRetrieval: asks for the key, then encrypts", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts })
        yield* connect(
          optionsFor(server, "old", password, { ssl: { mode: "disabled" }, allowPublicKeyRetrieval: true })
        )
        const packets = authPackets(only(server.connections))
        assert.deepStrictEqual(packets[0], Uint8Array.of(0x01))
        assert.strictEqual(packets[1]!.length, 256)
      })
    )
  })

  describe("mysql_clear_password", () => {
    const accounts = [{ user: "ldap", password, plugin: "mysql_clear_password" }]

    it.effect("refused over plaintext: nothing of the password reaches the server", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts })
        const error = yield* refused(optionsFor(server, "ldap", password, { ssl: { mode: "disabled" } }))
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag === "AuthenticationError") {
          assert.strictEqual(error.plugin, "mysql_clear_password")
          assert.include(error.message, "allowCleartextPasswords")
        }
        const record = only(yield* server.settled)
        assert.deepStrictEqual(authPackets(record), [])
        assert.isFalse(sawPassword(record, password))
        assert.isFalse(record.authenticated)
      })
    )

    it.effect("named in the greeting over plaintext: no handshake response at all", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts, defaultPlugin: "mysql_clear_password" })
        const error = yield* refused(optionsFor(server, "ldap", password, { ssl: { mode: "disabled" } }))
        assert.strictEqual(error._tag, "AuthenticationError")
        const record = only(yield* server.settled)
        assert.deepStrictEqual(record.received, [])
      })
    )

    it.effect("sent over plaintext when allowCleartextPasswords is set", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts })
        const conn = yield* connect(
          optionsFor(server, "ldap", password, { ssl: { mode: "disabled" }, allowCleartextPasswords: true })
        )
        assert.strictEqual(yield* currentUser(conn), "ldap@%")
        assert.deepStrictEqual(authPackets(only(server.connections)), [cleartext(password)])
      })
    )

    it.effect("refused over verified TLS without allowCleartextPasswords, which it always needs", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki) })
        const error = yield* refused(optionsFor(server, "ldap", password, { ssl: { ca: pki.ca.pem } }))
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag === "AuthenticationError") assert.include(error.message, "allowCleartextPasswords: true")
        const record = only(yield* server.settled)
        assert.isTrue(record.tls)
        assert.isFalse(sawPassword(record, password))
      })
    )

    it.effect("sent over verified TLS with allowCleartextPasswords", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki) })
        const conn = yield* connect(
          optionsFor(server, "ldap", password, {
            ssl: { mode: "verify-ca", ca: pki.ca.pem },
            allowCleartextPasswords: true
          })
        )
        assert.strictEqual(yield* currentUser(conn), "ldap@%")
        const record = only(server.connections)
        assert.isTrue(record.tls)
        assert.deepStrictEqual(authPackets(record), [cleartext(password)])
      })
    )
  })

  describe("plugins refused by name", () => {
    for (const plugin of ["mysql_old_password", "authentication_fancy_plugin"]) {
      it.effect(`auth switch to ${plugin}`, () =>
        Effect.gen(function* () {
          const server = yield* FakeServer.start({ accounts: [{ user: "app", password, plugin }] })
          const error = yield* refused(
            optionsFor(server, "app", password, { ssl: { mode: "disabled" }, allowCleartextPasswords: true })
          )
          assert.strictEqual(error._tag, "AuthenticationError")
          if (error._tag === "AuthenticationError") {
            assert.strictEqual(error.plugin, plugin)
            assert.include(error.message, plugin)
          }
          const record = only(yield* server.settled)
          assert.deepStrictEqual(authPackets(record), [])
          assert.isFalse(sawPassword(record, password))
        })
      )
    }
  })

  describe("multi-factor authentication", () => {
    const accounts = [
      {
        user: "mfa",
        password,
        nextFactors: [
          { plugin: "mysql_clear_password", password: "second-factor" },
          { plugin: "caching_sha2_password", password: "third-factor" }
        ]
      }
    ]

    it.effect("password2 and password3 answer AuthNextFactor", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki) })
        const conn = yield* connect(
          optionsFor(server, "mfa", password, {
            ssl: { ca: pki.ca.pem },
            allowCleartextPasswords: true,
            password2: "second-factor",
            password3: "third-factor"
          })
        )
        assert.strictEqual(yield* currentUser(conn), "mfa@%")
        const packets = authPackets(only(server.connections))
        // factor 1 (full authentication inside TLS), factor 2 (clear), factor 3 (scramble, full authentication)
        assert.deepStrictEqual(packets, [
          cleartext(password),
          cleartext("second-factor"),
          packets[2]!,
          cleartext("third-factor")
        ])
        assert.strictEqual(packets[2]!.length, 32)
      })
    )

    it.effect("a missing password2 is an AuthenticationError that says which factor", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki) })
        const error = yield* refused(
          optionsFor(server, "mfa", password, { ssl: { ca: pki.ca.pem }, allowCleartextPasswords: true })
        )
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag === "AuthenticationError") {
          assert.strictEqual(error.plugin, "mysql_clear_password")
          assert.include(error.message, "password2")
        }
        const record = only(yield* server.settled)
        assert.isFalse(sawPassword(record, "second-factor"))
        assert.isFalse(record.authenticated)
      })
    )
  })

  it.effect("the password as an Effect is run for each connection (IAM-style tokens)", () =>
    Effect.gen(function* () {
      let issued = 0
      const token = Effect.sync(() => {
        issued++
        return password
      })
      const pki = yield* Pki
      const server = yield* FakeServer.start({
        accounts: [{ user: "iam", password, plugin: "mysql_clear_password" }],
        tls: tlsOf(pki)
      })
      const options = optionsFor(server, "iam", password, {
        ssl: { ca: pki.ca.pem },
        allowCleartextPasswords: true,
        password: Effect.map(token, (text) => Redacted.make(text))
      })
      yield* Effect.scoped(connect(options))
      yield* Effect.scoped(connect(options))
      assert.strictEqual(issued, 2)
    })
  )
})
