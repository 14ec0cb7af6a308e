// Parameters written into text SQL: placeholders found only where they are placeholders, values
// escaped for either sql_mode.
import { assert, describe, it } from "@effect/vitest"
import { InterpolationError, interpolate, literal, quoteString } from "../src/internal/Interpolation.ts"

const plain = { noBackslashEscapes: false, timeZone: "Z" }
const ansi = { noBackslashEscapes: true, timeZone: "Z" }

describe("interpolate", () => {
  it("replaces placeholders outside strings, identifiers and comments", () => {
    assert.strictEqual(
      interpolate("SELECT ?, '?', \"?\", `?` -- ?\n, ? /* ? */ # ?\n, ?", [1, 2, 3], plain),
      "SELECT 1, '?', \"?\", `?` -- ?\n, 2 /* ? */ # ?\n, 3"
    )
    assert.strictEqual(interpolate("SELECT 'it\\'s ?', ?", [1], plain), "SELECT 'it\\'s ?', 1")
    assert.strictEqual(interpolate("SELECT 'it''s ?', ?", [1], ansi), "SELECT 'it''s ?', 1")
    // Without NO_BACKSLASH_ESCAPES a backslash before the closing quote escapes it; with it, it does not.
    assert.strictEqual(interpolate("SELECT 'a\\', ?", [1], ansi), "SELECT 'a\\', 1")
  })

  it("escapes strings for the session's sql_mode", () => {
    const hostile = "a'b\\c\0d\ne\rf\x1ag\"h"
    assert.strictEqual(quoteString(hostile, false), "'a\\'b\\\\c\\0d\\ne\\rf\\Zg\\\"h'")
    assert.strictEqual(quoteString(hostile, true), "'a''b\\c\0d\ne\rf\x1ag\"h'")
  })

  it("writes every value type", () => {
    assert.strictEqual(literal(null, plain), "NULL")
    assert.strictEqual(literal(undefined, plain), "NULL")
    assert.strictEqual(literal(true, plain), "TRUE")
    assert.strictEqual(literal(-1.5, plain), "-1.5")
    assert.strictEqual(literal(2n ** 64n, plain), "18446744073709551616")
    assert.strictEqual(literal(new Uint8Array([0, 255, 39]), plain), "X'00ff27'")
    assert.strictEqual(literal(new Date("2024-02-29T13:14:15.123Z"), plain), "'2024-02-29 13:14:15.123'")
    assert.strictEqual(
      literal(new Date("2024-02-29T13:14:15.123Z"), { ...plain, timeZone: "+05:30" }),
      "'2024-02-29 18:44:15.123'"
    )
    assert.strictEqual(literal({ a: "it's" }, plain), '\'{\\"a\\":\\"it\\\'s\\"}\'')
    assert.instanceOf(literal(Number.NaN, plain), InterpolationError)
  })

  it("refuses a value with no SQL form, naming its position, without throwing", () => {
    const circular: Record<string, unknown> = {}
    circular.self = circular
    for (const value of [
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      new Date(Number.NaN),
      Symbol("s"),
      () => 1,
      circular,
      { n: 1n }
    ]) {
      const result = interpolate("SELECT ?, ?", [1, value], plain)
      assert.instanceOf(result, InterpolationError, String(typeof value))
      assert.strictEqual((result as InterpolationError).position, 2)
      assert.match((result as InterpolationError).message, /^parameter 2: /)
    }
  })

  it("refuses a count mismatch", () => {
    assert.instanceOf(interpolate("SELECT ?, ?", [1], plain), InterpolationError)
    assert.instanceOf(interpolate("SELECT ?", [1, 2], plain), InterpolationError)
    assert.strictEqual(interpolate("SELECT '?'", [], plain), "SELECT '?'")
  })
})
