/**
 * Row images as MariaDB wrote them (test/fixtures/mariadb-binlog.json, recorded by
 * scripts/record-binlog.ts) decode to the same values as a binary-protocol SELECT of the same rows
 * (test/fixtures/mariadb-rows.json, recorded by scripts/record-rows.ts from the same table, rows and
 * session settings), option set by option set; and re-encoding the decoded rows gives back the
 * server's bytes.
 */
import { describe, expect, it } from "@effect/vitest"
import { makeBinaryRowDecoder } from "../../src/BinaryResultsetRow.ts"
import type { BinlogEvent, RowsEvent, TableMapEvent } from "../../src/binlog/BinlogEvent.ts"
import { decodeEvent, initialFormat } from "../../src/binlog/EventCodec.ts"
import { makeRowImageDecoder, type RowImage } from "../../src/binlog/RowImage.ts"
import { encodeRowImages } from "../../src/binlog/RowImageEncoder.ts"
import { makeCapabilitySet } from "../../src/Capabilities.ts"
import { ColumnDefinition41 } from "../../src/ColumnDefinition41.ts"
import type { RowObject } from "../../src/values/RowCodec.ts"
import { resolveValueOptions, type ValueOptions } from "../../src/values/ValueOptions.ts"
import binlogFixture from "../fixtures/mariadb-binlog.json" with { type: "json" }
import rowsFixture from "../fixtures/mariadb-rows.json" with { type: "json" }
import { fromHex, ok, toHex } from "../support/bytes.ts"
import { walk } from "./support.ts"

/** The fixture's events, decoded as a replica reads them: each FORMAT_DESCRIPTION says how the next are laid out. */
const decodeFile = (file: Uint8Array): Array<BinlogEvent> => {
  let format = initialFormat
  return walk(file).map(({ start, end }) => {
    const event = ok(decodeEvent(file, start, end, format))
    if (event._tag === "FormatDescription") format = event
    return event
  })
}

const all = decodeFile(fromHex(binlogFixture.binlog))
const tables = all.filter((e): e is TableMapEvent => e._tag === "TableMap")
const rowEvents = all.filter((e): e is RowsEvent => e._tag === "Rows")

const golden = tables[0]
const [minimalMetadata, noMetadata] = tables.slice(-2)

const resolved = (options: ValueOptions) => {
  const r = resolveValueOptions(options)
  if (typeof r === "string") throw new Error(r)
  return r
}

const caps = makeCapabilitySet(rowsFixture.capabilities, rowsFixture.mariadbCapabilities)
const binaryColumns = rowsFixture.binary.columns.map((h) => ok(ColumnDefinition41.decode(fromHex(h), caps)))

/** The binary-protocol SELECT's rows, by id. */
const selected = (options: ValueOptions): Map<number, RowObject> => {
  const decoder = ok(makeBinaryRowDecoder(binaryColumns, options))
  return new Map(
    rowsFixture.binary.rows.map((h) => {
      const row = ok(decoder.decodeObject(fromHex(h)))
      return [row.id as number, row]
    })
  )
}

const OPTION_SETS: ReadonlyArray<ValueOptions> = [
  { timeZone: "Z" },
  { timeZone: "Z", dates: "string", json: "string" },
  { timeZone: "Z", bigint: "number", decimal: "number", bit: "bigint", set: "array", float: "shortest" },
  { timeZone: "+05:30", dates: "string" },
  { timeZone: "Europe/Berlin" }
]

describe("MariaDB's row images", () => {
  it("hold the golden table with its full metadata", () => {
    expect(binlogFixture.recordedWith).toMatch(/MariaDB/)
    expect(golden.table).toBe("v")
    expect(golden.columns.map((c) => c.name)).toStrictEqual(binaryColumns.map((c) => c.name))
    expect(rowEvents.map((e) => e.kind)).toStrictEqual([
      "write",
      "write",
      "write",
      "write",
      "update",
      "delete",
      "update",
      "write",
      "write"
    ])
  })

  it.each(OPTION_SETS)("decode to the binary protocol's values with %j", (options) => {
    // TIMESTAMP: the rows were inserted and selected in a UTC session, so the SELECT's TIMESTAMP
    // values are UTC wall-clock times; the binlog holds the instants, which decode to the same
    // `Date`s in any zone (their text in another zone is checked below).
    const select = selected(options)
    const utc = selected({ ...options, timeZone: "Z" })
    const zonedText = options.dates === "string" && options.timeZone !== "Z"
    const decoder = makeRowImageDecoder(golden, resolved(options))
    const inserted = rowEvents.slice(0, 4).flatMap((e) => ok(decoder.decodeRows(e)))
    expect(inserted.map((r) => r.id)).toStrictEqual([1, 2, 3, 4])
    for (const row of inserted) {
      const expected = select.get(row.id as number)!
      for (const name of Object.keys(expected)) {
        const value = row[name]
        if (name === "j") {
          // MariaDB's JSON is LONGTEXT in the binlog: the text, which the SELECT parsed.
          const parsed = typeof value === "string" ? JSON.parse(value) : value
          const wanted = typeof expected.j === "string" ? JSON.parse(expected.j) : expected.j
          expect(parsed, name).toStrictEqual(wanted)
        } else if (name === "u" || name === "ip") {
          // UUID and INET6: their 16 stored bytes (the SELECT shows their text).
          expect(value === null || (value instanceof Uint8Array && value.length === 16), name).toBe(true)
        } else if (name === "ts3") {
          if (!zonedText) expect(value, name).toStrictEqual(utc.get(row.id as number)![name])
        } else {
          expect(value, name).toStrictEqual(expected[name])
        }
      }
    }
  })

  it("decode TIMESTAMP to the instant, and its wall clock in timeZone", () => {
    const decode = (options: ValueOptions) =>
      ok(makeRowImageDecoder(golden, resolved(options)).decodeRows(rowEvents[0]))[0].ts3
    expect(decode({ timeZone: "+05:30" })).toStrictEqual(new Date(Date.UTC(2038, 0, 19, 3, 14, 7, 999)))
    expect(decode({ timeZone: "+05:30", dates: "string" })).toBe("2038-01-19 08:44:07.999")
    expect(decode({ timeZone: "Europe/Berlin", dates: "string" })).toBe("2038-01-19 04:14:07.999")
  })

  it("decode the update, the delete and a MINIMAL update's partial images", () => {
    const decoder = makeRowImageDecoder(golden, resolved({ timeZone: "Z", dates: "string" }))
    const [update] = ok(decoder.decodeUpdates(rowEvents[4]))
    expect(update.before.id).toBe(4)
    expect([update.before.i, update.before.vc, update.before.dtm6]).toStrictEqual([
      7,
      "hello",
      "2024-02-29 13:14:15.123456"
    ])
    expect([update.after.i, update.after.vc, update.after.dtm6]).toStrictEqual([
      8,
      "changed",
      "2025-01-02 03:04:05.000006"
    ])
    const [deleted] = ok(decoder.decodeRows(rowEvents[5]))
    expect(Object.values(deleted).filter((v) => v !== null)).toStrictEqual([3])
    // binlog_row_image=MINIMAL: the key before, the changed column after.
    const [minimal] = ok(decoder.decodeUpdates(rowEvents[6]))
    expect(minimal).toStrictEqual({ before: { id: 1 }, after: { tiny: 5 } })
  })

  it("decode by position with binlog_row_metadata=MINIMAL, and as numbers without any metadata", () => {
    expect(minimalMetadata.columns.map((c) => [c.name, c.unsigned, c.collation])).toStrictEqual([
      [undefined, true, undefined],
      [undefined, undefined, 45],
      [undefined, undefined, undefined],
      [undefined, undefined, undefined]
    ])
    const [row] = ok(makeRowImageDecoder(minimalMetadata, resolved({})).decodeRows(rowEvents[7]))
    // ENUM 'y' as its index and SET 'p,q' as its bitmask: the names are FULL metadata.
    expect(row).toStrictEqual({ "0": 4294967295, "1": "héllo", "2": 2, "3": 3 })
    expect(noMetadata.columns.every((c) => c.unsigned === undefined && c.collation === undefined)).toBe(true)
    const [bare] = ok(makeRowImageDecoder(noMetadata, resolved({}), "array").decodeRows(rowEvents[8]))
    expect(bare).toStrictEqual([1, "héllo", 1, 2])
  })

  it("re-encode to the server's bytes with the lossless options", () => {
    const o = resolved({ timeZone: "Z", dates: "string" })
    const decoder = makeRowImageDecoder(golden, o, "array")
    for (const event of rowEvents.slice(0, 7)) {
      const bitmaps = { columnsPresent: event.columnsPresent, columnsPresentAfter: event.columnsPresentAfter }
      const rows: ReadonlyArray<RowImage> | ReadonlyArray<{ before: RowImage; after: RowImage }> =
        event.kind === "update" ? ok(decoder.decodeUpdates(event)) : ok(decoder.decodeRows(event))
      expect(toHex(ok(encodeRowImages(golden, event.kind, rows, o, bitmaps)))).toBe(toHex(event.rows))
    }
  })
})
