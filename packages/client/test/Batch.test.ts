// Which statements a batch may rewrite, and how `sql.insert(rows)` is recognised.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Statement from "effect/sql/Statement"
import { combine, multiRowInsert, simpleInsert } from "../src/internal/Batch.ts"
import { makeCompiler } from "../src/MysqlCompiler.ts"

describe("simpleInsert", () => {
  it("takes a plain INSERT or REPLACE … VALUES (?, …) and nothing after it", () => {
    assert.deepStrictEqual(simpleInsert("INSERT INTO `t` (a, b) VALUES (?, ?)"), {
      prefix: "INSERT INTO `t` (a, b) VALUES ",
      placeholders: 2
    })
    assert.deepStrictEqual(simpleInsert(" insert ignore into t value(?);"), {
      prefix: " insert ignore into t value",
      placeholders: 1
    })
    assert.strictEqual(simpleInsert("REPLACE INTO t VALUES (?,?,?)")?.placeholders, 3)
  })

  it("leaves alone what a multi-row rewrite could change", () => {
    for (const sql of [
      "INSERT INTO t VALUES (?, ?) ON DUPLICATE KEY UPDATE b = VALUES(b)",
      "INSERT INTO t VALUES (?, ?) RETURNING id",
      "INSERT INTO t VALUES (?, 'x')",
      "INSERT INTO t VALUES (?, NOW())",
      "INSERT INTO t SELECT ? FROM dual",
      "INSERT INTO t /* VALUES (?) */ VALUES (?)",
      "INSERT INTO t -- VALUES\n VALUES (?)",
      "INSERT INTO `a?` VALUES (?)",
      "INSERT INTO t (a) VALUES (?); DELETE FROM t",
      "UPDATE t SET a = ?"
    ]) {
      assert.isUndefined(simpleInsert(sql), sql)
    }
  })
})

describe("multiRowInsert", () => {
  const compile = (rows: ReadonlyArray<Record<string, unknown>>) => {
    const sql = Statement.make(Effect.die("unused"), makeCompiler(), [], undefined)
    return sql`INSERT INTO ${sql("t")} ${sql.insert(rows as [Record<string, unknown>])}`.compile()
  }

  it("splits what sql.insert(rows) compiles to into a single-row statement and rows", () => {
    const [sql, params] = compile([
      { a: 1, b: "x" },
      { a: 2, b: null },
      { a: 3, b: "z" }
    ])
    assert.deepStrictEqual(multiRowInsert(sql, params as never), {
      sql: "INSERT INTO `t` (`a`,`b`) VALUES (?,?)",
      rows: [
        [1, "x"],
        [2, null],
        [3, "z"]
      ]
    })
  })

  it("leaves a single row, and anything after the tuples, as it is", () => {
    const [one, params] = compile([{ a: 1 }])
    assert.isUndefined(multiRowInsert(one, params as never))
    assert.isUndefined(multiRowInsert("INSERT INTO t VALUES (?),(?) RETURNING id", [1, 2]))
    assert.isUndefined(multiRowInsert("INSERT INTO t VALUES (?),(?) ON DUPLICATE KEY UPDATE a = 1", [1, 2]))
    assert.isUndefined(multiRowInsert("INSERT INTO t VALUES (?,?),(?)", [1, 2, 3]))
    assert.isUndefined(multiRowInsert("SELECT ?", [1]))
  })
})

describe("combine", () => {
  it("sums counts, keeps the first insert id and the last status", () => {
    const result = (affectedRows: number | bigint, insertId: number, statusFlags: number) => ({
      columns: [],
      rows: [],
      affectedRows,
      insertId,
      changedRows: 1,
      warningCount: 2,
      statusFlags,
      info: "",
      sessionStateChanges: []
    })
    const combined = combine([result(2, 0, 1), result(3n, 7, 2), result(1, 9, 3)])
    assert.strictEqual(combined.affectedRows, 6n)
    assert.strictEqual(combined.insertId, 7)
    assert.strictEqual(combined.changedRows, 3)
    assert.strictEqual(combined.warningCount, 6)
    assert.strictEqual(combined.statusFlags, 3)
  })
})
