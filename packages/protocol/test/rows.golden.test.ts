/**
 * Rows of every column type as MariaDB 10.11 sent them (test/fixtures/mariadb-rows.json, recorded
 * by scripts/record-rows.ts): the column definitions decode, the text and binary rows decode to
 * the expected values, and re-encoding the decoded rows gives back the server's bytes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import { makeBinaryRowDecoder, makeBinaryRowEncoder } from "../src/BinaryResultsetRow.ts"
import { makeCapabilitySet } from "../src/Capabilities.ts"
import { ColumnDefinition41 } from "../src/ColumnDefinition41.ts"
import { ColumnFlag, ColumnType } from "../src/ColumnType.ts"
import * as ComStmtExecute from "../src/ComStmtExecute.ts"
import { makeTextRowDecoder, makeTextRowEncoder } from "../src/TextResultsetRow.ts"
import type { ValueOptions } from "../src/values/ValueOptions.ts"
import { GOLDEN_PARAMETERS } from "./fixtures/goldenRowsScript.ts"
import fixture from "./fixtures/mariadb-rows.json" with { type: "json" }

const unhex = (text: string): Uint8Array => {
  const out = new Uint8Array(text.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16)
  return out
}
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
const ok = <A, E>(r: Result.Result<A, E>): A => {
  if (Result.isFailure(r)) throw new Error(`unexpected failure: ${JSON.stringify(r.failure)}`)
  return r.success
}

const caps = makeCapabilitySet(fixture.capabilities, fixture.mariadbCapabilities)
const columnsOf = (hexes: ReadonlyArray<string>) => hexes.map((h) => ok(ColumnDefinition41.decode(unhex(h), caps)))
const textColumns = columnsOf(fixture.text.columns)
const binaryColumns = columnsOf(fixture.binary.columns)

/** The lossless options: what re-encodes to the server's bytes. */
const lossless: ValueOptions = { dates: "string", json: "string", timeZone: "Z" }
const utc: ValueOptions = { timeZone: "Z" }

const bytes = (...b: Array<number>) => Uint8Array.from(b)
const point = (x: number, y: number) => {
  const out = new Uint8Array(25)
  const view = new DataView(out.buffer)
  out[4] = 1 // little-endian WKB
  view.setUint32(5, 1, true) // Point
  view.setFloat64(9, x, true)
  view.setFloat64(17, y, true)
  return out
}

/** Expected values with the default options (and timeZone "Z"), by row id. */
const expected: Record<number, Array<unknown>> = {
  1: [
    1,
    127,
    255,
    32767,
    65535,
    8388607,
    16777215,
    2147483647,
    4294967295,
    9223372036854775807n,
    18446744073709551615n,
    1,
    Math.fround(3.40282e38),
    1.7976931348623157e308,
    "99999999999999999999999999999999999.999999999999999999999999999999",
    "9999999999.99",
    new Date(Date.UTC(9999, 11, 31)),
    new Date(Date.UTC(9999, 11, 31, 23, 59, 59)),
    new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)),
    new Date(Date.UTC(2038, 0, 19, 3, 14, 7, 999)),
    "838:59:59",
    "838:59:59.999999",
    2155,
    bytes(1),
    bytes(255, 255, 255, 255, 255, 255, 255, 255),
    "large",
    "a,b,c",
    { k: [1, 2.5, null, "😀"] },
    point(1, 2),
    "𝄞 Zoë 😀",
    "abcd",
    "café",
    "x".repeat(300),
    bytes(0, 0xff, 0x10),
    bytes(1, 2, 3, 4),
    bytes(),
    "e3b0c442-98fc-1c14-9afb-f4c8996fb924",
    "2001:db8::1"
  ],
  2: [
    2,
    -128,
    0,
    -32768,
    0,
    -8388608,
    0,
    -2147483648,
    0,
    -9223372036854775808n,
    0n,
    0,
    -1.5,
    -5e-324,
    "-0.000000000000000000000000000001",
    "-9999999999.99",
    null,
    null,
    new Date(Date.UTC(1000, 0, 1, 0, 0, 0, 0)),
    new Date(Date.UTC(1970, 0, 1, 0, 0, 1)),
    "-838:59:59",
    "-00:00:00.000001",
    0,
    bytes(0),
    bytes(0, 0, 0, 0, 0, 0, 0, 0),
    "small",
    "",
    [],
    expect.any(Uint8Array),
    "",
    "",
    "",
    "",
    bytes(),
    bytes(0, 0, 0, 0),
    bytes(0),
    "00000000-0000-0000-0000-000000000000",
    "::ffff:10.0.0.1"
  ],
  3: [3, ...Array.from({ length: 37 }, () => null)],
  4: [
    4,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9n,
    10n,
    0,
    Math.fround(0.1),
    0.1,
    "1.500000000000000000000000000000",
    "12.50",
    new Date(Date.UTC(2024, 1, 29)),
    new Date(Date.UTC(2024, 1, 29, 13, 14, 15)),
    new Date(Date.UTC(2024, 1, 29, 13, 14, 15, 123)),
    new Date(Date.UTC(2024, 1, 29, 13, 14, 15, 123)),
    "-12:00:00",
    "100:00:00.500000",
    2024,
    bytes(1),
    bytes(0, 0, 0, 0, 0, 0, 0, 10),
    "medium",
    "b",
    { a: 1 },
    point(-1.5, 0),
    "hello",
    "ab",
    "naïve",
    "text",
    bytes(0xca, 0xfe),
    bytes(0x61, 0x62, 0x63, 0x64),
    bytes(1, 2),
    "123e4567-e89b-12d3-a456-426614174000",
    null
  ]
}

describe(`rows recorded from ${fixture.recordedWith}`, () => {
  it("column definitions decode to the table's types", () => {
    expect(textColumns.map((c) => c.name)).toStrictEqual(binaryColumns.map((c) => c.name))
    const byName = Object.fromEntries(textColumns.map((c) => [c.name, c]))
    expect(byName.ubig.type).toBe(ColumnType.LONGLONG)
    expect(byName.ubig.flags & ColumnFlag.UNSIGNED).toBe(ColumnFlag.UNSIGNED)
    expect(byName.med.type).toBe(ColumnType.INT24)
    expect(byName.dtm6.decimals).toBe(6)
    expect(byName.e.flags & ColumnFlag.ENUM).toBe(ColumnFlag.ENUM)
    expect(byName.s.flags & ColumnFlag.SET).toBe(ColumnFlag.SET)
    expect(byName.j.extendedType).toStrictEqual({ formatName: "json" })
    expect(byName.u.extendedType).toStrictEqual({ dataTypeName: "uuid" })
    expect(byName.bl.collation).toBe(63)
    expect(byName.tx.collation).toBe(45)
  })

  const check = (protocol: "text" | "binary") => {
    const columns = protocol === "text" ? textColumns : binaryColumns
    const rows = (protocol === "text" ? fixture.text.rows : fixture.binary.rows).map(unhex)
    const makeDecoder = protocol === "text" ? makeTextRowDecoder : makeBinaryRowDecoder
    const makeEncoder = protocol === "text" ? makeTextRowEncoder : makeBinaryRowEncoder

    it(`${protocol} rows decode to the expected values`, () => {
      const decoder = ok(makeDecoder(columns, utc))
      expect(rows.length).toBe(4)
      for (const row of rows) {
        const values = ok(decoder.decodeArray(row))
        expect(values).toStrictEqual(expected[values[0] as number])
        const object = ok(decoder.decodeObject(row))
        expect(Object.values(object)).toStrictEqual(values)
      }
    })

    it(`${protocol} rows re-encode to the server's bytes`, () => {
      const decoder = ok(makeDecoder(columns, lossless))
      const encoder = ok(makeEncoder(columns, lossless))
      for (const row of rows) {
        const values = ok(decoder.decodeArray(row))
        expect(hex(ok(encoder.encode(values)))).toBe(hex(row))
      }
    })
  }
  check("text")
  check("binary")

  it("parameters sent with COM_STMT_EXECUTE come back as the same values", () => {
    const payload = ok(ComStmtExecute.encode({ statementId: 2, parameters: GOLDEN_PARAMETERS }, { timeZone: "Z" }))
    expect(hex(payload)).toBe(fixture.echo.execute)
    const columns = columnsOf(fixture.echo.columns)
    const values = ok(ok(makeBinaryRowDecoder(columns, utc)).decodeArray(unhex(fixture.echo.rows[0])))
    expect(values).toStrictEqual([
      null,
      1,
      -42n,
      BigInt(2 ** 53 - 1),
      1.5,
      -(2n ** 63n),
      2n ** 64n - 1n,
      "héllo 😀",
      bytes(0, 1, 0xff),
      new Date(Date.UTC(2024, 1, 29, 13, 14, 15, 123)),
      '{"a":[1,"x"]}',
      "-838:59:59.000001",
      new Date(Date.UTC(2024, 1, 29)),
      "-12.345",
      4294967295,
      Math.fround(0.1)
    ])
  })
})
