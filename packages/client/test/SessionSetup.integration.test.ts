// `sessionVariables` and `initSql` against the run's server: set at login, set again after every
// reset (COM_RESET_CONNECTION, COM_CHANGE_USER, a pool's reset), refused when they cannot work.
import { assert, describe, it } from "@effect/vitest"
import { TestAccounts } from "@effect-mysql/testing"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import type { MysqlConnection } from "../src/MysqlConnection.ts"
import { clientLayer, connect, optionsFor } from "./support.ts"

const setup = {
  sessionVariables: { time_zone: "+05:30", div_precision_increment: 9, sql_mode: "ANSI_QUOTES,STRICT_ALL_TABLES" },
  initSql: ["SET @app = 'orders'", "SET @started = 1"]
} as const

const session = (connection: MysqlConnection) =>
  Effect.map(
    connection.query<{ zone: string; precision: number; mode: string; app: string | null }>(
      "SELECT @@session.time_zone AS zone, @@session.div_precision_increment AS `precision`, " +
        "@@session.sql_mode AS mode, @app AS app"
    ),
    (result) => {
      const row = result.rows[0]!
      return { zone: row.zone, precision: Number(row.precision), mode: row.mode, app: row.app }
    }
  )

const expected = { zone: "+05:30", precision: 9, mode: "ANSI_QUOTES,STRICT_ALL_TABLES", app: "orders" }

describe("session set-up", () => {
  it.effect("is in place after login, and again after resetConnection and changeUser", () =>
    Effect.gen(function* () {
      const connection = yield* connect(optionsFor("plain", setup))
      assert.deepStrictEqual(yield* session(connection), expected)
      yield* connection.query("SET SESSION time_zone = '+00:00', @app = 'changed'")
      yield* connection.resetConnection
      assert.deepStrictEqual(yield* session(connection), expected)
      yield* connection.query("SET @app = 'changed'")
      yield* connection.changeUser({ user: TestAccounts.plain.user, password: TestAccounts.plain.password })
      assert.deepStrictEqual(yield* session(connection), expected)
    })
  )

  it.effect("a pool's connections have it, also after the pool resets them", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const read = sql<{ zone: string; app: string }>`SELECT @@session.time_zone AS zone, @app AS app`
      for (let i = 0; i < 3; i++) {
        yield* sql`SET @app = 'changed'`
        assert.deepStrictEqual(yield* read, [{ zone: "+05:30", app: "orders" }])
      }
    }).pipe(Effect.provide(clientLayer("plain", { ...setup, maxConnections: 1, resetOnRelease: true })))
  )

  it.effect("a name that is no variable's is refused before connecting; a failing statement fails the connect", () =>
    Effect.gen(function* () {
      const badName = yield* Effect.flip(
        Effect.scoped(connect(optionsFor("plain", { sessionVariables: { "time_zone = 0; DROP": "x" } })))
      )
      assert.strictEqual(badName._tag, "ConfigError")
      assert.include(badName.message, "sessionVariables.time_zone = 0; DROP")
      const badSql = yield* Effect.flip(Effect.scoped(connect(optionsFor("plain", { initSql: "SELEC 1" }))))
      assert.strictEqual(badSql._tag, "ServerError")
      const badValue = yield* Effect.flip(
        Effect.scoped(connect(optionsFor("plain", { sessionVariables: { time_zone: "no/such'zone" } })))
      )
      assert.strictEqual(badValue._tag, "ServerError")
      assert.include(badValue.message, "no/such'zone")
    })
  )
})
