// `:name` placeholders turned into `?` with their values in order: only outside literals, quoted
// identifiers and comments; every name needs a value and every value a name.
import { assert, describe, it } from "@effect/vitest"
import { positional } from "../src/internal/NamedPlaceholders.ts"

describe("named placeholders", () => {
  it("become ? in the order they appear, a name used twice taking its value twice", () => {
    assert.deepStrictEqual(
      positional("SELECT * FROM t WHERE a = :a AND b > :b_2 OR a = :a", { b_2: 5, a: "x" }, true),
      {
        sql: "SELECT * FROM t WHERE a = ? AND b > ? OR a = ?",
        params: ["x", 5, "x"]
      }
    )
  })

  it("are not read inside literals, quoted identifiers and comments, nor in := or a time", () => {
    const sql =
      "SELECT ':no', \"x:no\", `c:no`, '12:30', @v := 1, :yes -- :no\n/* :no */ FROM t # :no\nWHERE d = 'it\\'s :no'"
    const found = positional(sql, { yes: 1 }, true)
    assert.deepStrictEqual(found, {
      sql: "SELECT ':no', \"x:no\", `c:no`, '12:30', @v := 1, ? -- :no\n/* :no */ FROM t # :no\nWHERE d = 'it\\'s :no'",
      params: [1]
    })
  })

  it("follow NO_BACKSLASH_ESCAPES: a backslash then ends no literal", () => {
    // Without backslash escapes, 'a\' is a whole literal and :n after it is a placeholder.
    assert.deepStrictEqual(positional("SELECT 'a\\', :n", { n: 1 }, false), { sql: "SELECT 'a\\', ?", params: [1] })
  })

  it("refuse a name with no value and a value with no name", () => {
    assert.strictEqual(positional("SELECT :a, :b", { a: 1 }, true), "no value for the placeholder :b")
    assert.strictEqual(
      positional("SELECT :a", { a: 1, ab: 2 }, true),
      "the value ab has no :ab placeholder in the statement"
    )
  })

  it("leave values by position as they are", () => {
    assert.deepStrictEqual(positional("SELECT ?", [1], true), { sql: "SELECT ?", params: [1] })
  })
})
