// Binlog files written by a real MariaDB 10.11 (fixtures/mariadb-binlog.sh regenerates them): every
// event decodes under the format of the file's FORMAT_DESCRIPTION, with its CRC32 checked, and
// re-encodes to exactly the bytes the server wrote.
import * as Fs from "node:fs"
import * as Zlib from "node:zlib"
import { describe, expect, it } from "@effect/vitest"
import type { BinlogEvent, BinlogFormat, TableMapEvent } from "../../src/binlog/BinlogEvent.ts"
import { readCompressedBlock } from "../../src/binlog/CompressedBlock.ts"
import { decodeEvent, encodeEvent, initialFormat } from "../../src/binlog/EventCodec.ts"
import { ColumnType } from "../../src/ColumnType.ts"
import { err, ok, toHex } from "../support/bytes.ts"
import { BINLOG_MAGIC, walk } from "./support.ts"

const load = (name: string): Uint8Array =>
  new Uint8Array(Fs.readFileSync(new URL(`../fixtures/${name}`, import.meta.url)))

interface Decoded {
  readonly event: BinlogEvent
  readonly format: BinlogFormat
  readonly start: number
  readonly end: number
}

const decodeFile = (file: Uint8Array): Array<Decoded> => {
  let format: BinlogFormat = initialFormat
  return walk(file).map(({ start, end }) => {
    const event = ok(decodeEvent(file, start, end, format))
    if (event._tag === "FormatDescription") format = event
    return { event, format, start, end }
  })
}

const first = load("mariadb-bin.000001")
const second = load("mariadb-bin.000002")
const events = decodeFile(first)
const tags = (list: Array<Decoded>) =>
  list.map(({ event }) => (event._tag === "Rows" ? `Rows:${event.kind}${event.compressed ? ":z" : ""}` : event._tag))
const tableMaps = events.map((d) => d.event).filter((e): e is TableMapEvent => e._tag === "TableMap")

describe("a MariaDB binlog file", () => {
  it("starts with the magic and ends at its last event", () => {
    expect(first.subarray(0, 4)).toEqual(BINLOG_MAGIC)
    expect(events[events.length - 1].end).toBe(first.length)
  })

  it("decodes to the expected sequence of events", () => {
    const transaction = (rows: string) => ["MariadbGtid", "AnnotateRows", "TableMap", rows, "Xid"]
    expect(tags(events)).toEqual([
      "FormatDescription",
      "MariadbGtidList",
      "BinlogCheckpoint",
      ...["MariadbGtid", "Query"],
      ...["MariadbGtid", "Query"],
      ...transaction("Rows:write"),
      ...transaction("Rows:write:z"),
      ...transaction("Rows:update:z"),
      ...transaction("Rows:delete:z"),
      ...["MariadbGtid", "Query"],
      ...["MariadbGtid", "AnnotateRows", "TableMap", "Rows:write", "AnnotateRows", "TableMap", "Rows:update", "Xid"],
      ...["MariadbGtid", "Query"],
      ...transaction("Rows:write"),
      ...["MariadbGtid", "AnnotateRows", "TableMap", "Rows:write", "Query", "Other", "MariadbGtid", "Query"],
      ...["MariadbGtid", "Query"],
      ...transaction("Rows:write"),
      "Rotate"
    ])
    expect(tags(decodeFile(second))).toEqual([
      "FormatDescription",
      "MariadbGtidList",
      "BinlogCheckpoint",
      "BinlogCheckpoint",
      "Stop"
    ])
  })

  it("re-encodes every event to the server's bytes", () => {
    for (const file of [first, second]) {
      for (const { event, format, start, end } of decodeFile(file)) {
        expect(toHex(ok(encodeEvent(event, format))), `${event._tag} at ${start}`).toBe(
          toHex(file.subarray(start, end))
        )
      }
    }
  })

  it("reads the format description", () => {
    const fd = events[0].event
    if (fd._tag !== "FormatDescription") throw new Error("not a format description")
    expect(fd.binlogVersion).toBe(4)
    expect(fd.serverVersion).toMatch(/^10\.11\.\d+-MariaDB/)
    expect(fd.headerLength).toBe(19)
    expect(fd.checksum).toBe("crc32")
    expect(fd.postHeaderLengths[1]).toBe(13) // QUERY (type 2)
    expect(fd.postHeaderLengths[161]).toBe(19) // GTID (type 162)
  })

  it("resolves the full table-map metadata into the columns", () => {
    const item = tableMaps[0]
    expect([item.database, item.table]).toEqual(["shop", "item"])
    expect(item.primaryKey).toEqual([0])
    const byName = Object.fromEntries(item.columns.map((c) => [c.name, c]))
    expect(item.columns.map((c) => c.name)).toEqual([
      "id",
      "qty",
      "price",
      "ratio",
      "weight",
      "big",
      "tiny",
      "mid",
      "flags",
      "name",
      "code",
      "note",
      "raw",
      "data",
      "size",
      "tags",
      "born",
      "seen",
      "at",
      "dur",
      "yr",
      "doc",
      "place"
    ])
    expect(item.columns.map((c) => c.type)).toEqual([
      ColumnType.LONG,
      ColumnType.SHORT,
      ColumnType.NEWDECIMAL,
      ColumnType.DOUBLE,
      ColumnType.FLOAT,
      ColumnType.LONGLONG,
      ColumnType.TINY,
      ColumnType.INT24,
      ColumnType.BIT,
      ColumnType.VARCHAR,
      ColumnType.STRING,
      ColumnType.BLOB,
      ColumnType.VARCHAR,
      ColumnType.BLOB,
      ColumnType.STRING,
      ColumnType.STRING,
      ColumnType.DATE,
      ColumnType.DATETIME2,
      ColumnType.TIMESTAMP2,
      ColumnType.TIME2,
      ColumnType.YEAR,
      ColumnType.BLOB,
      ColumnType.GEOMETRY
    ])
    expect(item.columns.map((c) => c.unsigned)).toEqual([
      true,
      false,
      true,
      false,
      false,
      true,
      false,
      true,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      true,
      undefined,
      undefined
    ])
    expect(byName.id.nullable).toBe(false)
    expect(byName.price.nullable).toBe(true)
    expect(byName.price.metadata).toBe(10 | (2 << 8)) // precision 10, scale 2
    expect(byName.flags.metadata).toBe(2 | (1 << 8)) // BIT(10): 2 bits and 1 byte
    expect(byName.name.metadata).toBe(160) // VARCHAR(40) utf8mb4
    expect(byName.code.metadata).toBe(ColumnType.STRING | (3 << 8))
    expect(byName.seen.metadata).toBe(6)
    expect(byName.name.collation).toBe(45) // utf8mb4_general_ci
    expect(byName.code.collation).toBe(8) // latin1_swedish_ci
    expect(byName.raw.collation).toBe(63) // binary
    expect(byName.doc.collation).toBe(46) // utf8mb4_bin (JSON is a LONGTEXT in MariaDB)
    expect(byName.place.collation).toBe(63)
    expect(byName.size.metadata & 0xff).toBe(ColumnType.ENUM)
    expect(byName.size.enumValues).toEqual(["s", "m", "l"])
    expect(byName.size.collation).toBe(8)
    expect(byName.tags.metadata & 0xff).toBe(ColumnType.SET)
    expect(byName.tags.setValues).toEqual(["red", "green", "blue"])
    expect(byName.tags.collation).toBe(45)
    expect(byName.place.geometryType).toBe(1) // POINT
    expect(byName.born.collation).toBeUndefined()
    expect(byName.born.enumValues).toBeUndefined()
  })

  it("counts YEAR as numeric and GEOMETRY as character, as MariaDB writes them", () => {
    const probe = tableMaps.find((t) => t.table === "probe")
    // SIGNEDNESS has three bits (YEAR, INT, not BIT): 1, 0, 0; COLUMN_CHARSET three collations.
    expect(probe?.columns.map((c) => [c.name, c.unsigned, c.collation])).toEqual([
      ["y", true, undefined],
      ["i", false, undefined],
      ["b", undefined, undefined],
      ["g", undefined, 63],
      ["v", undefined, 8],
      ["w", undefined, 45]
    ])
  })

  it("follows a table through ALTER TABLE (new table id, new column)", () => {
    const pairs = tableMaps.filter((t) => t.table === "pair")
    expect(pairs.map((t) => t.columns.length)).toEqual([2, 2, 3, 3])
    expect(pairs[0].tableId).not.toBe(pairs[2].tableId)
    expect(pairs[2].columns.map((c) => c.name)).toEqual(["a", "b", "c"])
  })

  it("keeps rows events' images as views, with their bitmaps", () => {
    const rows = events.map((d) => d.event).filter((e) => e._tag === "Rows")
    const update = rows.find((e) => e.kind === "update" && !e.compressed)
    expect(update?.columnCount).toBe(2)
    expect(update?.columnsPresentAfter).toEqual(new Uint8Array([0x03]))
    expect(update?.version).toBe(1)
    expect(update?.rows.buffer).toBe(first.buffer)
  })

  it("inflates compressed rows and queries with the runtime's zlib, to the announced length", () => {
    const compressedRows = events.map((d) => d.event).filter((e) => e._tag === "Rows" && e.compressed)
    expect(compressedRows).toHaveLength(3)
    for (const e of compressedRows) {
      if (e._tag !== "Rows") continue
      const block = ok(readCompressedBlock(e.rows))
      expect(Zlib.inflateSync(block.deflated).length).toBe(block.uncompressedLength)
    }
    const query = events.map((d) => d.event).find((e) => e._tag === "Query" && e.compressed)
    if (query?._tag !== "Query" || query.compressedQuery === undefined) throw new Error("no compressed query")
    expect(query.query).toBe("")
    const block = ok(readCompressedBlock(query.compressedQuery))
    const text = new TextDecoder().decode(Zlib.inflateSync(block.deflated))
    expect(text.length).toBe(block.uncompressedLength)
    expect(text).toMatch(/^CREATE TABLE item \(/)
  })

  it("reads the GTIDs, the XA prepare and commit among them", () => {
    const gtids = events.map((d) => d.event).filter((e) => e._tag === "MariadbGtid")
    expect(gtids.map((g) => g.sequence)).toEqual(Array.from({ length: 14 }, (_, i) => BigInt(i + 1)))
    const standalone = [true, true, false, false, false, false, true, false, true, false, false, true, true, false]
    expect(gtids.map((g) => g.standalone)).toEqual(standalone)
    const [prepare, commit] = gtids.slice(10, 12)
    expect(prepare.xid).toEqual({ formatId: 1, gtrid: new TextEncoder().encode("x1"), bqual: new Uint8Array(0) })
    expect(prepare.flags & 64).toBe(64) // FL_PREPARED_XA
    expect(prepare.flagsExtra).toBe(1) // FL_EXTRA_MULTI_ENGINE
    expect(commit.flags & 128).toBe(128) // FL_COMPLETED_XA
    expect(commit.xid?.formatId).toBe(1)
    const list = decodeFile(second)[1].event
    expect(list._tag === "MariadbGtidList" && list.gtids).toEqual([{ domainId: 0, serverId: 1, sequence: 14n }])
  })

  it("reads queries, rotate and checkpoints", () => {
    const all = events.map((d) => d.event)
    const queries = all
      .filter((e) => e._tag === "Query" && !e.compressed)
      .map((e) => e._tag === "Query" && [e.database, e.query])
    // MariaDB names the new database as the default one of CREATE DATABASE (for replication filters).
    expect(queries).toContainEqual(["shop", "CREATE DATABASE shop"])
    expect(queries).toContainEqual(["shop", "ALTER TABLE pair ADD COLUMN c INT"])
    expect(all[all.length - 1]).toMatchObject({ _tag: "Rotate", position: 4n, file: "mariadb-bin.000002" })
    expect(all[2]).toMatchObject({ _tag: "BinlogCheckpoint", file: "mariadb-bin.000001" })
  })

  it("checks every checksum: one flipped bit in any event is a checksum mismatch", () => {
    for (const { start, end, format } of events.slice(1)) {
      const copy = first.slice(start, end)
      copy[19] ^= 0x01
      const failure = err(decodeEvent(copy, 0, copy.length, format))
      expect(failure.detail).toMatch(/^checksum mismatch: expected 0x[0-9a-f]{8} \(stored\), actual 0x[0-9a-f]{8}/)
    }
    const fd = first.slice(events[0].start, events[0].end)
    fd[30] ^= 0x01
    expect(err(decodeEvent(fd, 0, fd.length, initialFormat)).detail).toMatch(/checksum mismatch/)
  })
})
