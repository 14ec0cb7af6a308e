// The MySQL statement compiler, through effect/sql's constructor (no connection is used).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Statement from "effect/sql/Statement"
import { MysqlCompiler } from "../src/index.ts"

const compiler = MysqlCompiler.makeCompiler((name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`))
const sql = Statement.make(Effect.die("no connection"), compiler, [], undefined)

describe("MysqlCompiler", () => {
  it("? placeholders and backtick identifiers, transformed", () => {
    assert.deepStrictEqual(
      sql`SELECT ${sql("userId")} FROM ${sql("my.table")} WHERE a = ${1} AND b IN ${sql.in([2, 3])}`.compile(),
      ["SELECT `user_id` FROM `my`.`table` WHERE a = ? AND b IN (?,?)", [1, 2, 3]]
    )
    assert.deepStrictEqual(sql`SELECT ${sql("we`ird")}`.compile(), ["SELECT `we``ird`", []])
  })

  it("insert, update and updateValues", () => {
    assert.deepStrictEqual(sql`INSERT INTO t ${sql.insert([{ userId: 1 }, { userId: 2 }])}`.compile(), [
      "INSERT INTO t (`user_id`) VALUES (?),(?)",
      [1, 2]
    ])
    assert.deepStrictEqual(sql`UPDATE t SET ${sql.update({ userId: 1, name: "n" }, ["name"])}`.compile(), [
      "UPDATE t SET `user_id` = ?",
      [1]
    ])
    assert.deepStrictEqual(
      sql`UPDATE t JOIN ${sql.updateValues(
        [
          { id: 1, firstName: "a" },
          { id: 2, firstName: "b" }
        ],
        "data"
      )} ON t.id = data.id`.compile(),
      [
        "UPDATE t JOIN (SELECT ? AS `id`, ? AS `first_name` UNION ALL SELECT ?, ?) AS `data` ON t.id = data.id",
        [1, "a", 2, "b"]
      ]
    )
  })
})
