// Batches on a server without MariaDB's bulk execution (MySQL), against the fake server: a plain
// INSERT becomes multi-row INSERTs within max_allowed_packet, anything else runs once per row.
import { assert, describe, it } from "@effect/vitest"
import { FakeServer } from "@effect-mysql/fake-server"
import { ColumnType, makeColumnDefinition } from "@effect-mysql/protocol"
import { Effect } from "effect"
import { connect, optionsFor } from "./fakeSupport.ts"

/** A MySQL server whose max_allowed_packet is `maxAllowedPacket`; it records what it was sent. */
const mysqlServer = (maxAllowedPacket: number, seen: Array<{ sql: string; parameters: ReadonlyArray<unknown> }>) => {
  let inserts = 0
  return FakeServer.start({
    accounts: [{ user: "app", password: "app-secret" }],
    flavor: "mysql",
    cachedUsers: ["app"],
    statements: (sql, context) => {
      if (sql === "SELECT @@max_allowed_packet AS m") {
        return {
          _tag: "ResultSet",
          columns: [makeColumnDefinition({ name: "m", type: ColumnType.LONGLONG })],
          rows: [[BigInt(maxAllowedPacket)]]
        }
      }
      seen.push({ sql, parameters: context.parameters.map((p) => p.value) })
      if (sql.startsWith("INSERT")) {
        const rows = sql.split("),(").length
        return { _tag: "Ok", affectedRows: rows, lastInsertId: 10 * ++inserts }
      }
      if (sql.startsWith("UPDATE")) return { _tag: "Ok", affectedRows: 1 }
      return undefined
    }
  })
}

/** The statements between the BEGIN and COMMIT that make a batch of several commands one transaction. */
const inTransaction = (seen: ReadonlyArray<{ sql: string; parameters: ReadonlyArray<unknown> }>) => {
  assert.strictEqual(seen[0]?.sql, "BEGIN")
  assert.strictEqual(seen.at(-1)?.sql, "COMMIT")
  return seen.slice(1, -1)
}

describe("MysqlConnection.batch without bulk execution", () => {
  it.effect("a plain INSERT goes as multi-row INSERTs, each within max_allowed_packet, values escaped", () =>
    Effect.gen(function* () {
      const seen: Array<{ sql: string; parameters: ReadonlyArray<unknown> }> = []
      const server = yield* mysqlServer(120, seen)
      const conn = yield* connect(optionsFor(server, "app", "app-secret", { ssl: { mode: "disabled" } }))
      const rows = Array.from({ length: 12 }, (_, i) => [i, i % 3 === 0 ? null : `o'k ${i}`])
      const result = yield* conn.batch("INSERT INTO t (a, b) VALUES (?, ?)", rows)
      const statements = inTransaction(seen)
      assert.isAbove(statements.length, 1)
      for (const { sql, parameters } of statements) {
        assert.isAtMost(new TextEncoder().encode(sql).length + 1, 120)
        assert.match(sql, /^INSERT INTO t \(a, b\) VALUES \(/)
        assert.deepStrictEqual(parameters, [])
      }
      const tuples = statements.flatMap(({ sql }) => sql.slice("INSERT INTO t (a, b) VALUES ".length).split("),("))
      assert.deepStrictEqual(
        tuples.map((tuple) => tuple.replace(/^\(|\)$/g, "")),
        rows.map(([a, b]) => `${a},${b === null ? "NULL" : `'${String(b).replace("'", "\\'")}'`}`)
      )
      assert.strictEqual(result.affectedRows, 12)
      assert.strictEqual(result.insertId, 10) // the first statement's
      // A row that alone exceeds max_allowed_packet is refused before anything is sent.
      seen.length = 0
      const error = yield* Effect.flip(conn.batch("INSERT INTO t (a, b) VALUES (?, ?)", [[1, "x".repeat(200)]]))
      assert.strictEqual(error._tag, "ArgumentError")
      assert.include(error.message, "max_allowed_packet")
      assert.deepStrictEqual(seen, [])
      assert.isUndefined(conn.failure)
    })
  )

  it.effect("any other statement is executed once per row, prepared once", () =>
    Effect.gen(function* () {
      const seen: Array<{ sql: string; parameters: ReadonlyArray<unknown> }> = []
      const server = yield* mysqlServer(1 << 20, seen)
      const conn = yield* connect(optionsFor(server, "app", "app-secret", { ssl: { mode: "disabled" } }))
      const result = yield* conn.batch("UPDATE t SET b = ? WHERE a = ?", [
        ["x", 1],
        ["y", 2],
        [null, 3]
      ])
      assert.deepStrictEqual(inTransaction(seen), [
        { sql: "UPDATE t SET b = ? WHERE a = ?", parameters: ["x", 1n] },
        { sql: "UPDATE t SET b = ? WHERE a = ?", parameters: ["y", 2n] },
        { sql: "UPDATE t SET b = ? WHERE a = ?", parameters: [null, 3n] }
      ])
      assert.strictEqual(result.affectedRows, 3)
      const prepares = server.connections[0]!.commands.filter((c) => c._tag === "ComStmtPrepare")
      assert.strictEqual(prepares.length, 1)
    })
  )
})
