// The three ways to build the layer — options, URL, Config — against the real MariaDB, and what
// spans and errors show (never a parameter value, never a password).
import { assert, describe, it } from "@effect/vitest"
import { TestAccounts } from "@effect-mysql/testing"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { MysqlClient } from "../src/index.ts"
import { clientLayer, recordingTracer, TransportLive, target } from "./support.ts"

const { user, password } = TestAccounts.x509
const encodedPassword = encodeURIComponent(password)
const tlsUrl =
  `mysql://${user}:${encodedPassword}@${target.host}:${target.port}/${target.database}` +
  `?ssl-mode=VERIFY_IDENTITY&ssl-ca=${encodeURIComponent(target.tls.ca.path)}` +
  `&ssl-cert=${encodeURIComponent(target.tls.cert.path)}&ssl-key=${encodeURIComponent(target.tls.key.path)}` +
  "&max-connections=2&connect-timeout=5"

const whoAndCipher = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ user: string; cipher: string }>`SELECT CURRENT_USER() AS user, (
    SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher') AS cipher`
  return rows[0]!
})

describe("layers", () => {
  it.effect("layerFromUrl reads the certificate files a URL names and connects with verify-identity", () =>
    Effect.gen(function* () {
      const { user: current, cipher } = yield* whoAndCipher
      assert.strictEqual(current, "x509_user@%")
      assert.isAbove(cipher.length, 0)
    }).pipe(Effect.provide(MysqlClient.layerFromUrl(Redacted.make(tlsUrl)).pipe(Layer.provide(TransportLive))))
  )

  it.effect("layerFromUrl over the Unix socket", () =>
    Effect.gen(function* () {
      if (target.socketPath === undefined) return
      const url = `mysql://plain:plain-secret@localhost/${target.database}?socket=${encodeURIComponent(target.socketPath)}&ssl-mode=DISABLED`
      const rows = yield* Effect.provide(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ user: string }>`SELECT CURRENT_USER() AS user`),
        MysqlClient.layerFromUrl(url).pipe(Layer.provide(TransportLive))
      )
      assert.deepStrictEqual(rows, [{ user: "plain@%" }])
    })
  )

  it.effect("layerConfig reads MYSQL_URL and MYSQL_* variables", () =>
    Effect.gen(function* () {
      const { user: current } = yield* whoAndCipher
      assert.strictEqual(current, "x509_user@%")
    }).pipe(
      Effect.provide(
        MysqlClient.layerConfig().pipe(
          Layer.provide(TransportLive),
          Layer.provide(
            ConfigProvider.layer(
              ConfigProvider.fromEnv({
                env: {
                  MYSQL_URL: `mysql://${user}@${target.host}:${target.port}/${target.database}`,
                  MYSQL_PASSWORD: password,
                  MYSQL_SSL_MODE: "VERIFY_CA",
                  MYSQL_SSL_CA: target.tls.ca.path,
                  MYSQL_SSL_CERT: target.tls.cert.path,
                  MYSQL_SSL_KEY: target.tls.key.path
                }
              })
            )
          )
        )
      )
    )
  )

  it.effect("a bad option or URL fails the layer with a message naming it, without the password", () =>
    Effect.gen(function* () {
      const badUrl = yield* Effect.flip(
        Layer.build(
          MysqlClient.layerFromUrl(`mysql://u:${encodedPassword}@${target.host}/db?ssl-mode=sometimes`).pipe(
            Layer.provide(TransportLive)
          )
        )
      )
      assert.strictEqual(badUrl.reason._tag, "ConnectionError")
      assert.include(badUrl.message, "ssl-mode")
      assert.notInclude(badUrl.message, password)
      const missingFile = yield* Effect.flip(
        Layer.build(
          MysqlClient.layerFromUrl(`mysql://u@${target.host}/db?ssl-ca=/nonexistent/ca.pem`).pipe(
            Layer.provide(TransportLive)
          )
        )
      )
      assert.include(missingFile.message, "ssl-ca: cannot read /nonexistent/ca.pem")
      const badOption = yield* Effect.flip(Layer.build(clientLayer("plain", { maxConnections: 0 })))
      assert.include(badOption.message, "maxConnections")
      const refused = yield* Effect.flip(Layer.build(clientLayer("plain", { password: "not-the-password" })))
      assert.strictEqual(refused.reason._tag, "AuthenticationError")
      assert.notInclude(JSON.stringify(refused), "not-the-password")
    }).pipe(Effect.scoped)
  )

  it.effect("spans carry db.* attributes and the statement text, never its values", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recordingTracer()
      const sql = yield* SqlClient.SqlClient
      yield* sql`SELECT ${"secret-value"} AS v`.pipe(Effect.withTracer(tracer))
      const span = spans.find((s) => s.attributes.get("db.query.text") !== undefined)!
      assert.strictEqual(span.attributes.get("db.system.name"), "mariadb")
      assert.strictEqual(span.attributes.get("db.namespace"), target.database)
      assert.strictEqual(span.attributes.get("server.address"), target.host)
      assert.strictEqual(span.attributes.get("server.port"), target.port)
      assert.strictEqual(span.attributes.get("db.query.text"), "SELECT ? AS v")
      for (const s of spans) assert.notInclude(JSON.stringify([...s.attributes]), "secret-value")
    }).pipe(Effect.provide(clientLayer("plain")))
  )
})
