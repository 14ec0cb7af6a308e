/**
 * Row images as MariaDB wrote them (test/fixtures/mariadb-binlog.json, recorded by
 * scripts/record-binlog.ts) decode to the same values as a binary-protocol SELECT of the same rows
 * (test/fixtures/mariadb-rows.json, recorded by scripts/record-rows.ts from the same table, rows and
 * session settings), option set by option set; and re-encoding the decoded rows gives back the
 * server's bytes.
 */
import { describe, expect, it } from "@effect/vitest"
import { makeBinaryRowDecoder } from "../../src/BinaryResultsetRow.ts"
import type { RowsEvent, TableColumn, TableMapEvent } from "../../src/binlog/BinlogEvent.ts"
import { makeRowImageDecoder, type RowImage } from "../../src/binlog/RowImage.ts"
import { encodeRowImages } from "../../src/binlog/RowImageEncoder.ts"
import { makeCapabilitySet } from "../../src/Capabilities.ts"
import { ColumnDefinition41 } from "../../src/ColumnDefinition41.ts"
import { ColumnType } from "../../src/ColumnType.ts"
import type { RowObject } from "../../src/values/RowCodec.ts"
import { resolveValueOptions, type ValueOptions } from "../../src/values/ValueOptions.ts"
import binlogFixture from "../fixtures/mariadb-binlog.json" with { type: "json" }
import rowsFixture from "../fixtures/mariadb-rows.json" with { type: "json" }
import { fromHex, ok, toHex } from "../support/bytes.ts"

// ---------------------------------------------------------------------------------------------
// Test scaffolding: a minimal walk of the binlog file and of its TABLE_MAP and ROWS v1 events,
// enough for this fixture (the event codecs proper live in EventCodec.ts).
// ---------------------------------------------------------------------------------------------

const file = fromHex(binlogFixture.binlog)

interface RawEvent {
  readonly type: number
  readonly body: Uint8Array
}

const events = (): Array<RawEvent> => {
  const out: Array<RawEvent> = []
  const view = new DataView(file.buffer, file.byteOffset)
  for (let p = 4; p + 19 <= file.length; ) {
    const size = view.getUint32(p + 9, true)
    // Every event ends with its CRC32 (MariaDB's default binlog_checksum).
    out.push({ type: file[p + 4], body: file.subarray(p + 19, p + size - 4) })
    p += size
  }
  return out
}

class Cursor {
  pos = 0
  readonly buf: Uint8Array
  constructor(buf: Uint8Array) {
    this.buf = buf
  }
  int(n: number): number {
    let v = 0
    for (let k = n - 1; k >= 0; k--) v = v * 256 + this.buf[this.pos + k]
    this.pos += n
    return v
  }
  lenenc(): number {
    const first = this.int(1)
    return first < 0xfb ? first : this.int(first === 0xfc ? 2 : first === 0xfd ? 3 : 8)
  }
  bytes(n: number): Uint8Array {
    this.pos += n
    return this.buf.subarray(this.pos - n, this.pos)
  }
  text(n: number): string {
    return new TextDecoder().decode(this.bytes(n))
  }
}

const METADATA_BYTES: Record<number, number> = {
  [ColumnType.FLOAT]: 1,
  [ColumnType.DOUBLE]: 1,
  [ColumnType.BLOB]: 1,
  [ColumnType.GEOMETRY]: 1,
  [ColumnType.JSON]: 1,
  [ColumnType.TIME2]: 1,
  [ColumnType.DATETIME2]: 1,
  [ColumnType.TIMESTAMP2]: 1,
  [ColumnType.VARCHAR]: 2,
  [ColumnType.STRING]: 2,
  [ColumnType.NEWDECIMAL]: 2,
  [ColumnType.BIT]: 2
}
const NUMERIC = new Set<number>([1, 2, 3, 4, 5, 8, 9, ColumnType.NEWDECIMAL])
const realType = (type: number, metadata: number) => (type === ColumnType.STRING ? (metadata & 0xff) | 0x30 : type)
const isEnumOrSet = (t: number) => t === ColumnType.ENUM || t === ColumnType.SET
// MariaDB counts GEOMETRY among the character columns (with the binary collation).
const isCharacter = (t: number) =>
  t === ColumnType.STRING ||
  t === ColumnType.VARCHAR ||
  t === ColumnType.BLOB ||
  t === ColumnType.VAR_STRING ||
  t === ColumnType.GEOMETRY

const tableMap = (body: Uint8Array): TableMapEvent => {
  const c = new Cursor(body)
  const tableId = c.int(6)
  const flags = c.int(2)
  const database = c.text(c.int(1))
  c.pos++
  const table = c.text(c.int(1))
  c.pos++
  const count = c.lenenc()
  const types = Array.from(c.bytes(count))
  const metaEnd = c.lenenc() + c.pos
  const metadata = types.map((t) => c.int(METADATA_BYTES[t] ?? 0))
  c.pos = metaEnd
  const nullable = c.bytes((count + 7) >> 3)
  const columns = types.map(
    (type, i): TableColumn => ({
      type,
      metadata: metadata[i],
      nullable: (nullable[i >> 3] & (1 << (i & 7))) !== 0,
      name: undefined,
      unsigned: undefined,
      collation: undefined,
      enumValues: undefined,
      setValues: undefined,
      geometryType: undefined
    })
  )
  const real = columns.map((col) => realType(col.type, col.metadata))
  const indexes = (keep: (t: number) => boolean) => real.flatMap((t, i) => (keep(t) ? [i] : []))
  const patch = (i: number, fields: Partial<TableColumn>) => {
    columns[i] = { ...columns[i], ...fields }
  }
  const collations = (targets: Array<number>, perColumn: boolean, end: number) => {
    if (perColumn) for (const i of targets) patch(i, { collation: c.lenenc() })
    else {
      const fallback = c.lenenc()
      const explicit = new Map<number, number>()
      while (c.pos < end) explicit.set(c.lenenc(), c.lenenc())
      for (const [k, i] of targets.entries()) patch(i, { collation: explicit.get(k) ?? fallback })
    }
  }
  while (c.pos < body.length) {
    const field = c.int(1)
    const end = c.lenenc() + c.pos
    const numeric = indexes((t) => NUMERIC.has(t))
    if (field === 1) {
      for (const [k, i] of numeric.entries()) patch(i, { unsigned: (body[c.pos + (k >> 3)] & (0x80 >> (k & 7))) !== 0 })
    } else if (field === 2 || field === 3) collations(indexes(isCharacter), field === 3, end)
    else if (field === 10 || field === 11) collations(indexes(isEnumOrSet), field === 11, end)
    else if (field === 4) for (let i = 0; i < count; i++) patch(i, { name: c.text(c.lenenc()) })
    else if (field === 5 || field === 6) {
      for (const i of indexes((t) => t === (field === 5 ? ColumnType.SET : ColumnType.ENUM))) {
        const values = Array.from({ length: c.lenenc() }, () => c.text(c.lenenc()))
        patch(i, field === 5 ? { setValues: values } : { enumValues: values })
      }
    }
    c.pos = end
  }
  return { _tag: "TableMap", header: eventHeader, tableId, flags, database, table, columns, primaryKey: [] }
}

const eventHeader = { timestamp: 0, type: 0, serverId: 1, eventSize: 0, logPos: 0, flags: 0 }

const rowsEvent = (type: number, body: Uint8Array): RowsEvent => {
  const c = new Cursor(body)
  const tableId = c.int(6)
  const flags = c.int(2)
  const columnCount = c.lenenc()
  const bitmap = (count: number) => c.bytes((count + 7) >> 3).slice()
  const kind = type === 23 ? "write" : type === 24 ? "update" : "delete"
  const columnsPresent = bitmap(columnCount)
  const columnsPresentAfter = kind === "update" ? bitmap(columnCount) : undefined
  return {
    _tag: "Rows",
    header: eventHeader,
    kind,
    version: 1,
    compressed: false,
    partial: false,
    tableId,
    flags,
    extraData: new Uint8Array(0),
    columnCount,
    columnsPresent,
    columnsPresentAfter,
    rows: body.slice(c.pos)
  }
}

const all = events()
const tables = all.filter((e) => e.type === 19).map((e) => tableMap(e.body))
const rowEvents = all.filter((e) => e.type >= 23 && e.type <= 25).map((e) => rowsEvent(e.type, e.body))

// ---------------------------------------------------------------------------------------------

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
