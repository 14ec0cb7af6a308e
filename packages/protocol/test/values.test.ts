import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import { encodeBinaryRow, makeBinaryRowDecoder } from "../src/BinaryResultsetRow.ts"
import { ColumnFlag, ColumnType } from "../src/ColumnType.ts"
import { encodeTextRow, makeTextRowDecoder } from "../src/TextResultsetRow.ts"
import { decodeBinaryValue, encodeBinaryValue } from "../src/values/BinaryValue.ts"
import type { ColumnInfo } from "../src/values/ColumnPlan.ts"
import { decodeTextValue, encodeTextValue, floatText } from "../src/values/TextValue.ts"
import { timeZoneProblem, type ValueOptions } from "../src/values/ValueOptions.ts"

const col = (type: number, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({
  name: "v",
  type,
  flags: 0,
  decimals: 0,
  collation: 63,
  ...extra
})
const unsigned = (type: number, extra: Partial<ColumnInfo> = {}) => col(type, { flags: ColumnFlag.UNSIGNED, ...extra })
const text = (type: number, extra: Partial<ColumnInfo> = {}) => col(type, { collation: 45, ...extra })

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
const ok = <A, E>(r: Result.Result<A, E>): A => {
  if (Result.isFailure(r)) throw new Error(`unexpected failure: ${JSON.stringify(r.failure)}`)
  return r.success
}

/** Encodes `value` in a one-column text row and a binary row, decodes both, returns both values. */
const roundTrip = (column: ColumnInfo, value: unknown, options?: ValueOptions) => {
  const textRow = ok(encodeTextRow([column], [value], options))
  const binaryRow = ok(encodeBinaryRow([column], [value], options))
  const fromText = ok(ok(makeTextRowDecoder([column], options)).decodeArray(textRow))[0]
  const fromBinary = ok(ok(makeBinaryRowDecoder([column], options)).decodeArray(binaryRow))[0]
  return { fromText, fromBinary, textRow, binaryRow }
}

const expectRoundTrip = (column: ColumnInfo, value: unknown, options?: ValueOptions, expected: unknown = value) => {
  const { fromText, fromBinary } = roundTrip(column, value, options)
  expect(fromText).toStrictEqual(expected)
  expect(fromBinary).toStrictEqual(expected)
}

describe("integers", () => {
  const cases: Array<[string, ColumnInfo, Array<number>]> = [
    ["TINYINT", col(ColumnType.TINY), [-128, -1, 0, 1, 127]],
    ["TINYINT UNSIGNED", unsigned(ColumnType.TINY), [0, 128, 255]],
    ["SMALLINT", col(ColumnType.SHORT), [-32768, 0, 32767]],
    ["SMALLINT UNSIGNED", unsigned(ColumnType.SHORT), [0, 32768, 65535]],
    ["MEDIUMINT", col(ColumnType.INT24), [-8388608, 0, 8388607]],
    ["MEDIUMINT UNSIGNED", unsigned(ColumnType.INT24), [0, 16777215]],
    ["INT", col(ColumnType.LONG), [-2147483648, -1, 0, 2147483647]],
    ["INT UNSIGNED", unsigned(ColumnType.LONG), [0, 2147483648, 4294967295]],
    ["YEAR", unsigned(ColumnType.YEAR), [0, 1901, 2024, 2155]]
  ]
  for (const [name, column, values] of cases) {
    it(`${name} round-trips ${values.join(", ")}`, () => {
      for (const v of values) expectRoundTrip(column, v)
    })
  }

  it("out-of-range values are refused, not wrapped", () => {
    expect(Result.isFailure(encodeBinaryValue(col(ColumnType.TINY), 128))).toBe(true)
    expect(Result.isFailure(encodeBinaryValue(unsigned(ColumnType.TINY), -1))).toBe(true)
    expect(Result.isFailure(encodeBinaryValue(col(ColumnType.LONG), 2 ** 31))).toBe(true)
    expect(Result.isFailure(encodeBinaryValue(col(ColumnType.LONG), 1.5))).toBe(true)
  })

  it("binary widths: MEDIUMINT travels in 4 bytes, YEAR in 2", () => {
    expect(hex(ok(encodeBinaryValue(col(ColumnType.INT24), -2)))).toBe("feffffff")
    expect(hex(ok(encodeBinaryValue(unsigned(ColumnType.YEAR), 2024)))).toBe("e807")
  })

  it("TINYINT(1) as boolean on request", () => {
    const column = col(ColumnType.TINY, { columnLength: 1 })
    expectRoundTrip(column, true, { tinyint1: "boolean" })
    expectRoundTrip(column, false, { tinyint1: "boolean" })
    expect(ok(decodeTextValue(column, new TextEncoder().encode("1")))).toBe(1)
  })
})

describe("BIGINT", () => {
  const signed = col(ColumnType.LONGLONG)
  const u = unsigned(ColumnType.LONGLONG)
  it("round-trips the signed and unsigned limits as bigint", () => {
    for (const v of [-(2n ** 63n), -1n, 0n, 1n, 2n ** 53n, 2n ** 63n - 1n]) expectRoundTrip(signed, v)
    for (const v of [0n, 2n ** 63n, 2n ** 64n - 1n]) expectRoundTrip(u, v)
  })
  it("bigint: number gives numbers only when safe", () => {
    expectRoundTrip(signed, 2n ** 53n - 1n, { bigint: "number" }, 2 ** 53 - 1)
    expectRoundTrip(signed, -(2n ** 53n) + 1n, { bigint: "number" }, -(2 ** 53) + 1)
    expectRoundTrip(signed, 2n ** 53n, { bigint: "number" }, 2n ** 53n)
    expectRoundTrip(u, 2n ** 64n - 1n, { bigint: "number" }, 2n ** 64n - 1n)
  })
  it("bigint: string gives the digits", () => {
    expectRoundTrip(u, 2n ** 64n - 1n, { bigint: "string" }, "18446744073709551615")
    expectRoundTrip(signed, -5n, { bigint: "string" }, "-5")
  })
  it("binary layout is little-endian two's complement", () => {
    expect(hex(ok(encodeBinaryValue(signed, -2n)))).toBe("feffffffffffffff")
    expect(hex(ok(encodeBinaryValue(u, 2n ** 64n - 1n)))).toBe("ffffffffffffffff")
    expect(Result.isFailure(encodeBinaryValue(signed, 2n ** 63n))).toBe(true)
  })
})

describe("FLOAT, DOUBLE, DECIMAL", () => {
  it("DOUBLE round-trips exactly", () => {
    for (const v of [0, -1.5, Math.PI, 0.1, 1e308, -5e-324, 123456789.123456])
      expectRoundTrip(col(ColumnType.DOUBLE), v)
  })
  it("FLOAT is the float32 value by default, the shortest decimal on request", () => {
    const column = col(ColumnType.FLOAT)
    expectRoundTrip(column, Math.fround(0.1))
    expectRoundTrip(column, Math.fround(3.40282e38))
    // the text protocol carries FLOAT with 6 significant digits, as servers write it
    const max = roundTrip(column, Math.fround(3.4028234663852886e38))
    expect(max.fromText).toBe(Math.fround(3.40282e38))
    expect(max.fromBinary).toBe(Math.fround(3.4028234663852886e38))
    expect(roundTrip(column, 0.1, { float: "shortest" }).fromBinary).toBe(0.1)
  })
  it("text form of FLOAT and DOUBLE follows the server (values observed on MariaDB 10.11)", () => {
    const cases: Array<[number, number | undefined, string]> = [
      [1e15, 6, "1e15"],
      [123456789, 6, "123457000"],
      [0.1, 6, "0.1"],
      [1e-10, 6, "0.0000000001"],
      [Math.PI, 6, "3.14159"],
      [16777217, 6, "16777200"],
      [1e7, 6, "10000000"],
      [Math.fround(3.40282e38), 6, "3.40282e38"],
      [999999.7, 6, "1000000"],
      [-1.5e-20, 6, "-1.5e-20"],
      [1.234567e-5, 6, "0.0000123457"],
      [1.2345678901234568e17, undefined, "1.2345678901234568e17"],
      [1e-15, undefined, "0.000000000000001"],
      [1e-16, undefined, "1e-16"],
      [100, undefined, "100"],
      [1.7976931348623157e308, undefined, "1.7976931348623157e308"],
      [-5e-324, undefined, "-5e-324"],
      [-123.25e20, undefined, "-1.2325e22"],
      [2.2250738585072014e-308, undefined, "2.2250738585072014e-308"],
      [1.23456789012e-15, undefined, "0.00000000000000123456789012"],
      [123456789012000, undefined, "123456789012000"],
      [-0, undefined, "0"],
      [1.5e-7, undefined, "0.00000015"]
    ]
    for (const [value, precision, text] of cases) expect(floatText(value, precision)).toBe(text)
  })

  it("non-finite numbers are refused", () => {
    expect(Result.isFailure(encodeBinaryValue(col(ColumnType.DOUBLE), Number.NaN))).toBe(true)
    expect(Result.isFailure(encodeBinaryValue(col(ColumnType.FLOAT), Number.NEGATIVE_INFINITY))).toBe(true)
    expect(Result.isFailure(encodeTextValue(col(ColumnType.DOUBLE), Number.POSITIVE_INFINITY))).toBe(true)
  })
  it("DECIMAL(65,30) round-trips as an exact string", () => {
    const column = col(ColumnType.NEWDECIMAL, { decimals: 30 })
    for (const v of [
      "12345678901234567890123456789012345.123456789012345678901234567890",
      "-99999999999999999999999999999999999.999999999999999999999999999999",
      "-0.000000000000000000000000000001",
      "0.000000000000000000000000000000"
    ]) {
      expectRoundTrip(column, v)
    }
    expectRoundTrip(column, "12.50", { decimal: "number" }, 12.5)
  })
})

describe("dates and times", () => {
  const date = col(ColumnType.DATE)
  const datetime6 = col(ColumnType.DATETIME, { decimals: 6 })
  const datetime0 = col(ColumnType.DATETIME)
  const timestamp3 = col(ColumnType.TIMESTAMP, { decimals: 3 })

  it("DATE and DATETIME as Date in the local zone by default", () => {
    expectRoundTrip(date, new Date(2024, 1, 29))
    expectRoundTrip(datetime0, new Date(2024, 1, 29, 13, 14, 15))
    expectRoundTrip(timestamp3, new Date(2024, 1, 29, 13, 14, 15, 123))
  })

  it("DATETIME(6) keeps microseconds as text; a Date keeps milliseconds", () => {
    expectRoundTrip(datetime6, "2024-02-29 13:14:15.123456", { dates: "string" })
    expectRoundTrip(datetime6, "9999-12-31 23:59:59.999999", { dates: "string" })
    expectRoundTrip(datetime6, "1000-01-01 00:00:00.000000", { dates: "string" })
    const decoded = ok(decodeTextValue(datetime6, new TextEncoder().encode("2024-02-29 13:14:15.123456")))
    expect(decoded).toStrictEqual(new Date(2024, 1, 29, 13, 14, 15, 123))
  })

  it("binary DATETIME uses the shortest length, as servers do", () => {
    const utc = { timeZone: "Z" }
    expect(hex(ok(encodeBinaryValue(datetime6, new Date(Date.UTC(2024, 1, 29)), utc)))).toBe("04e807021d")
    expect(hex(ok(encodeBinaryValue(datetime6, new Date(Date.UTC(2024, 1, 29, 1, 2, 3)), utc)))).toBe(
      "07e807021d010203"
    )
    expect(hex(ok(encodeBinaryValue(datetime6, "2024-02-29 01:02:03.000001", utc)))).toBe("0be807021d01020301000000")
    expect(hex(ok(encodeBinaryValue(datetime6, "0000-00-00 00:00:00")))).toBe("00")
  })

  it("zero dates decode as null, or as text on request", () => {
    const zero = new TextEncoder().encode("0000-00-00 00:00:00")
    expect(ok(decodeTextValue(datetime0, zero))).toBe(null)
    expect(ok(decodeTextValue(datetime0, zero, { dates: "string" }))).toBe("0000-00-00 00:00:00")
    expect(ok(decodeBinaryValue(datetime0, Uint8Array.of(0)))).toBe(null)
    expect(ok(decodeBinaryValue(datetime0, Uint8Array.of(0), { dates: "string" }))).toBe("0000-00-00 00:00:00")
    expect(ok(decodeBinaryValue(date, Uint8Array.of(0), { dates: "string" }))).toBe("0000-00-00")
    expect(ok(decodeTextValue(date, new TextEncoder().encode("2020-00-15")))).toBe(null)
    expectRoundTrip(datetime0, "0000-00-00 00:00:00", { dates: "string" })
  })

  it("time zones: fixed offsets and UTC", () => {
    const bytes = new TextEncoder().encode("2024-01-01 00:00:00")
    expect(ok(decodeTextValue(datetime0, bytes, { timeZone: "+05:30" }))).toStrictEqual(
      new Date(Date.UTC(2023, 11, 31, 18, 30))
    )
    expect(ok(decodeTextValue(datetime0, bytes, { timeZone: "Z" }))).toStrictEqual(new Date(Date.UTC(2024, 0, 1)))
    expect(ok(decodeTextValue(datetime0, bytes, { timeZone: "-08:00" }))).toStrictEqual(
      new Date(Date.UTC(2024, 0, 1, 8))
    )
    expectRoundTrip(datetime0, new Date(Date.UTC(2024, 5, 1, 12)), { timeZone: "+02:00" })
    expect(Result.isFailure(decodeTextValue(datetime0, bytes, { timeZone: "Mars/Olympus_Mons" }))).toBe(true)
    expect(Result.isFailure(decodeTextValue(datetime0, bytes, { timeZone: "EST" }))).toBe(true)
  })

  it("time zones: IANA names follow daylight saving time, both ways", () => {
    const text = (s: string) => new TextEncoder().encode(s)
    const berlin = { timeZone: "Europe/Berlin" }
    // Winter: UTC+1; summer: UTC+2.
    expect(ok(decodeTextValue(datetime0, text("2024-01-15 12:00:00"), berlin))).toStrictEqual(
      new Date(Date.UTC(2024, 0, 15, 11))
    )
    expect(ok(decodeTextValue(datetime0, text("2024-07-15 12:00:00"), berlin))).toStrictEqual(
      new Date(Date.UTC(2024, 6, 15, 10))
    )
    expect(new TextDecoder().decode(ok(encodeTextValue(datetime0, new Date(Date.UTC(2024, 6, 15, 10)), berlin))!)).toBe(
      "2024-07-15 12:00:00"
    )
    expectRoundTrip(datetime0, new Date(Date.UTC(2024, 0, 15, 11)), berlin)
    expectRoundTrip(datetime0, new Date(Date.UTC(2024, 6, 15, 10)), berlin)
    // 2024-10-27 02:30 happens twice (clocks back at 03:00 CEST): the earlier instant, in CEST.
    expect(ok(decodeTextValue(datetime0, text("2024-10-27 02:30:00"), berlin))).toStrictEqual(
      new Date(Date.UTC(2024, 9, 27, 0, 30))
    )
    // 2024-03-31 02:30 never happens (clocks forward at 02:00 CET): read as 03:30 CEST.
    expect(ok(decodeTextValue(datetime0, text("2024-03-31 02:30:00"), berlin))).toStrictEqual(
      new Date(Date.UTC(2024, 2, 31, 1, 30))
    )
    // Southern hemisphere: summer in January.
    expect(ok(decodeTextValue(datetime0, text("2024-01-15 12:00:00"), { timeZone: "Australia/Sydney" }))).toStrictEqual(
      new Date(Date.UTC(2024, 0, 15, 1))
    )
    expect(timeZoneProblem("Europe/Berlin")).toBeUndefined()
    expect(timeZoneProblem("+05:30")).toBeUndefined()
    expect(timeZoneProblem("Europe/Nowhere")).toMatch(/unknown time zone "Europe\/Nowhere"/)
  })

  it("years below 100 are not shifted to the 1900s", () => {
    const d = ok(decodeTextValue(date, new TextEncoder().encode("0099-03-04"))) as Date
    expect(d.getFullYear()).toBe(99)
    const u = ok(decodeTextValue(date, new TextEncoder().encode("0001-01-01"), { timeZone: "Z" })) as Date
    expect(u.getUTCFullYear()).toBe(1)
  })

  it("TIME: negative, beyond 24 hours, fractional, as text", () => {
    expectRoundTrip(col(ColumnType.TIME, { decimals: 6 }), "-838:59:59.000000")
    expectRoundTrip(col(ColumnType.TIME, { decimals: 6 }), "838:59:59.999999")
    expectRoundTrip(col(ColumnType.TIME), "-00:00:01")
    expectRoundTrip(col(ColumnType.TIME), "100:00:00")
    expectRoundTrip(col(ColumnType.TIME), "00:00:00")
    expectRoundTrip(col(ColumnType.TIME, { decimals: 1 }), "-00:00:01.5")
    // days [4] carry hours beyond 24: 34 days 22 h = 838 h
    expect(hex(ok(encodeBinaryValue(col(ColumnType.TIME), "-838:59:59")))).toBe("080122000000163b3b")
  })
})

describe("strings, bytes and the rest", () => {
  it("utf8mb4 text with 4-byte characters, empty string vs NULL", () => {
    const column = text(ColumnType.VAR_STRING)
    for (const v of [
      "",
      "a",
      "héllo",
      "𝄞 music 😀 emoji",
      "\u0000nul",
      "\uFEFFbom kept",
      "x".repeat(300),
      "é".repeat(40000)
    ]) {
      expectRoundTrip(column, v)
    }
    expectRoundTrip(column, null)
    const { textRow } = roundTrip(column, "")
    expect(hex(textRow)).toBe("00")
    expect(hex(roundTrip(column, null).textRow)).toBe("fb")
  })

  it("long values use 0xFC and 0xFD length prefixes", () => {
    const column = text(ColumnType.BLOB)
    expect(hex(roundTrip(column, "x".repeat(300)).textRow.subarray(0, 3))).toBe("fc2c01")
    expect(hex(roundTrip(column, "x".repeat(70000)).textRow.subarray(0, 4))).toBe("fd701101")
  })

  it("latin1 columns decode as windows-1252", () => {
    const column = col(ColumnType.STRING, { collation: 8 })
    expectRoundTrip(column, "café €")
    expect(ok(decodeTextValue(column, Uint8Array.of(0x80, 0xe9)))).toBe("€é")
  })

  it("binary strings, BLOB and GEOMETRY are bytes", () => {
    for (const type of [ColumnType.BLOB, ColumnType.STRING, ColumnType.VAR_STRING, ColumnType.GEOMETRY]) {
      expectRoundTrip(col(type), Uint8Array.of(0, 1, 2, 0xff))
      expectRoundTrip(col(type), new Uint8Array(0))
    }
  })

  it("BIT as bytes, or bigint on request", () => {
    const bit1 = col(ColumnType.BIT, { columnLength: 1 })
    const bit64 = col(ColumnType.BIT, { columnLength: 64 })
    expectRoundTrip(bit1, Uint8Array.of(1))
    expectRoundTrip(bit64, Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 1))
    expectRoundTrip(bit64, 2n ** 64n - 1n, { bit: "bigint" })
    expectRoundTrip(col(ColumnType.BIT, { columnLength: 10 }), 0x3ffn, { bit: "bigint" })
  })

  it("ENUM and SET", () => {
    expectRoundTrip(text(ColumnType.STRING, { flags: ColumnFlag.ENUM }), "medium")
    const set = text(ColumnType.STRING, { flags: ColumnFlag.SET })
    expectRoundTrip(set, "a,c")
    expectRoundTrip(set, ["a", "c"], { set: "array" })
    expectRoundTrip(set, [], { set: "array" })
  })

  it("JSON: MySQL's JSON type and MariaDB's extended metadata", () => {
    const doc = { a: [1, 2, { b: null }], s: "😀", n: -1.5 }
    expectRoundTrip(col(ColumnType.JSON), doc)
    expectRoundTrip(text(ColumnType.BLOB, { extendedType: { dataTypeName: "json" } }), doc)
    expectRoundTrip(col(ColumnType.JSON), '{"a":1}', { json: "string" })
    const bad = decodeTextValue(col(ColumnType.JSON), new TextEncoder().encode("{nope"))
    expect(Result.isFailure(bad)).toBe(true)
  })

  it("VECTOR as Float32Array", () => {
    expectRoundTrip(col(ColumnType.VECTOR), Float32Array.of(1.5, -2, 3.25))
    expectRoundTrip(col(ColumnType.VECTOR), Uint8Array.of(0, 0, 0xc0, 0x3f), { vector: "bytes" })
    expect(Result.isFailure(decodeBinaryValue(col(ColumnType.VECTOR), Uint8Array.of(3, 1, 2, 3)))).toBe(true)
  })

  it("invalid UTF-8 in a utf8mb4 column is a ProtocolError naming the column", () => {
    const r = decodeTextValue(text(ColumnType.VAR_STRING, { name: "title" }), Uint8Array.of(0x61, 0xc3, 0x28))
    expect(Result.isFailure(r)).toBe(true)
    if (Result.isFailure(r)) {
      expect(r.failure._tag).toBe("ProtocolError")
      expect(r.failure.field).toBe("title")
    }
  })

  it("a column of type NULL is always null", () => {
    expectRoundTrip(col(ColumnType.NULL), null)
  })
})
