/**
 * MySQL's binary JSON: documents round-trip, opaque values read as MySQL prints them, malformed
 * and hostile documents fail without throwing; JSON paths and the diffs of partial updates.
 */
import { describe, expect, it } from "@effect/vitest"
import { decodeJsonBinary, encodeJsonBinary, JsonType, jsonText } from "../../src/binlog/JsonBinary.ts"
import { applyJsonDiffs, parseJsonPath } from "../../src/binlog/JsonDiff.ts"
import { writePackedDecimal } from "../../src/binlog/PackedDecimal.ts"
import { ColumnType } from "../../src/ColumnType.ts"
import { Writer } from "../../src/Wire.ts"
import { err, fromHex, ok, toHex } from "../support/bytes.ts"

const roundTrip = (value: unknown) => ok(decodeJsonBinary(ok(encodeJsonBinary(value))))

describe("binary JSON", () => {
  it('writes {"a": 1} as the grammar says: count, size, key entry, inlined int16, key', () => {
    expect(toHex(ok(encodeJsonBinary({ a: 1 })))).toBe("00" + "0100" + "0c00" + "0b000100" + "050100" + "61")
    expect(toHex(ok(encodeJsonBinary([true, "x"])))).toBe("02" + "0200" + "0c00" + "040100" + "0c0a00" + "0178")
  })

  it("round-trips scalars with the smallest integer types", () => {
    const cases: ReadonlyArray<[unknown, number]> = [
      [null, JsonType.LITERAL],
      [true, JsonType.LITERAL],
      [false, JsonType.LITERAL],
      [-32768, JsonType.INT16],
      [70000, JsonType.INT32],
      [-(2 ** 40), JsonType.INT64],
      [2n ** 64n - 1n, JsonType.UINT64],
      [2.5, JsonType.DOUBLE],
      ["héllo 😀", JsonType.STRING],
      ["x".repeat(20000), JsonType.STRING]
    ]
    for (const [value, type] of cases) {
      const bytes = ok(encodeJsonBinary(value))
      expect(bytes[0]).toBe(type)
      const back = ok(decodeJsonBinary(bytes))
      expect(back).toStrictEqual(typeof value === "bigint" ? Number(value) : value)
    }
    expect(ok(decodeJsonBinary(ok(encodeJsonBinary(2n ** 64n - 1n)), true))).toBe(2n ** 64n - 1n)
    expect(ok(decodeJsonBinary(ok(encodeJsonBinary(-(2n ** 63n))), true))).toBe(-(2n ** 63n))
  })

  it("round-trips nested, small and large containers", () => {
    const nested = JSON.parse('{"k": [1, 2.5, null, "😀", {"deep": [[[]]]}], "": {}, "__proto__": {"own": 1}}')
    expect(roundTrip(nested)).toStrictEqual(nested)
    expect(Object.getPrototypeOf(roundTrip(nested))).toBe(Object.prototype)
    const largeArray = Array.from({ length: 30000 }, (_, i) => (i % 2 === 0 ? i * 1000 : `s${i}`))
    const bytes = ok(encodeJsonBinary(largeArray))
    expect(bytes[0]).toBe(JsonType.LARGE_ARRAY)
    expect(ok(decodeJsonBinary(bytes))).toStrictEqual(largeArray)
    const largeObject = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`key${i}`, { v: i, w: [i, 70000] }]))
    const objectBytes = ok(encodeJsonBinary(largeObject))
    expect(objectBytes[0]).toBe(JsonType.LARGE_OBJECT)
    expect(ok(decodeJsonBinary(objectBytes))).toStrictEqual(largeObject)
  })

  it("keeps keys sorted by length, then bytes, as MySQL does", () => {
    expect(Object.keys(roundTrip({ bb: 1, a: 2, c: 3, aa: 4 }) as object)).toStrictEqual(["a", "c", "aa", "bb"])
  })

  const opaque = (type: number, data: Uint8Array) => Uint8Array.of(JsonType.OPAQUE, type, data.length, ...data)
  const int64 = (v: bigint) => {
    const w = new Writer(8)
    w.int8(BigInt.asUintN(64, v))
    return w.finish()
  }
  const packedDate = (y: number, m: number, d: number, hms = 0n, micro = 0n) =>
    (((BigInt((y * 13 + m) * 32 + d) << 17n) | hms) << 24n) + micro

  it("reads opaque DECIMAL, dates and times as MySQL prints them", () => {
    const decimal = new Writer(8)
    decimal.int1(4).int1(2)
    writePackedDecimal(decimal, "-12.50", 4, 2, "d")
    expect(ok(decodeJsonBinary(opaque(ColumnType.NEWDECIMAL, decimal.finish())))).toBe(-12.5)
    expect(ok(decodeJsonBinary(opaque(ColumnType.DATE, int64(packedDate(2015, 1, 15)))))).toBe("2015-01-15")
    const hms = (23n << 12n) | (24n << 6n) | 25n
    expect(ok(decodeJsonBinary(opaque(ColumnType.DATETIME, int64(packedDate(2015, 1, 15, hms, 1n)))))).toBe(
      "2015-01-15 23:24:25.000001"
    )
    expect(ok(decodeJsonBinary(opaque(ColumnType.TIMESTAMP, int64(packedDate(2038, 1, 19, hms)))))).toBe(
      "2038-01-19 23:24:25.000000"
    )
    const time = -((((838n << 12n) | (59n << 6n) | 59n) << 24n) + 500000n)
    expect(ok(decodeJsonBinary(opaque(ColumnType.TIME, int64(time))))).toBe("-838:59:59.500000")
    expect(ok(decodeJsonBinary(opaque(ColumnType.BLOB, Uint8Array.of(1, 2))))).toBe("base64:type252:AQI=")
    expect(ok(decodeJsonBinary(opaque(ColumnType.VAR_STRING, Uint8Array.of(0x68, 0x69))))).toBe("hi")
  })

  it("reads an empty value as null, and fails on malformed or hostile documents", () => {
    expect(ok(decodeJsonBinary(new Uint8Array(0)))).toBe(null)
    expect(err(decodeJsonBinary(Uint8Array.of(0x0d))).detail).toMatch(/type 0xd/)
    expect(err(decodeJsonBinary(Uint8Array.of(0x04, 0x07))).detail).toMatch(/literal/)
    expect(err(decodeJsonBinary(opaque(ColumnType.NEWDECIMAL, Uint8Array.of(10, 2, 0x80)))).detail).toMatch(/DECIMAL/)
    expect(err(decodeJsonBinary(opaque(ColumnType.NEWDECIMAL, Uint8Array.of(2, 3, 0x80)))).detail).toMatch(/DECIMAL/)
    expect(err(decodeJsonBinary(opaque(ColumnType.DATE, Uint8Array.of(1, 2)))).detail).toMatch(/8 bytes/)
    expect(err(decodeJsonBinary(Uint8Array.of(0x0c, 0xff, 0x01, 0x61))).detail).toMatch(/need/)
    const valid = ok(encodeJsonBinary({ a: [1, 2, { b: "c" }], d: "e" }))
    for (let cut = 1; cut < valid.length; cut++) expect(decodeJsonBinary(valid.subarray(0, cut))._tag).toBe("Failure")
    // An array whose two elements both point at the array itself: an error, not a blow-up.
    expect(err(decodeJsonBinary(fromHex("02 0200 0a00 020000 020000"))).detail).toMatch(/refer to each other/)
    let deep: unknown = 1
    for (let i = 0; i < 200; i++) deep = [deep]
    expect(err(encodeJsonBinary(deep)).detail).toMatch(/deeper/)
  })

  it("prints documents as MySQL does", () => {
    expect(jsonText({ a: [1, 2.5, null, 'x"y'], b: { c: true }, big: 2n ** 64n - 1n })).toBe(
      '{"a": [1, 2.5, null, "x\\"y"], "b": {"c": true}, "big": 18446744073709551615}'
    )
    expect(jsonText([])).toBe("[]")
    expect(jsonText({})).toBe("{}")
  })
})

describe("JSON paths and diffs", () => {
  it("parses the paths MySQL writes", () => {
    expect(parseJsonPath("$")).toStrictEqual([])
    expect(parseJsonPath('$.a[2]."b c".d')).toStrictEqual(["a", 2, "b c", "d"])
    expect(parseJsonPath('$ . "x\\"y" [ 10 ]')).toStrictEqual(['x"y', 10])
    for (const bad of ["a", "$.", "$[x]", "$.*", '$."open', "$a"]) expect(() => parseJsonPath(bad)).toThrow()
  })

  it("applies REPLACE, INSERT and REMOVE as MySQL does", () => {
    const doc = () => ({ a: [1, 2, 3], o: { k: "v" } })
    expect(ok(applyJsonDiffs(doc(), [{ operation: "replace", path: "$.a[0]", value: { x: 1 } }]))).toStrictEqual({
      a: [{ x: 1 }, 2, 3],
      o: { k: "v" }
    })
    expect(ok(applyJsonDiffs(doc(), [{ operation: "insert", path: "$.a[9]", value: 4 }]))).toStrictEqual({
      a: [1, 2, 3, 4],
      o: { k: "v" }
    })
    expect(ok(applyJsonDiffs(doc(), [{ operation: "insert", path: "$.o.n", value: null }]))).toStrictEqual({
      a: [1, 2, 3],
      o: { k: "v", n: null }
    })
    expect(
      ok(
        applyJsonDiffs(doc(), [
          { operation: "remove", path: "$.a[1]" },
          { operation: "remove", path: "$.o.k" }
        ])
      )
    ).toStrictEqual({
      a: [1, 3],
      o: {}
    })
    expect(ok(applyJsonDiffs(doc(), [{ operation: "replace", path: "$", value: 7 }]))).toBe(7)
    expect(err(applyJsonDiffs(doc(), [{ operation: "replace", path: "$.a[5]", value: 1 }])).detail).toMatch(
      /no such element/
    )
    expect(err(applyJsonDiffs(doc(), [{ operation: "remove", path: "$.o.k.z" }])).detail).toMatch(/not an object/)
  })
})
