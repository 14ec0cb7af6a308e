// Batches against the real MariaDB of the run: COM_STMT_BULK_EXECUTE, its packets split at
// max_allowed_packet, the per-row path, failures, and `sql.insert(rows)` through the SqlClient.
import { assert, describe, it } from "@effect/vitest"
import { ComStmtExecute } from "@effect-mysql/protocol"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import * as MysqlClient from "../src/MysqlClient.ts"
import type * as MysqlConnection from "../src/MysqlConnection.ts"
import { clientLayer, connect, dedicatedServer, optionsFor, TransportLive } from "./support.ts"

const plain = optionsFor("plain", { ssl: { mode: "disabled" } })

/** Statements executed and prepared on the session so far. */
const statementCounts = (conn: MysqlConnection.MysqlConnection) =>
  Effect.map(
    conn.query<{ Variable_name: string; Value: string }>(
      "SHOW SESSION STATUS WHERE Variable_name IN ('Com_stmt_execute', 'Com_stmt_prepare')"
    ),
    (result) => Object.fromEntries(result.rows.map((row) => [row.Variable_name, Number(row.Value)]))
  )

describe("MysqlConnection.batch on MariaDB", () => {
  it.effect("inserts 10,000 rows in one bulk command and reads them back", () =>
    Effect.gen(function* () {
      const conn = yield* connect(plain)
      yield* conn.query(
        "CREATE TEMPORARY TABLE b_many (id INT AUTO_INCREMENT PRIMARY KEY, n INT, s VARCHAR(40), d DOUBLE)"
      )
      yield* conn.query("INSERT INTO b_many (n) VALUES (0)")
      const rows = Array.from({ length: 10_000 }, (_, i) => [i + 1, `row ${i + 1} é`, i / 4])
      const before = yield* statementCounts(conn)
      const result = yield* conn.batch("INSERT INTO b_many (n, s, d) VALUES (?, ?, ?)", rows)
      const after = yield* statementCounts(conn)
      assert.strictEqual(result.affectedRows, 10_000)
      assert.strictEqual(result.insertId, 2) // the first row's id
      assert.deepStrictEqual(result.rows, [])
      // One prepare and one execution (COM_STMT_BULK_EXECUTE counts as one), not one per row.
      assert.strictEqual(after.Com_stmt_prepare! - before.Com_stmt_prepare!, 1)
      assert.strictEqual(after.Com_stmt_execute! - before.Com_stmt_execute!, 1)
      const back = yield* conn.query<ReadonlyArray<unknown>>("SELECT n, s, d FROM b_many WHERE id > 1 ORDER BY id", {
        rowShape: "array"
      })
      assert.deepStrictEqual(back.rows, rows)
    }).pipe(Effect.scoped)
  )

  it.effect("sends NULLs and every common type as execute does", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ ...plain, types: { timeZone: "Z", bigint: "bigint", decimal: "string" } })
      yield* conn.query(
        `CREATE TEMPORARY TABLE b_types (id INT AUTO_INCREMENT PRIMARY KEY, t TINYINT, big BIGINT,
         ubig BIGINT UNSIGNED, dec_ DECIMAL(20, 4), dbl DOUBLE, s VARCHAR(50), bin VARBINARY(20),
         dt DATETIME(3), tm TIME, j JSON, flag BOOLEAN)`
      )
      const columns = "t, big, ubig, dec_, dbl, s, bin, dt, tm, j, flag"
      const rows: Array<ReadonlyArray<ComStmtExecute.ParameterValue>> = [
        [
          -128,
          -(2n ** 63n),
          2n ** 64n - 1n,
          ComStmtExecute.typedParameter(246, "-12345.6789"),
          1.5,
          "ünïcødé 🚀",
          new Uint8Array([0, 1, 255]),
          new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789)),
          ComStmtExecute.typedParameter(11, "-838:59:59"),
          { a: [1, "x"] },
          true
        ],
        [null, null, null, null, null, null, null, null, null, null, null],
        [
          127,
          2n ** 63n - 1n,
          0n,
          ComStmtExecute.typedParameter(246, "0.0001"),
          -0.25,
          "",
          new Uint8Array(0),
          new Date(Date.UTC(1970, 0, 1)),
          ComStmtExecute.typedParameter(11, "00:00:01"),
          [],
          false
        ]
      ]
      const insert = (table: string) => `INSERT INTO ${table} (${columns}) VALUES (?,?,?,?,?,?,?,?,?,?,?)`
      const result = yield* conn.batch(insert("b_types"), rows)
      assert.strictEqual(result.affectedRows, 3)
      // The same rows executed one by one, into a twin table: both hold the same values.
      yield* conn.query("CREATE TEMPORARY TABLE b_types_each LIKE b_types")
      yield* Effect.forEach(rows, (row) => conn.execute(insert("b_types_each"), row))
      const read = (table: string) =>
        Effect.map(
          conn.query<ReadonlyArray<unknown>>(`SELECT ${columns} FROM ${table} ORDER BY id`, {
            rowShape: "array",
            types: { json: "parse" }
          }),
          (r) => r.rows
        )
      const batched = yield* read("b_types")
      assert.deepStrictEqual(batched, yield* read("b_types_each"))
      assert.deepStrictEqual(batched[0], [
        -128,
        -(2n ** 63n),
        2n ** 64n - 1n,
        "-12345.6789",
        1.5,
        "ünïcødé 🚀",
        new Uint8Array([0, 1, 255]),
        new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789)),
        "-838:59:59",
        { a: [1, "x"] },
        1
      ])
      assert.deepStrictEqual(batched[1], Array(11).fill(null))
    }).pipe(Effect.scoped)
  )

  it.effect(
    "a duplicate key fails with a typed ServerError, writes none of its command's rows, and keeps the connection",
    () =>
      Effect.gen(function* () {
        const conn = yield* connect(plain)
        yield* conn.query("CREATE TEMPORARY TABLE b_dup (id INT PRIMARY KEY, s VARCHAR(10))")
        yield* conn.query("INSERT INTO b_dup VALUES (3, 'old')")
        const error = yield* Effect.flip(
          conn.batch("INSERT INTO b_dup VALUES (?, ?)", [
            [1, "a"],
            [2, "b"],
            [3, "c"],
            [4, "d"]
          ])
        )
        assert.strictEqual(error._tag, "ServerError")
        if (error._tag !== "ServerError") return
        assert.strictEqual(error.errno, 1062)
        assert.strictEqual(error.code, "ER_DUP_ENTRY")
        assert.isUndefined(conn.failure)
        const rows = yield* conn.query("SELECT id FROM b_dup ORDER BY id")
        assert.deepStrictEqual(rows.rows, [{ id: 3 }])
        assert.strictEqual((yield* conn.batch("INSERT INTO b_dup VALUES (?, ?)", [[5, "e"]])).affectedRows, 1)
      }).pipe(Effect.scoped)
  )

  it.effect("refuses unequal rows and values with no SQL form before anything is sent", () =>
    Effect.gen(function* () {
      const conn = yield* connect(plain)
      yield* conn.query("CREATE TEMPORARY TABLE b_refused (a INT, b INT)")
      const sql = "INSERT INTO b_refused VALUES (?, ?)"
      const before = yield* statementCounts(conn)
      const uneven = yield* Effect.flip(conn.batch(sql, [[1, 2], [3]]))
      assert.strictEqual(uneven._tag, "ArgumentError")
      assert.include(uneven.message, "row 2 has 1 value(s), row 1 has 2")
      const nan = yield* Effect.flip(
        conn.batch(sql, [
          [1, 2],
          [3, Number.NaN]
        ])
      )
      assert.strictEqual(nan._tag, "ArgumentError")
      assert.include(nan.message, "row 2, parameter 2")
      const wrongWidth = yield* Effect.flip(conn.batch(sql, [[1, 2, 3]]))
      assert.strictEqual(wrongWidth._tag, "ArgumentError")
      const after = yield* statementCounts(conn)
      assert.strictEqual(after.Com_stmt_execute, before.Com_stmt_execute)
      assert.deepStrictEqual((yield* conn.query("SELECT COUNT(*) AS n FROM b_refused")).rows, [{ n: 0 }])
      assert.isUndefined(conn.failure)
      const empty = yield* conn.batch(sql, [])
      assert.strictEqual(empty.affectedRows, 0)
    }).pipe(Effect.scoped)
  )

  it.effect("updates in bulk, and runs a statement that returns rows once per row", () =>
    Effect.gen(function* () {
      const conn = yield* connect(plain)
      yield* conn.query("CREATE TEMPORARY TABLE b_upd (id INT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(10))")
      const inserted = yield* conn.batch("INSERT INTO b_upd (s) VALUES (?) RETURNING id, s", [["a"], ["b"], ["c"]])
      assert.deepStrictEqual(inserted.rows, [
        { id: 1, s: "a" },
        { id: 2, s: "b" },
        { id: 3, s: "c" }
      ])
      const updated = yield* conn.batch("UPDATE b_upd SET s = ? WHERE id = ?", [
        ["x", 1],
        ["y", 3],
        ["z", 99]
      ])
      assert.strictEqual(updated.affectedRows, 2)
      assert.deepStrictEqual((yield* conn.query("SELECT s FROM b_upd ORDER BY id")).rows, [
        { s: "x" },
        { s: "b" },
        { s: "y" }
      ])
    }).pipe(Effect.scoped)
  )

  it.effect("a column of integers and fractions, and one of changing kinds, round trip", () =>
    Effect.gen(function* () {
      const conn = yield* connect(plain)
      yield* conn.query("CREATE TEMPORARY TABLE b_mixed (d DOUBLE, s VARCHAR(20))")
      const rows = [
        [1, "a"],
        [1.5, 2],
        [2, null],
        [null, true]
      ]
      const before = yield* statementCounts(conn)
      assert.strictEqual((yield* conn.batch("INSERT INTO b_mixed VALUES (?, ?)", rows)).affectedRows, 4)
      const after = yield* statementCounts(conn)
      // Integers and fractions go as DOUBLE together; text, a number and a boolean take three commands.
      assert.strictEqual(after.Com_stmt_execute! - before.Com_stmt_execute!, 3)
      assert.deepStrictEqual(
        (yield* conn.query<ReadonlyArray<unknown>>("SELECT d, s FROM b_mixed", { rowShape: "array" })).rows,
        [
          [1, "a"],
          [1.5, "2"],
          [2, null],
          [null, "1"]
        ]
      )
    }).pipe(Effect.scoped)
  )
})

describe("batches larger than max_allowed_packet", () => {
  const smallPacketServer = Effect.map(
    dedicatedServer(["--max-allowed-packet=1M"], { ssl: { mode: "disabled" } }),
    ({ options }) => options
  )

  const wide = (n: number) => Array.from({ length: n }, (_, i) => ({ n: i, s: `${i}:${"x".repeat(1000)}` }))

  it.live(
    "go as several bulk commands, each within the limit, and as multi-row INSERTs through sql.insert",
    () =>
      Effect.gen(function* () {
        const options = yield* smallPacketServer
        const conn = yield* connect(options)
        yield* conn.query("CREATE TABLE big (n INT PRIMARY KEY, s VARCHAR(2000))")
        const records = wide(3000) // about 3 MB
        const rows = records.map(({ n, s }) => [n, s])
        const before = yield* statementCounts(conn)
        const result = yield* conn.batch("INSERT INTO big VALUES (?, ?)", rows)
        const after = yield* statementCounts(conn)
        assert.strictEqual(result.affectedRows, 3000)
        assert.isAtLeast(after.Com_stmt_execute! - before.Com_stmt_execute!, 3)
        const check = yield* conn.query("SELECT COUNT(*) AS n, SUM(LENGTH(s)) AS len FROM big")
        assert.deepStrictEqual(check.rows, [{ n: 3000, len: String(records.reduce((a, { s }) => a + s.length, 0)) }])
        yield* conn.query("TRUNCATE TABLE big")
        // The same rows through effect/sql: one statement of 6,000 placeholders and 3 MB.
        const inserted = yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          yield* sql`INSERT INTO big ${sql.insert(records as [(typeof records)[0], ...typeof records])}`
          return yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM big`
        }).pipe(Effect.provide(MysqlClient.layer(options).pipe(Layer.provide(TransportLive))))
        assert.deepStrictEqual(inserted, [{ n: 3000 }])
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "that take several commands are one transaction: a failing row in the last command leaves nothing written",
    () =>
      Effect.gen(function* () {
        const options = yield* smallPacketServer
        const conn = yield* connect(options)
        yield* conn.query("CREATE TABLE big (n INT PRIMARY KEY, s VARCHAR(2000))")
        const rows = wide(3000).map(({ n, s }): Array<ComStmtExecute.ParameterValue> => [n, s])
        rows.push([0, "a duplicate of the first row's key"])
        const error = yield* Effect.flip(conn.batch("INSERT INTO big VALUES (?, ?)", rows))
        assert.strictEqual(error._tag, "ServerError")
        if (error._tag === "ServerError") assert.strictEqual(error.errno, 1062)
        assert.isFalse(conn.inTransaction)
        assert.deepStrictEqual((yield* conn.query("SELECT COUNT(*) AS n FROM big")).rows, [{ n: 0 }])
        // The same through effect/sql's sql.insert, which goes as a batch.
        const records = wide(3000)
        records.push({ n: 0, s: "again a duplicate" })
        const failed = yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          return yield* Effect.flip(
            sql`INSERT INTO big ${sql.insert(records as [(typeof records)[0], ...typeof records])}`
          )
        }).pipe(Effect.provide(MysqlClient.layer(options).pipe(Layer.provide(TransportLive))))
        assert.strictEqual(failed._tag, "SqlError")
        assert.deepStrictEqual((yield* conn.query("SELECT COUNT(*) AS n FROM big")).rows, [{ n: 0 }])
      }).pipe(Effect.scoped),
    60_000
  )
})

describe("MysqlClient.batch", () => {
  it.effect("runs on the transaction's connection inside one", () =>
    Effect.gen(function* () {
      const client = yield* MysqlClient.MysqlClient
      yield* client`CREATE OR REPLACE TABLE b_client (n INT)`
      const error = yield* Effect.flip(
        client.withTransaction(
          Effect.andThen(
            client.batch("INSERT INTO b_client VALUES (?)", [[1], [2]]),
            Effect.fail("rolled back" as const)
          )
        )
      )
      assert.strictEqual(error, "rolled back")
      assert.deepStrictEqual(yield* client`SELECT COUNT(*) AS n FROM b_client`, [{ n: 0 }])
      const result = yield* client.batch("INSERT INTO b_client VALUES (?)", [[1], [2], [3]])
      assert.strictEqual(result.affectedRows, 3)
      assert.deepStrictEqual(yield* client`SELECT COUNT(*) AS n FROM b_client`, [{ n: 3 }])
      const refused = yield* Effect.flip(client.batch("INSERT INTO b_client VALUES (?)", [[1], []]))
      assert.strictEqual(refused._tag, "SqlError")
      yield* client`DROP TABLE b_client`
    }).pipe(Effect.provide(clientLayer("plain")))
  )
})
