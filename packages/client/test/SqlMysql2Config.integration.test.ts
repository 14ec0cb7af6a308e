// @effect/sql-mysql2's config against the run's server: its names connect, `config` keeps what
// was given with the secrets Redacted, and `disablePreparedStatements` sends no COM_STMT_PREPARE.

import { assert, describe, it } from "@effect/vitest"
import { TestAccounts } from "@effect-mysql/testing"
import { Effect, Layer, Redacted, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { MysqlClient } from "../src/index.ts"
import { clientLayer, TransportLive, target } from "./support.ts"

const { user, password } = TestAccounts.plain
const url = `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${target.host}:${target.port}/${target.database}`

const layerOf = (options: MysqlClient.MysqlClientOptions) =>
  MysqlClient.layer(options).pipe(Layer.provide(TransportLive))

describe("@effect/sql-mysql2's config", () => {
  it.effect("url as Redacted, username and connectionTTL connect", () =>
    Effect.gen(function* () {
      const sql = yield* MysqlClient.MysqlClient
      const [row] = yield* sql<{ who: string; db: string }>`SELECT CURRENT_USER() AS who, DATABASE() AS db`
      assert.isTrue(row!.who.startsWith(`${user}@`))
      assert.strictEqual(row!.db, target.database)
      assert.isTrue(Redacted.isRedacted(sql.config.url))
    }).pipe(Effect.provide(layerOf({ url: Redacted.make(url), connectionTTL: "1 minute", maxConnections: 2 })))
  )

  it.effect("options given beside the url win over it", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ db: string | null }>`SELECT DATABASE() AS db`
      assert.strictEqual(row!.db, "information_schema")
    }).pipe(Effect.provide(layerOf({ url, database: "information_schema" })))
  )

  it.effect("config holds the options as given, passwords and a string url Redacted", () =>
    Effect.gen(function* () {
      const sql = yield* MysqlClient.MysqlClient
      assert.strictEqual(sql.config.username, user)
      assert.strictEqual(sql.config.host, target.host)
      assert.isTrue(Redacted.isRedacted(sql.config.password))
      assert.strictEqual(Redacted.value(sql.config.password as Redacted.Redacted<string>), password)
      assert.notInclude(JSON.stringify(sql.config), password)
    }).pipe(
      Effect.provide(
        layerOf({ host: target.host, port: target.port, database: target.database, username: user, password })
      )
    )
  )

  it.effect("config holds a client certificate's key Redacted", () =>
    Effect.gen(function* () {
      const sql = yield* MysqlClient.MysqlClient
      assert.isTrue(Redacted.isRedacted(sql.config.ssl?.key))
      assert.strictEqual(sql.config.ssl?.cert, target.tls.cert.pem)
      assert.notInclude(JSON.stringify(sql.config), target.tls.key.pem.split("\n")[1]!)
    }).pipe(
      Effect.provide(
        layerOf({
          host: target.host,
          port: target.port,
          database: target.database,
          username: TestAccounts.x509.user,
          password: TestAccounts.x509.password,
          ssl: { mode: "verify-identity", ca: target.tls.ca.pem, cert: target.tls.cert.pem, key: target.tls.key.pem }
        })
      )
    )
  )
})

/** What the statements of `run` do, and how many prepares the client's one connection counted. */
const preparesDuring = (disablePreparedStatements: boolean) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE OR REPLACE TABLE dropin_text (id INT PRIMARY KEY, name VARCHAR(40), note TEXT)`
    yield* sql`INSERT INTO dropin_text ${sql.insert([
      { id: 1, name: "ada", note: "it's \\ a 'quote'" },
      { id: 2, name: "grace", note: null }
    ])}`
    const rows = yield* sql`SELECT id, name, note FROM dropin_text WHERE id >= ${1} ORDER BY id`
    const values = yield* sql`SELECT name FROM dropin_text WHERE name = ${"grace"}`.values
    const streamed = yield* Stream.runCollect(sql`SELECT id FROM dropin_text WHERE id > ${0} ORDER BY id`.stream)
    const inTransaction = yield* sql.withTransaction(sql`SELECT COUNT(*) AS n FROM dropin_text WHERE id <> ${9}`)
    const [status] = yield* sql<{ Value: string }>`SHOW SESSION STATUS LIKE 'Com_stmt_prepare'`
    yield* sql`DROP TABLE dropin_text`
    return { results: { rows, values, streamed, inTransaction }, prepares: Number(status!.Value) }
  }).pipe(Effect.provide(clientLayer("plain", { maxConnections: 1, disablePreparedStatements })))

describe("disablePreparedStatements", () => {
  it.effect("sends every statement as text, with the same results as prepared statements", () =>
    Effect.gen(function* () {
      const prepared = yield* preparesDuring(false)
      const text = yield* preparesDuring(true)
      assert.isAbove(prepared.prepares, 0)
      assert.strictEqual(text.prepares, 0)
      assert.deepStrictEqual(text.results, prepared.results)
      assert.deepStrictEqual(text.results.rows, [
        { id: 1, name: "ada", note: "it's \\ a 'quote'" },
        { id: 2, name: "grace", note: null }
      ])
    })
  )
})
