// What a connection knows after the server said no, against the real MariaDB of the run: the
// transaction a deadlock rolled back, the statements an uncached execute leaves behind, the error
// of a database that does not exist, a password source that fails, and the hint of a refused login.
import { assert, describe, it } from "@effect/vitest"
import { TestAccounts } from "@effect-mysql/testing"
import { Effect, Exit, Redacted, Stream } from "effect"
import * as Cause from "effect/Cause"
import { SqlClient } from "effect/sql"
import { MysqlClient, type MysqlConnection } from "../src/index.ts"
import { connect, dedicatedServer, optionsFor, TransportLive, verifyIdentity } from "./support.ts"

const sessionStatus = (conn: MysqlConnection.MysqlConnection, name: string) =>
  Effect.map(conn.query<{ Value: string }>(`SHOW SESSION STATUS LIKE '${name}'`), (result) =>
    Number(result.rows[0]!.Value)
  )

describe("statementCacheSize: 0", () => {
  it.effect("closes each statement after its execution: the server holds none of them", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain", { statementCacheSize: 0 }))
      for (let n = 0; n < 20; n++) {
        const result = yield* conn.execute<{ n: number }>(`SELECT ${n} + ? AS n`, [1])
        assert.strictEqual(Number(result.rows[0]!.n), n + 1)
      }
      // An execution the server refuses leaves its statement behind just the same.
      const error = yield* Effect.flip(conn.execute("SELECT (SELECT ? UNION SELECT 2) AS n", [1]))
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual(yield* sessionStatus(conn, "Com_stmt_prepare"), 21)
      assert.strictEqual(yield* sessionStatus(conn, "Com_stmt_close"), 21)
    })
  )

  it.effect("closes a streamed statement once the stream is done", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain", { statementCacheSize: 0 }))
      for (let n = 0; n < 3; n++) {
        const rows = yield* Stream.runCollect(conn.stream(`SELECT ${n} + ? AS n`, [1]))
        assert.strictEqual(rows.length, 1)
      }
      // Ended before its last row.
      yield* Stream.runCollect(Stream.take(conn.stream("SELECT seq FROM seq_1_to_1000 WHERE seq > ?", [0]), 1))
      assert.strictEqual(yield* sessionStatus(conn, "Com_stmt_close"), 4)
    })
  )
})

describe("a deadlock", () => {
  it.live("rolls the transaction back on the server, and the victim no longer says it is in one", () =>
    Effect.gen(function* () {
      const a = yield* connect(optionsFor("plain"))
      const b = yield* connect(optionsFor("plain"))
      yield* a.query("CREATE OR REPLACE TABLE deadlock_tx (id INT PRIMARY KEY, v INT) ENGINE=InnoDB")
      yield* a.query("INSERT INTO deadlock_tx VALUES (1, 0), (2, 0)")
      yield* a.query("BEGIN")
      yield* b.query("BEGIN")
      yield* a.query("UPDATE deadlock_tx SET v = 1 WHERE id = 1")
      yield* b.query("UPDATE deadlock_tx SET v = 2 WHERE id = 2")
      assert.isTrue(a.inTransaction)
      assert.isTrue(b.inTransaction)
      // Each waits for the other's row: InnoDB picks one as the victim and rolls its transaction back.
      const [first, second] = yield* Effect.all(
        [
          Effect.exit(a.query("UPDATE deadlock_tx SET v = 1 WHERE id = 2")),
          Effect.exit(Effect.andThen(Effect.sleep("100 millis"), b.query("UPDATE deadlock_tx SET v = 2 WHERE id = 1")))
        ],
        { concurrency: "unbounded" }
      )
      const [victim, survivor] = Exit.isFailure(first) ? [a, b] : [b, a]
      const failed = Exit.isFailure(first) ? first : second
      assert.isTrue(Exit.isFailure(failed))
      if (Exit.isFailure(failed)) {
        const error = Cause.findErrorOption(failed.cause)
        assert.strictEqual(error._tag === "Some" ? (error.value as { errno?: number }).errno : undefined, 1213)
      }
      assert.isFalse(victim.inTransaction)
      assert.isTrue(survivor.inTransaction)
      const server = yield* victim.query<{ t: number }>("SELECT @@in_transaction AS t")
      assert.strictEqual(Number(server.rows[0]!.t), 0)
      yield* survivor.query("ROLLBACK")
      yield* a.query("DROP TABLE deadlock_tx")
    })
  )
})

describe("an unknown database", () => {
  it.effect("is a ConnectionError through SqlClient, not a syntax error", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        Effect.scoped(
          Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`).pipe(
            // root may see every database, so the server answers 1049 rather than 1044 (access denied).
            Effect.provide(MysqlClient.layer({ ...optionsFor("root"), database: "no_such_database" })),
            Effect.provide(TransportLive)
          )
        )
      )
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isSuccess(exit)) return
      const error = Cause.findErrorOption(exit.cause)
      assert.strictEqual(error._tag, "Some")
      if (error._tag !== "Some") return
      const sqlError = error.value as { _tag: string; reason: { _tag: string; cause: unknown } }
      assert.strictEqual(sqlError._tag, "SqlError")
      assert.strictEqual(sqlError.reason._tag, "ConnectionError")
      assert.strictEqual((sqlError.reason.cause as { errno?: number }).errno, 1049)
    })
  )
})

describe("a password given as an Effect", () => {
  it.effect("that fails gives a typed AuthenticationError carrying the failure, not a defect", () =>
    Effect.gen(function* () {
      const tokenFailure = new Error("token service unavailable")
      const exit = yield* Effect.exit(
        Effect.scoped(connect(optionsFor("plain", { password: Effect.fail(tokenFailure) })))
      )
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isSuccess(exit)) return
      assert.isFalse(Cause.hasDies(exit.cause), Cause.pretty(exit.cause))
      const error = Cause.findErrorOption(exit.cause)
      assert.strictEqual(error._tag, "Some")
      if (error._tag !== "Some") return
      assert.strictEqual(error.value._tag, "AuthenticationError")
      if (error.value._tag !== "AuthenticationError") return
      assert.strictEqual(error.value.cause, tokenFailure)
      assert.include(error.value.message, "token service unavailable")
    })
  )

  it.effect("that fails in changeUser leaves the connection as it was", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const error = yield* Effect.flip(
        conn.changeUser({ user: "root", password: Effect.fail(new Error("token service unavailable")) })
      )
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.isUndefined(conn.failure)
      const user = yield* conn.query<{ u: string }>("SELECT CURRENT_USER() AS u")
      assert.strictEqual(user.rows[0]!.u, "plain@%")
    })
  )

  it.effect("that succeeds logs in", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain", { password: Effect.succeed(Redacted.make("plain-secret")) }))
      assert.strictEqual((yield* conn.query("SELECT 1 AS one")).rows.length, 1)
    })
  )
})

describe("a refused login over plaintext", () => {
  // MariaDB answers a wrong password, an unknown user and a REQUIRE SSL account without TLS with the
  // same 1045 and the same message: only the situation says whether TLS could be the reason.
  it.live(
    "to a server without TLS: the hint is about the user, password and host, not REQUIRE SSL",
    () =>
      Effect.gen(function* () {
        const { options } = yield* dedicatedServer(["--skip-ssl"], {
          user: TestAccounts.plain.user,
          password: "wrong",
          ssl: { mode: "preferred" }
        })
        const error = yield* Effect.flip(Effect.scoped(connect(options)))
        assert.strictEqual(error._tag, "AuthenticationError")
        assert.include(error.message, "check the user name and password")
        assert.notInclude(error.message, "REQUIRE SSL")
      }),
    30_000
  )

  it.effect("with TLS turned off against a server that offers it: both causes are named", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Effect.scoped(connect(optionsFor("plain", { password: "wrong", ssl: { mode: "disabled" } })))
      )
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "check the user name and password")
      assert.include(error.message, "REQUIRE SSL")
    })
  )

  it.effect("over TLS: no TLS hint", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Effect.scoped(connect(optionsFor("plain", { password: "wrong", ssl: verifyIdentity })))
      )
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "check the user name and password")
      assert.notInclude(error.message, "REQUIRE SSL")
    })
  )
})
