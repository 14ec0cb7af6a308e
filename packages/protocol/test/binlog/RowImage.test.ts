/**
 * Row images of ROWS events: every column type's binlog form round-trips through
 * `encodeRowImages` and `makeRowImageDecoder` at its edge values, with partial column bitmaps,
 * NULLs, updates, partial JSON updates and malformed input.
 */
import { describe, expect, it } from "@effect/vitest"
import { makeTableColumn, type RowsEvent, type TableColumn, type TableMapEvent } from "../../src/binlog/BinlogEvent.ts"
import { writeJsonBinary } from "../../src/binlog/JsonBinary.ts"
import { writeJsonDiffs } from "../../src/binlog/JsonDiff.ts"
import { makeRowImageDecoder, type RowImage, type UpdatedRow } from "../../src/binlog/RowImage.ts"
import { encodeRowImages } from "../../src/binlog/RowImageEncoder.ts"
import { ColumnType } from "../../src/ColumnType.ts"
import { type ResolvedValueOptions, resolveValueOptions, type ValueOptions } from "../../src/values/ValueOptions.ts"
import { Writer } from "../../src/Wire.ts"
import { err, fromHex, ok, toHex } from "../support/bytes.ts"

const header = { timestamp: 0, type: 19, serverId: 1, eventSize: 0, logPos: 0, flags: 0 }

const column = (type: number, metadata: number, extra: Partial<TableColumn> = {}): TableColumn =>
  makeTableColumn({ type, metadata, name: "v", ...extra })

const tableOf = (columns: ReadonlyArray<TableColumn>): TableMapEvent => ({
  _tag: "TableMap",
  header,
  tableId: 7,
  flags: 0,
  database: "d",
  table: "t",
  columns,
  primaryKey: []
})

const all = (count: number) => new Uint8Array((count + 7) >> 3).fill(0xff)

const rowsEvent = (
  table: TableMapEvent,
  kind: RowsEvent["kind"],
  rows: Uint8Array,
  extra: Partial<RowsEvent> = {}
): RowsEvent => ({
  _tag: "Rows",
  header,
  kind,
  version: 2,
  compressed: false,
  partial: false,
  tableId: table.tableId,
  flags: 1,
  extraData: new Uint8Array(0),
  columnCount: table.columns.length,
  columnsPresent: all(table.columns.length),
  columnsPresentAfter: kind === "update" ? all(table.columns.length) : undefined,
  rows,
  ...extra
})

const resolved = (options: ValueOptions = {}): ResolvedValueOptions => {
  const r = resolveValueOptions({ timeZone: "Z", ...options })
  if (typeof r === "string") throw new Error(r)
  return r
}

/** Each value in a one-column table, written and read back as a write event. */
const roundTrip = (c: TableColumn, values: ReadonlyArray<unknown>, options: ValueOptions = {}) => {
  const table = tableOf([c])
  const o = resolved(options)
  const rows = values.map((v) => [v])
  const bytes = ok(encodeRowImages(table, "write", rows, o))
  return ok(makeRowImageDecoder(table, o, "array").decodeRows(rowsEvent(table, "write", bytes))).map((r) => r[0])
}

const expectRoundTrip = (c: TableColumn, values: ReadonlyArray<unknown>, options: ValueOptions = {}) =>
  expect(roundTrip(c, values, options)).toStrictEqual(values)

const signed = { unsigned: false }
const unsigned = { unsigned: true }
const utf8mb4 = { collation: 45 }
const binary = { collation: 63 }

describe("integers", () => {
  it("reads every width at its limits, signed and unsigned", () => {
    expectRoundTrip(column(ColumnType.TINY, 0, signed), [-128, 127, 0, -1])
    expectRoundTrip(column(ColumnType.TINY, 0, unsigned), [0, 255])
    expectRoundTrip(column(ColumnType.SHORT, 0, signed), [-32768, 32767])
    expectRoundTrip(column(ColumnType.SHORT, 0, unsigned), [65535])
    expectRoundTrip(column(ColumnType.INT24, 0, signed), [-8388608, 8388607, -1])
    expectRoundTrip(column(ColumnType.INT24, 0, unsigned), [16777215])
    expectRoundTrip(column(ColumnType.LONG, 0, signed), [-2147483648, 2147483647])
    expectRoundTrip(column(ColumnType.LONG, 0, unsigned), [4294967295])
    expectRoundTrip(column(ColumnType.LONGLONG, 0, signed), [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n])
    expectRoundTrip(column(ColumnType.LONGLONG, 0, unsigned), [2n ** 64n - 1n, 2n ** 53n])
  })

  it("reads integers as signed without the signedness metadata", () => {
    expect(roundTrip(column(ColumnType.TINY, 0), [255])).toStrictEqual([-1])
    expect(roundTrip(column(ColumnType.LONGLONG, 0), [2n ** 64n - 1n])).toStrictEqual([-1n])
  })

  it("follows the bigint option", () => {
    const c = column(ColumnType.LONGLONG, 0, unsigned)
    expect(roundTrip(c, [42n, 2n ** 64n - 1n], { bigint: "number" })).toStrictEqual([42, 2n ** 64n - 1n])
    expect(roundTrip(c, [2n ** 64n - 1n], { bigint: "string" })).toStrictEqual(["18446744073709551615"])
  })
})

describe("floating point and DECIMAL", () => {
  it("reads FLOAT as its exact float32 value, DOUBLE exactly", () => {
    expectRoundTrip(column(ColumnType.FLOAT, 4), [Math.fround(0.1), -1.5, Math.fround(3.4e38), 0])
    expect(roundTrip(column(ColumnType.FLOAT, 4), [Math.fround(0.1)], { float: "shortest" })).toStrictEqual([0.1])
    expectRoundTrip(column(ColumnType.DOUBLE, 8), [5e-324, -1.7976931348623157e308, 0.1])
  })

  const decimal = (precision: number, scale: number) => column(ColumnType.NEWDECIMAL, precision | (scale << 8))

  it("reads DECIMAL(65,30) at its extremes", () => {
    const max = `${"9".repeat(35)}.${"9".repeat(30)}`
    expectRoundTrip(decimal(65, 30), [
      max,
      `-${max}`,
      `-0.${"0".repeat(29)}1`,
      `0.${"0".repeat(30)}`,
      `1.${"0".repeat(30)}`
    ])
  })

  it("reads every leftover digit count, with the column's scale", () => {
    for (let precision = 1; precision <= 20; precision++) {
      for (const scale of [0, 1, Math.floor(precision / 2), precision]) {
        const intDigits = precision - scale
        const int = intDigits === 0 ? "0" : "8".repeat(intDigits)
        const frac = scale === 0 ? "" : `.${"7".repeat(scale)}`
        const zero = scale === 0 ? "0" : `0.${"0".repeat(scale)}`
        expectRoundTrip(decimal(precision, scale), [`${int}${frac}`, `-${int}${frac}`, zero])
      }
    }
    expect(roundTrip(decimal(12, 2), ["-12.5", "3"])).toStrictEqual(["-12.50", "3.00"])
    expect(roundTrip(decimal(12, 2), ["-12.5"], { decimal: "number" })).toStrictEqual([-12.5])
  })

  it("refuses to write what does not fit", () => {
    const table = tableOf([decimal(4, 2)])
    expect(err(encodeRowImages(table, "write", [["123.4"]], resolved())).detail).toMatch(/does not fit/)
    expect(err(encodeRowImages(table, "write", [["1.234"]], resolved())).detail).toMatch(/does not fit/)
  })
})

describe("dates and times", () => {
  const text = { dates: "string" } as const

  it("reads YEAR and DATE, zero dates included", () => {
    expectRoundTrip(column(ColumnType.YEAR, 0), [0, 1901, 2155])
    expectRoundTrip(column(ColumnType.DATE, 0), ["0000-00-00", "1000-01-01", "2024-02-29", "9999-12-31"], text)
    expect(roundTrip(column(ColumnType.DATE, 0), ["2024-02-29", "0000-00-00"])).toStrictEqual([
      new Date(Date.UTC(2024, 1, 29)),
      null
    ])
  })

  it("reads DATETIME2 with every fsp", () => {
    for (let fsp = 0; fsp <= 6; fsp++) {
      const f = fsp === 0 ? "" : `.${"9".repeat(fsp)}`
      const z = fsp === 0 ? "" : `.${"0".repeat(fsp)}`
      const one = fsp === 0 ? "" : `.${"0".repeat(fsp - 1)}1`
      expectRoundTrip(
        column(ColumnType.DATETIME2, fsp),
        [`9999-12-31 23:59:59${f}`, `0000-00-00 00:00:00${z}`, `1000-01-01 00:00:00${one}`, `2024-02-29 13:14:15${z}`],
        text
      )
    }
    expect(
      roundTrip(column(ColumnType.DATETIME2, 3), [new Date(Date.UTC(2024, 1, 29, 13, 14, 15, 123))])
    ).toStrictEqual([new Date(Date.UTC(2024, 1, 29, 13, 14, 15, 123))])
    expect(roundTrip(column(ColumnType.DATETIME2, 0), ["0000-00-00 00:00:00"])).toStrictEqual([null])
  })

  it("reads TIME2 with every fsp, negative values included", () => {
    for (let fsp = 0; fsp <= 6; fsp++) {
      const f = fsp === 0 ? "" : `.${"9".repeat(fsp)}`
      const z = fsp === 0 ? "" : `.${"0".repeat(fsp)}`
      const one = fsp === 0 ? "" : `.${"0".repeat(fsp - 1)}1`
      const half = fsp === 0 ? "" : `.5${"0".repeat(fsp - 1)}`
      expectRoundTrip(column(ColumnType.TIME2, fsp), [
        `838:59:59${f}`,
        `-838:59:59${f}`,
        `00:00:00${z}`,
        `-00:00:00${one}`.replace(/^-00:00:00$/, "-00:00:01"),
        `-12:00:00${z}`,
        `-00:00:01${half}`,
        `100:00:00${half}`
      ])
    }
  })

  it("reads TIMESTAMP2 as an instant, and its wall-clock text in timeZone", () => {
    const c = column(ColumnType.TIMESTAMP2, 3)
    const instant = new Date(Date.UTC(2038, 0, 19, 3, 14, 7, 999))
    expect(roundTrip(c, [instant, new Date(1000)])).toStrictEqual([instant, new Date(1000)])
    expectRoundTrip(c, ["2038-01-19 03:14:07.999", "1970-01-01 00:00:01.000", "0000-00-00 00:00:00.000"], text)
    expect(roundTrip(c, [instant], { dates: "string", timeZone: "+05:30" })).toStrictEqual(["2038-01-19 08:44:07.999"])
    expect(roundTrip(c, [instant], { timeZone: "+05:30" })).toStrictEqual([instant])
    expect(roundTrip(c, ["0000-00-00 00:00:00"])).toStrictEqual([null])
    expectRoundTrip(column(ColumnType.TIMESTAMP2, 6), ["2024-02-29 13:14:15.123456"], text)
    expectRoundTrip(column(ColumnType.TIMESTAMP2, 0), ["2024-02-29 13:14:15"], text)
  })

  it("reads the old TIME, DATETIME and TIMESTAMP forms", () => {
    expectRoundTrip(column(ColumnType.TIME, 0), ["838:59:59", "-838:59:59", "00:00:00", "-01:02:03"])
    expectRoundTrip(column(ColumnType.DATETIME, 0), ["9999-12-31 23:59:59", "0000-00-00 00:00:00"], text)
    expectRoundTrip(column(ColumnType.TIMESTAMP, 0), ["2038-01-19 03:14:07", "0000-00-00 00:00:00"], text)
  })
})

describe("strings, ENUM, SET, BIT, blobs", () => {
  it("reads VARCHAR with one and two length bytes", () => {
    expectRoundTrip(column(ColumnType.VARCHAR, 40, utf8mb4), ["", "héllo 😀", "x".repeat(40)])
    expectRoundTrip(column(ColumnType.VARCHAR, 1200, utf8mb4), ["x".repeat(300), "é".repeat(600)])
    expectRoundTrip(column(ColumnType.VARCHAR, 8, binary), [Uint8Array.of(0, 255), new Uint8Array(0)])
    expectRoundTrip(column(ColumnType.VARCHAR, 16, { collation: 8 }), ["café", "€"])
  })

  it("reads CHAR, with lengths above 255 hidden in the real type byte", () => {
    expectRoundTrip(column(ColumnType.STRING, 0xfe | (16 << 8), utf8mb4), ["abcd", ""])
    // CHAR(255) in utf8mb4: 1,020 bytes, 0x3fc: bits 8 and 9 go into the type byte as 0xfe ^ 0x30.
    const wide = column(ColumnType.STRING, 0xce | (0xfc << 8), utf8mb4)
    expectRoundTrip(wide, ["é".repeat(255), "a"])
    const bytes = ok(encodeRowImages(tableOf([wide]), "write", [["é".repeat(255)]], resolved()))
    expect([bytes[1], bytes[2]]).toStrictEqual([510 & 0xff, 510 >> 8])
  })

  it("pads BINARY(n) back to its length, as a SELECT shows it", () => {
    const c = column(ColumnType.STRING, 0xfe | (4 << 8), binary)
    expectRoundTrip(c, [Uint8Array.of(1, 2, 3, 4), Uint8Array.of(1, 0, 0, 0), new Uint8Array(4)])
    const bytes = ok(encodeRowImages(tableOf([c]), "write", [[new Uint8Array(4)]], resolved()))
    // The null bitmap's unused bits set, as the servers write them; no bytes for four zeros.
    expect(Array.from(bytes)).toStrictEqual([0xfe, 0])
  })

  it("reads ENUM and SET as their members, or as numbers without the names", () => {
    const e = column(ColumnType.STRING, 0xf7 | (1 << 8), { ...utf8mb4, enumValues: ["small", "medium", "large"] })
    expectRoundTrip(e, ["large", "", "small"])
    const wide = column(ColumnType.STRING, 0xf7 | (2 << 8), {
      ...utf8mb4,
      enumValues: Array.from({ length: 300 }, (_, i) => `v${i}`)
    })
    expectRoundTrip(wide, ["v299", "v0"])
    expect(roundTrip(column(ColumnType.STRING, 0xf7 | (1 << 8)), [3, 0])).toStrictEqual([3, 0])
    const s = column(ColumnType.STRING, 0xf8 | (1 << 8), { ...utf8mb4, setValues: ["a", "b", "c"] })
    expectRoundTrip(s, ["a,b,c", "", "b"])
    expect(roundTrip(s, ["a,c", ""], { set: "array" })).toStrictEqual([["a", "c"], []])
    const members = Array.from({ length: 64 }, (_, i) => `m${i}`)
    const s64 = column(ColumnType.STRING, 0xf8 | (8 << 8), { ...utf8mb4, setValues: members })
    expectRoundTrip(s64, ["m0,m63", members.join(",")])
    expect(roundTrip(column(ColumnType.STRING, 0xf8 | (1 << 8)), [5])).toStrictEqual([5])
    expect(roundTrip(column(ColumnType.STRING, 0xf8 | (8 << 8)), [2n ** 63n])).toStrictEqual([2n ** 63n])
  })

  it("reads BIT(1..64) as big-endian bytes of the column's length", () => {
    for (let bits = 1; bits <= 64; bits++) {
      const c = column(ColumnType.BIT, (bits % 8) | ((bits >> 3) << 8))
      const n = Math.ceil(bits / 8)
      const max = new Uint8Array(n).fill(0xff)
      if (bits % 8 !== 0) max[0] = (1 << (bits % 8)) - 1
      expectRoundTrip(c, [max, new Uint8Array(n)])
      expect(roundTrip(c, [max], { bit: "bigint" })).toStrictEqual([2n ** BigInt(bits) - 1n])
    }
  })

  it("reads BLOB, TEXT and GEOMETRY with 1 to 4 length bytes", () => {
    for (let n = 1; n <= 4; n++) {
      expectRoundTrip(column(ColumnType.BLOB, n, binary), [Uint8Array.of(0, 255, 16), new Uint8Array(0)])
      expectRoundTrip(column(ColumnType.BLOB, n, utf8mb4), ["text 😀", ""])
    }
    expectRoundTrip(column(ColumnType.BLOB, 3, binary), [new Uint8Array(70000).fill(7)])
    expectRoundTrip(column(ColumnType.BLOB, 2), [Uint8Array.of(1, 2)])
    const point = Uint8Array.of(0, 0, 0, 0, 1, 1, 0, 0, 0, ...new Uint8Array(16))
    expectRoundTrip(column(ColumnType.GEOMETRY, 4, binary), [point])
  })

  it("reads MySQL's JSON, as parsed values or as MySQL's text", () => {
    const c = column(ColumnType.JSON, 4)
    const big = Array.from({ length: 20000 }, (_, i) => i)
    expectRoundTrip(c, [{ k: [1, 2.5, null, "😀"] }, [], { "a b": { c: [true, false] } }, "text", 42, big])
    expectRoundTrip(c, ['{"k": [1, 2.5, null, "x"], "n": -9007199254740991}'], { json: "string" })
    // uint64 beyond 2^53: rounded when parsed (as JSON.parse of MySQL's text), exact as text.
    const table = tableOf([c])
    const bytes = ok(encodeRowImages(table, "write", [[{ big: 2n ** 64n - 1n }]], resolved()))
    const decode = (options: ValueOptions) =>
      ok(makeRowImageDecoder(table, resolved(options), "array").decodeRows(rowsEvent(table, "write", bytes)))[0][0]
    expect(decode({})).toStrictEqual({ big: Number(2n ** 64n - 1n) })
    expect(decode({ json: "string" })).toBe('{"big": 18446744073709551615}')
  })
})

describe("MySQL's bytes", () => {
  // Rows of a JSON and a DECIMAL(10,0) column as MySQL 5.7 wrote them (the test data of go-mysql's
  // replication tests): a NULL document, then {"key1": "value1", "key2": "value2"}.
  const table = tableOf([column(ColumnType.JSON, 4, { name: "j" }), column(ColumnType.NEWDECIMAL, 10, { name: "d" })])
  const rows = fromHex(
    "fd 8000000001" +
      "fc 29000000 0002002800120004001600040 00c1a000c2100 6b6579316b657932 0676616c756531 0676616c756532 8000000001"
  )

  it("decode, and encode back byte for byte", () => {
    const o = resolved()
    const decoded = ok(makeRowImageDecoder(table, o).decodeRows(rowsEvent(table, "write", rows)))
    expect(decoded).toStrictEqual([
      { j: null, d: "1" },
      { j: { key1: "value1", key2: "value2" }, d: "1" }
    ])
    expect(toHex(ok(encodeRowImages(table, "write", decoded, o)))).toBe(toHex(rows))
  })
})

describe("images", () => {
  const table = tableOf([
    column(ColumnType.LONG, 0, { name: "id", unsigned: true }),
    column(ColumnType.VARCHAR, 40, { name: "name", collation: 45 }),
    column(ColumnType.LONGLONG, 0, { name: "n", unsigned: false }),
    column(ColumnType.BLOB, 2, { name: "b", collation: 63 }),
    column(ColumnType.DOUBLE, 8, { name: "d" }),
    column(ColumnType.DATETIME2, 0, { name: "at" }),
    column(ColumnType.TINY, 0, { name: "t", unsigned: false }),
    column(ColumnType.JSON, 4, { name: "j" }),
    column(ColumnType.YEAR, 0, { name: "y" })
  ])
  const o = resolved({ dates: "string" })
  const row = {
    id: 1,
    name: "a",
    n: -5n,
    b: Uint8Array.of(1),
    d: 0.5,
    at: "2024-02-29 13:14:15",
    t: -1,
    j: { a: [1] },
    y: 2024
  }
  const nulls = { id: 2, name: null, n: null, b: null, d: null, at: null, t: null, j: null, y: null }

  it("keys rows by column name, and NULL is null", () => {
    const bytes = ok(encodeRowImages(table, "write", [row, nulls], o))
    const rows = ok(makeRowImageDecoder(table, o).decodeRows(rowsEvent(table, "write", bytes)))
    expect(rows).toStrictEqual([row, nulls])
  })

  it("keys rows by position without names, or gives arrays", () => {
    const anonymous = tableOf(table.columns.map((c) => ({ ...c, name: undefined })))
    const bytes = ok(encodeRowImages(table, "delete", [row], o))
    const [byPosition] = ok(makeRowImageDecoder(anonymous, o).decodeRows(rowsEvent(anonymous, "delete", bytes)))
    expect(byPosition).toStrictEqual(Object.fromEntries(Object.values(row).map((v, i) => [String(i), v])))
    const [array] = ok(makeRowImageDecoder(table, o, "array").decodeRows(rowsEvent(table, "delete", bytes)))
    expect(array).toStrictEqual(Object.values(row))
  })

  it("holds only the columns of the bitmap; the null bitmap counts those alone", () => {
    // Columns 0, 2, 7 and 8: a null bitmap of one byte for four columns.
    const present = Uint8Array.of(0b1000_0101, 0b1)
    const sparse = { id: 3, n: null, j: [], y: 0 }
    const bytes = ok(encodeRowImages(table, "write", [sparse], o, { columnsPresent: present }))
    expect(bytes[0]).toBe(0b1111_0010)
    const event = rowsEvent(table, "write", bytes, { columnsPresent: present })
    const [decoded] = ok(makeRowImageDecoder(table, o).decodeRows(event))
    expect(decoded).toStrictEqual(sparse)
    const [array] = ok(makeRowImageDecoder(table, o, "array").decodeRows(event))
    expect(array).toStrictEqual([3, undefined, null, undefined, undefined, undefined, undefined, [], 0])
  })

  it("reads updates as before and after images with their own bitmaps", () => {
    const before = Uint8Array.of(0xff, 0x01)
    const after = Uint8Array.of(0b0000_0011, 0)
    const pairs: ReadonlyArray<UpdatedRow> = [
      { before: row, after: { id: 1, name: "b" } },
      { before: nulls, after: { id: 2, name: null } }
    ]
    const bitmaps = { columnsPresent: before, columnsPresentAfter: after }
    const bytes = ok(encodeRowImages(table, "update", pairs, o, bitmaps))
    const decoder = makeRowImageDecoder(table, o)
    const event = rowsEvent(table, "update", bytes, bitmaps)
    expect(ok(decoder.decodeUpdates(event))).toStrictEqual(pairs)
    // Decoded twice: the bitmaps' builders are reused.
    expect(ok(decoder.decodeUpdates(event))).toStrictEqual(pairs)
    expect(err(decoder.decodeRows(event)).detail).toMatch(/decodeUpdates/)
  })

  it("takes the inflated rows of a compressed event", () => {
    const bytes = ok(encodeRowImages(table, "write", [row], o))
    const event = rowsEvent(table, "write", Uint8Array.of(1, 2, 3), { compressed: true })
    const decoder = makeRowImageDecoder(table, o)
    expect(ok(decoder.decodeRows(event, bytes))).toStrictEqual([row])
    expect(err(decoder.decodeRows(event)).detail).toMatch(/inflated/)
  })

  it("names the column of a truncated value, and never reads past the end", () => {
    const bytes = ok(encodeRowImages(table, "write", [row], o))
    const decoder = makeRowImageDecoder(table, o)
    for (let cut = 1; cut < bytes.length; cut++) {
      const failure = err(decoder.decodeRows(rowsEvent(table, "write", bytes.subarray(0, cut))))
      expect(failure.packet).toBe("RowsEvent")
    }
    const failure = err(decoder.decodeRows(rowsEvent(table, "write", bytes.subarray(0, 8))))
    expect(failure.field).toBe("n")
    // A BLOB length of 0xffff with two bytes behind it: an error, not an allocation.
    const blob = tableOf([column(ColumnType.BLOB, 2, binary)])
    const huge = err(
      makeRowImageDecoder(blob, o).decodeRows(rowsEvent(blob, "write", Uint8Array.of(0, 0xff, 0xff, 1, 2)))
    )
    expect(huge.detail).toMatch(/truncated value: need 65535 byte\(s\), 2 left/)
  })

  it("refuses events of another table or width, and types it cannot read", () => {
    const decoder = makeRowImageDecoder(table, o)
    expect(err(decoder.decodeRows(rowsEvent(table, "write", new Uint8Array(0), { tableId: 8 }))).field).toBe("tableId")
    expect(err(decoder.decodeRows(rowsEvent(table, "write", new Uint8Array(0), { columnCount: 3 }))).field).toBe(
      "columnCount"
    )
    const old = tableOf([column(ColumnType.DECIMAL, 0, { name: "old" })])
    const failure = err(makeRowImageDecoder(old, o).decodeRows(rowsEvent(old, "write", Uint8Array.of(0, 1))))
    expect(failure.field).toBe("old")
    expect(failure.detail).toMatch(/DECIMAL/)
  })

  it("refuses images of no columns rather than looping, and fsp beyond 6", () => {
    const none = rowsEvent(table, "write", Uint8Array.of(1), { columnsPresent: Uint8Array.of(0, 0) })
    expect(err(makeRowImageDecoder(table, o).decodeRows(none)).detail).toMatch(/no bytes/)
    const bad = tableOf([column(ColumnType.DATETIME2, 7)])
    expect(err(makeRowImageDecoder(bad, o).decodeRows(rowsEvent(bad, "write", Uint8Array.of(0, 1)))).detail).toMatch(
      /DATETIME2 with metadata 0x7/
    )
  })

  it("decodes random bytes to a value or an error, never a throw", () => {
    const decoder = makeRowImageDecoder(table, o)
    let seed = 42
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed & 0xff
    }
    for (let k = 0; k < 2000; k++) {
      const bytes = Uint8Array.from({ length: random() % 64 }, random)
      decoder.decodeRows(rowsEvent(table, "write", bytes))
    }
  })
})

describe("partial JSON updates (PARTIAL_UPDATE_ROWS)", () => {
  const table = tableOf([
    column(ColumnType.LONG, 0, { name: "id" }),
    column(ColumnType.JSON, 4, { name: "doc" }),
    column(ColumnType.JSON, 4, { name: "other" })
  ])
  const o = resolved()
  const doc = { a: [1, 2, 3], "b c": { d: "x" }, e: 1 }
  const other = { keep: true }

  /** The before image (full), then an after image whose `doc` holds diffs. */
  const partialRows = (diffs: Parameters<typeof writeJsonDiffs>[1], valueOptions = 1) => {
    const w = new Writer(128)
    w.bytes(ok(encodeRowImages(table, "write", [{ id: 1, doc, other }], o)))
    w.int1(valueOptions)
    if (valueOptions & 1) w.int1(0b01) // partial bits: the first JSON column only
    w.int1(0) // null bitmap
    w.int4(1)
    const body = new Writer(64)
    writeJsonDiffs(body, diffs)
    const bytes = body.finish()
    w.int4(bytes.length).bytes(bytes)
    const full = new Writer(16)
    writeJsonBinary(full, { keep: false })
    const otherBytes = full.finish()
    w.int4(otherBytes.length).bytes(otherBytes)
    return w.finish()
  }

  it("applies REPLACE, INSERT and REMOVE to the before image's document", () => {
    const rows = partialRows([
      { operation: "replace", path: "$.a[1]", value: 20 },
      { operation: "insert", path: '$."b c".z', value: [null] },
      { operation: "insert", path: "$.a[0]", value: 0 },
      { operation: "remove", path: "$.e" }
    ])
    const event = rowsEvent(table, "update", rows, { partial: true })
    const [pair] = ok(makeRowImageDecoder(table, o).decodeUpdates(event))
    expect(pair.before).toStrictEqual({ id: 1, doc, other })
    expect(pair.after).toStrictEqual({
      id: 1,
      doc: { a: [0, 1, 20, 3], "b c": { d: "x", z: [null] } },
      other: { keep: false }
    })
    const [text] = ok(makeRowImageDecoder(table, resolved({ json: "string" })).decodeUpdates(event))
    expect((text.after as RowImage & { doc: string }).doc).toBe('{"a": [0, 1, 20, 3], "b c": {"d": "x", "z": [null]}}')
  })

  it("reads full after images when the value options say no partial JSON", () => {
    const w = new Writer(64)
    w.bytes(ok(encodeRowImages(table, "write", [{ id: 1, doc, other }], o)))
    w.int1(0)
    w.bytes(ok(encodeRowImages(table, "write", [{ id: 1, doc: [], other: null }], o)))
    const [pair] = ok(
      makeRowImageDecoder(table, o).decodeUpdates(rowsEvent(table, "update", w.finish(), { partial: true }))
    )
    expect(pair.after).toStrictEqual({ id: 1, doc: [], other: null })
  })

  it("fails, naming the column, on a path the document does not have or a missing before image", () => {
    const rows = partialRows([{ operation: "replace", path: "$.missing[3]", value: 1 }])
    const failure = err(
      makeRowImageDecoder(table, o).decodeUpdates(rowsEvent(table, "update", rows, { partial: true }))
    )
    expect(failure.field).toBe("doc")
    const minimal = Uint8Array.of(0b001)
    const w = new Writer(64)
    w.bytes(ok(encodeRowImages(table, "write", [{ id: 1 }], o, { columnsPresent: minimal })))
    w.bytes(
      partialRows([{ operation: "remove", path: "$.e" }]).subarray(
        ok(encodeRowImages(table, "write", [{ id: 1, doc, other }], o)).length
      )
    )
    const event = rowsEvent(table, "update", w.finish(), { partial: true, columnsPresent: minimal })
    expect(err(makeRowImageDecoder(table, o).decodeUpdates(event)).detail).toMatch(/before image/)
  })
})
