// The change decoder over events built with the protocol package's encoders: transaction
// boundaries of both flavors' ways of logging, and what a corrupted or unknown-table event gives.
import { assert, describe, it } from "@effect/vitest"
import { Binlog, type ResolvedValueOptions, resolveValueOptions } from "@effect-mysql/protocol"
import { Result } from "effect"
import { ChangeDecoder } from "../src/internal/ChangeDecoder.ts"
import { GtidState } from "../src/internal/GtidState.ts"
import type { ReplicationEvent } from "../src/ReplicationEvent.ts"

const format: Binlog.BinlogFormat = {
  ...Binlog.initialFormat,
  serverVersion: "10.11.18-MariaDB-log",
  checksum: "crc32"
}
const values = resolveValueOptions({}) as ResolvedValueOptions
const { EventType } = Binlog

const header = (type: number): Binlog.EventHeader => ({
  timestamp: 1796300000,
  type,
  serverId: 1,
  eventSize: 0,
  logPos: 0,
  flags: 0
})

let position = 4
const encode = (event: Binlog.BinlogEvent): Uint8Array => {
  const size = Result.getOrThrow(Binlog.encodeEvent(event, format)).length
  position += size
  return Result.getOrThrow(
    Binlog.encodeEvent({ ...event, header: { ...event.header, eventSize: size, logPos: position } }, format)
  )
}

const gtid = (sequence: bigint, standalone: boolean): Binlog.MariadbGtidEvent => ({
  _tag: "MariadbGtid",
  header: header(EventType.GTID),
  domainId: 0,
  sequence,
  flags: standalone ? 1 : 0,
  standalone,
  commitId: undefined,
  xid: undefined,
  flagsExtra: 0,
  extraEngines: undefined,
  startAlterSequence: undefined
})

const query = (text: string): Binlog.QueryEvent => ({
  _tag: "Query",
  header: header(EventType.QUERY),
  threadId: 1,
  executionTime: 0,
  errorCode: 0,
  statusVars: new Uint8Array(0),
  database: "shop",
  query: text,
  compressed: false,
  compressedQuery: undefined
})

const decodeAll = (events: ReadonlyArray<Binlog.BinlogEvent>) => {
  const decoder = new ChangeDecoder("binlog.000001", "crc32", new GtidState(true), undefined, values)
  const out: Array<ReplicationEvent> = []
  for (const event of events) {
    const failed = decoder.push(encode(event), out)
    if (failed !== undefined) return failed
  }
  return out
}

describe("ChangeDecoder", () => {
  it("a statement logged as text inside a transaction is no commit of its own", () => {
    const out = decodeAll([
      gtid(7n, false),
      query("INSERT INTO t VALUES (1)"),
      query("INSERT INTO t VALUES (2)"),
      { _tag: "Xid", header: header(EventType.XID), xid: 5n }
    ]) as Array<ReplicationEvent>
    assert.deepStrictEqual(
      out.map((e) => e._tag),
      ["SchemaChange", "SchemaChange", "Commit"]
    )
    const commit = out[2] as Extract<ReplicationEvent, { _tag: "Commit" }>
    assert.deepStrictEqual([commit.xid, commit.position.gtid, commit.position.gtidSet], [5n, "0-1-7", "0-1-7"])
  })

  it("DDL (a standalone GTID) and a non-transactional write (BEGIN … COMMIT) each end with a Commit", () => {
    const out = decodeAll([
      gtid(8n, true),
      query("CREATE TABLE t (id INT)"),
      gtid(9n, false),
      query("BEGIN"),
      query("INSERT INTO myisam_table VALUES (1)"),
      query("COMMIT")
    ]) as Array<ReplicationEvent>
    assert.deepStrictEqual(
      out.map((e) => e._tag),
      ["SchemaChange", "Commit", "SchemaChange", "Commit"]
    )
    assert.deepStrictEqual(
      out.filter((e) => e._tag === "Commit").map((e) => e.position.gtidSet),
      ["0-1-8", "0-1-9"]
    )
  })

  it("an INCIDENT, a rows event for a table no TABLE_MAP announced, and a corrupted event fail naming their position", () => {
    const rows: Binlog.RowsEvent = {
      _tag: "Rows",
      header: header(EventType.WRITE_ROWS_V1),
      kind: "write",
      version: 1,
      compressed: false,
      partial: false,
      tableId: 42,
      flags: 1,
      extraData: new Uint8Array(0),
      columnCount: 1,
      columnsPresent: new Uint8Array([1]),
      columnsPresentAfter: undefined,
      rows: new Uint8Array([0, 1, 0, 0, 0])
    }
    const incident = decodeAll([
      {
        _tag: "Other",
        header: header(EventType.INCIDENT),
        body: new Uint8Array([1, 0, 11, ...new TextEncoder().encode("LOST_EVENTS")])
      }
    ])
    assert.deepStrictEqual(
      [(incident as { reason: string }).reason, (incident as { position: number }).position],
      ["incident", position]
    )
    const unknown = decodeAll([rows])
    assert.strictEqual((unknown as { reason: string }).reason, "unknown-table")
    const decoder = new ChangeDecoder("binlog.000001", "crc32", new GtidState(true), undefined, values)
    const bytes = encode({ _tag: "Xid", header: header(EventType.XID), xid: 1n })
    bytes[20] ^= 0xff
    const corrupted = decoder.push(bytes, [])
    assert.strictEqual(corrupted?.reason, "checksum")
    assert.strictEqual(corrupted?.position, position)
    assert.strictEqual(corrupted?.file, "binlog.000001")
  })
})
