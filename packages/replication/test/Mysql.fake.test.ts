// MySQL's flavor of the binlog, which the suite's MariaDB cannot write: a MySQL 8.4 binlog built with
// the protocol package's encoders (GTID_LOG, PREVIOUS_GTIDS, ROWS v2, PARTIAL_UPDATE_ROWS,
// TRANSACTION_PAYLOAD, HEARTBEAT_V2),
// served by the fake server over verify-identity TLS with zstd compression. The transaction payload
// is compressed by the `zstd` command-line tool, an implementation independent of ours.
import { execFileSync } from "node:child_process"
import { assert, layer } from "@effect/vitest"
import { FakeServer } from "@effect-mysql/fake-server"
import {
  Binlog,
  type ClientCommand,
  ColumnType,
  concatBytes,
  makeColumnDefinition,
  makeOkPacket,
  OkPacket,
  type ResolvedValueOptions,
  resolveValueOptions
} from "@effect-mysql/protocol"
import { HarnessError, TestPki } from "@effect-mysql/testing"
import { Context, Effect, Layer, Result, Schedule } from "effect"
import type * as Replication from "../src/Replication.ts"
import type { ReplicationEvent } from "../src/ReplicationEvent.ts"
import { collect, commits, ofTag } from "./support.ts"

class Pki extends Context.Service<Pki, TestPki.TestPki>()("test/Pki") {}

const PkiLive = Layer.effect(Pki, Effect.orDie(TestPki.generate))

const uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
const format: Binlog.BinlogFormat = { ...Binlog.initialFormat, serverVersion: "8.4.3", checksum: "crc32" }
const values = resolveValueOptions({ timeZone: "Z" }) as ResolvedValueOptions
const { EventType } = Binlog

const column = (name: string, type: number, over: Partial<Binlog.TableColumn> = {}): Binlog.TableColumn =>
  Binlog.makeTableColumn({ type, name, ...over })

const header = (type: number, over: Partial<Binlog.EventHeader> = {}): Binlog.EventHeader => ({
  timestamp: 1796300000,
  type,
  serverId: 1,
  eventSize: 0,
  logPos: 0,
  flags: 0,
  ...over
})

const table: Binlog.TableMapEvent = {
  _tag: "TableMap",
  header: header(EventType.TABLE_MAP),
  tableId: 91,
  flags: 1,
  database: "shop",
  table: "items",
  columns: [
    column("id", ColumnType.LONG, { nullable: false, unsigned: false }),
    column("name", ColumnType.VARCHAR, { metadata: 80, collation: 255 }),
    column("price", ColumnType.NEWDECIMAL, { metadata: 10 | (2 << 8), unsigned: false }),
    column("doc", ColumnType.JSON, { metadata: 4 }),
    column("big", ColumnType.LONGLONG, { unsigned: true }),
    column("at", ColumnType.DATETIME2, { metadata: 3 })
  ],
  primaryKey: [0]
}

const row = (id: number, name: string, price: string) => ({
  id,
  name,
  price,
  doc: { id, tags: ["a", "b"], nested: { ok: true, n: 1.5 } },
  big: 18446744073709551615n,
  at: new Date("2026-12-03T10:11:12.345Z")
})

const ok = <A, E>(result: Result.Result<A, E>): A => Result.getOrThrow(result)

const rowsEvent = (
  kind: "write" | "update" | "delete",
  rows: Parameters<typeof Binlog.encodeRowImages>[2]
): Binlog.RowsEvent => ({
  _tag: "Rows",
  header: header(
    kind === "write" ? EventType.WRITE_ROWS_V2 : kind === "update" ? EventType.UPDATE_ROWS_V2 : EventType.DELETE_ROWS_V2
  ),
  kind,
  version: 2,
  compressed: false,
  partial: false,
  tableId: table.tableId,
  flags: 1,
  extraData: new Uint8Array(0),
  columnCount: table.columns.length,
  columnsPresent: new Uint8Array([0x3f]),
  columnsPresentAfter: kind === "update" ? new Uint8Array([0x3f]) : undefined,
  rows: ok(Binlog.encodeRowImages(table, kind, rows, values))
})

const query = (text: string): Binlog.QueryEvent => ({
  _tag: "Query",
  header: header(EventType.QUERY),
  threadId: 8,
  executionTime: 0,
  errorCode: 0,
  statusVars: new Uint8Array(0),
  database: "shop",
  query: text,
  compressed: false,
  compressedQuery: undefined
})

const gtid = (sequence: bigint): Binlog.MysqlGtidEvent => ({
  _tag: "MysqlGtid",
  header: header(EventType.GTID_LOG),
  anonymous: false,
  flags: 1,
  uuid,
  sequence,
  lastCommitted: 0n,
  sequenceNumber: 1n
})

const xid = (n: bigint): Binlog.XidEvent => ({ _tag: "Xid", header: header(EventType.XID), xid: n })

/** Events laid out in a file from offset 4: each event's header says where the next starts. */
const layOut = (events: ReadonlyArray<Binlog.BinlogEvent>, f: Binlog.BinlogFormat, start = 4) => {
  let pos = start
  return events.map((event) => {
    const size = ok(Binlog.encodeEvent(event, f)).length
    pos += size
    const placed = { ...event, header: { ...event.header, eventSize: size, logPos: pos } } as Binlog.BinlogEvent
    return ok(Binlog.encodeEvent(placed, f))
  })
}

/**
 * A PARTIAL_UPDATE_ROWS event (binlog_row_value_options=PARTIAL_JSON): the after image holds the id
 * and, for `doc`, a diff replacing `$.nested.ok` rather than the whole document. The encoder writes
 * no partial images, so the after image is laid out here, byte by byte, as MySQL's
 * `Rows_log_event::write_row_data` does.
 */
const partialUpdate = (): Binlog.RowsEvent => {
  const before = ok(Binlog.encodeRowImages(table, "write", [row(2, "Grüße", "1.00")], values))
  const path = new TextEncoder().encode("$.nested.ok")
  const value = ok(Binlog.encodeJsonBinary(false))
  const diff = [0 /* REPLACE */, path.length, ...path, value.length, ...value]
  const after = [
    0x01, // value options: PARTIAL_JSON_UPDATES
    0x01, // partial bits, one per JSON column: `doc` holds diffs
    0x00, // null bitmap of the two columns present
    ...[2, 0, 0, 0], // id
    ...[diff.length, 0, 0, 0], // doc: 4 length bytes (metadata 4), then the diffs
    ...diff
  ]
  return {
    ...rowsEvent("update", []),
    header: header(EventType.PARTIAL_UPDATE_ROWS),
    partial: true,
    columnsPresentAfter: new Uint8Array([0x09]),
    rows: new Uint8Array([...before, ...after])
  }
}

/** The events of transaction 43, in a TRANSACTION_PAYLOAD compressed by the zstd CLI. */
const payloadEvent = (): Binlog.TransactionPayloadEvent => {
  const inner = { ...format, checksum: "none" } as const
  const events = layOut([query("BEGIN"), table, rowsEvent("write", [row(3, "payload", "0.01")]), xid(101n)], inner)
  const plain = concatBytes(events)
  const compressed = new Uint8Array(execFileSync("zstd", ["-q", "-c"], { input: plain }))
  return {
    _tag: "TransactionPayload",
    header: header(EventType.TRANSACTION_PAYLOAD),
    compression: Binlog.PayloadCompression.ZSTD,
    uncompressedSize: plain.length,
    payload: compressed
  }
}

const binlog = (): ReadonlyArray<Uint8Array> => {
  const rotate: Binlog.RotateEvent = {
    _tag: "Rotate",
    header: header(EventType.ROTATE, { flags: Binlog.EventFlag.ARTIFICIAL }),
    position: 4n,
    file: "binlog.000003"
  }
  const description: Binlog.FormatDescriptionEvent = {
    _tag: "FormatDescription",
    header: header(EventType.FORMAT_DESCRIPTION),
    binlogVersion: 4,
    serverVersion: "8.4.3",
    createTimestamp: 0,
    headerLength: 19,
    postHeaderLengths: Binlog.initialFormat.postHeaderLengths,
    checksum: "crc32"
  }
  const previous: Binlog.PreviousGtidsEvent = {
    _tag: "PreviousGtids",
    header: header(EventType.PREVIOUS_GTIDS),
    sets: [{ uuid, intervals: [{ start: 1n, end: 42n }] }]
  }
  const heartbeat: Binlog.HeartbeatEvent = {
    _tag: "Heartbeat",
    header: header(EventType.HEARTBEAT_V2),
    file: "binlog.000003",
    position: 4n
  }
  const file = layOut(
    [
      description,
      previous,
      gtid(42n),
      query("BEGIN"),
      table,
      rowsEvent("write", [row(1, "tea", "12.50"), row(2, "Grüße", "-0.99")]),
      rowsEvent("update", [{ before: row(2, "Grüße", "-0.99"), after: row(2, "Grüße", "1.00") }]),
      rowsEvent("delete", [row(1, "tea", "12.50")]),
      xid(100n),
      heartbeat,
      gtid(43n),
      payloadEvent(),
      gtid(44n),
      query("BEGIN"),
      table,
      partialUpdate(),
      xid(102n),
      gtid(45n),
      query("CREATE TABLE notes (id INT)")
    ],
    format
  )
  // The ROTATE a dump starts with is made up for the dump, not part of the file: its position is 0.
  const size = ok(Binlog.encodeEvent(rotate, format)).length
  return [ok(Binlog.encodeEvent({ ...rotate, header: { ...rotate.header, eventSize: size } }, format)), ...file]
}

const statusColumns = ["File", "Position", "Executed_Gtid_Set"].map((name) =>
  makeColumnDefinition({ name, type: ColumnType.VAR_STRING, collation: 45 })
)

/**
 * A MySQL 8.4 with TLS and zstd that serves `binlog()` to any dump, and records the dump commands.
 * With `cutAfter`, the first dump's connection is dropped after that many of the binlog's events.
 */
const mysqlServer = (pki: TestPki.TestPki, cutAfter?: number) => {
  const dumps: Array<ClientCommand> = []
  return Effect.map(
    FakeServer.start({
      accounts: [{ user: "cdc", password: "cdc-secret" }],
      tls: { cert: pki.servers.good.cert.pem, key: pki.servers.good.key.pem },
      compression: ["zstd"],
      statements: (sql) => {
        if (sql.startsWith("SET ")) return { _tag: "Ok" }
        if (sql === "SELECT @@global.binlog_checksum AS checksum") {
          return {
            _tag: "ResultSet",
            columns: [makeColumnDefinition({ name: "checksum", type: ColumnType.VAR_STRING, collation: 45 })],
            rows: [["CRC32"]]
          }
        }
        if (sql === "SHOW BINARY LOG STATUS") {
          return { _tag: "ResultSet", columns: statusColumns, rows: [["binlog.000003", "4", `${uuid}:1-41`]] }
        }
        return undefined
      },
      hooks: {
        onCommand: (command, session) => {
          if (command._tag === "ComRegisterSlave") {
            return Effect.as(session.send("command", [ok(OkPacket.encode(makeOkPacket(), session.capabilities))]), true)
          }
          if (command._tag !== "ComBinlogDump" && command._tag !== "ComBinlogDumpGtid") return Effect.succeed(false)
          dumps.push(command)
          const packets = binlog().map((event) => {
            const packet = new Uint8Array(event.length + 1)
            packet.set(event, 1)
            return packet
          })
          if (cutAfter !== undefined && dumps.length === 1) {
            return Effect.andThen(
              session.send("command", packets.slice(0, cutAfter)),
              Effect.fail(new HarnessError({ message: "connection cut in the middle of the binlog" }))
            )
          }
          return Effect.as(session.send("command", packets), true)
        }
      }
    }),
    (server) => ({ server, dumps })
  )
}

/** The account's options for the fake server, over verify-identity TLS. */
const replicaOf = (server: FakeServer.FakeServer, pki: TestPki.TestPki) => ({
  host: server.host,
  port: server.port,
  user: "cdc",
  password: "cdc-secret",
  ssl: { mode: "verify-identity", ca: pki.ca.pem } as const,
  types: { timeZone: "Z" }
})

/** The changes `binlog()` holds, in order: four transactions. */
const servedTags: ReadonlyArray<ReplicationEvent["_tag"]> = [
  "RowsInserted",
  "RowsUpdated",
  "RowsDeleted",
  "Commit",
  "RowsInserted",
  "Commit",
  "RowsUpdated",
  "Commit",
  "SchemaChange",
  "Commit"
]

const servedAll = (events: ReadonlyArray<ReplicationEvent>) => commits(events) === 4

layer(PkiLive, { timeout: 60_000, excludeTestServices: true })("replication from MySQL (fake server)", (it) => {
  it.effect("GTIDs, ROWS v2, a zstd transaction payload and DDL, over verify-identity TLS with zstd", () =>
    Effect.gen(function* () {
      const pki = yield* Pki
      const { server, dumps } = yield* mysqlServer(pki)
      const compression = { algorithms: ["zstd"] as const, required: true }
      const options = { ...replicaOf(server, pki), compression, serverId: 77 }
      const read = (from: Replication.StartFrom) => collect({ ...options, from }, servedAll)
      const events = yield* read("now")
      assert.deepStrictEqual(
        events.map((e) => e._tag),
        servedTags
      )
      assert.deepStrictEqual(ofTag(events, "RowsInserted")[0]!.rows, [row(1, "tea", "12.50"), row(2, "Grüße", "-0.99")])
      assert.deepStrictEqual(ofTag(events, "RowsUpdated")[0]!.rows, [
        { before: row(2, "Grüße", "-0.99"), after: row(2, "Grüße", "1.00") }
      ])
      assert.deepStrictEqual(ofTag(events, "RowsDeleted")[0]!.rows, [row(1, "tea", "12.50")])
      const { doc } = row(2, "Grüße", "1.00")
      assert.deepStrictEqual(ofTag(events, "RowsUpdated")[1]!.rows, [
        { before: row(2, "Grüße", "1.00"), after: { id: 2, doc: { ...doc, nested: { ok: false, n: 1.5 } } } }
      ])
      assert.deepStrictEqual(ofTag(events, "RowsInserted")[1]!.rows, [row(3, "payload", "0.01")])
      const [first, second, partial, third] = ofTag(events, "Commit")
      assert.strictEqual(first!.xid, 100n)
      assert.deepStrictEqual([first!.position.gtid, first!.position.gtidSet], [`${uuid}:42`, `${uuid}:1-42`])
      assert.deepStrictEqual([second!.xid, second!.position.gtidSet], [101n, `${uuid}:1-43`])
      assert.deepStrictEqual([partial!.xid, partial!.position.gtidSet], [102n, `${uuid}:1-44`])
      assert.deepStrictEqual([third!.xid, third!.position.gtidSet], [undefined, `${uuid}:1-45`])
      assert.strictEqual(ofTag(events, "SchemaChange")[0]!.query, "CREATE TABLE notes (id INT)")
      assert.strictEqual(first!.position.file, "binlog.000003")
      // "now" starts at the file position the server reported.
      assert.deepStrictEqual(dumps[0], {
        _tag: "ComBinlogDump",
        binlogPosition: 4,
        flags: 0,
        serverId: 77,
        binlogFilename: "binlog.000003"
      })

      // Resumed from a Commit: COM_BINLOG_DUMP_GTID with the commit's GTID set.
      yield* read(first!.position)
      const resumed = dumps[1]!
      assert.strictEqual(resumed._tag, "ComBinlogDumpGtid")
      if (resumed._tag === "ComBinlogDumpGtid") {
        assert.strictEqual(Binlog.formatMysqlGtidSet(ok(Binlog.decodeMysqlGtidSet(resumed.gtidData!))), `${uuid}:1-42`)
        assert.strictEqual(resumed.serverId, 77)
      }
      const dumped = server.connections.find((c) => c.commands.some((command) => command._tag === "ComBinlogDump"))!
      assert.isTrue(dumped.tls)
      assert.strictEqual(dumped.compression, "zstd")
    })
  )
  it.effect("a connection lost in the middle of a transaction: reconnected, nothing lost and nothing repeated", () =>
    Effect.gen(function* () {
      const pki = yield* Pki
      // Cut after the file's first events, the transaction's INSERT and UPDATE rows included.
      const { server, dumps } = yield* mysqlServer(pki, 9)
      const events = yield* collect(
        { ...replicaOf(server, pki), serverId: 78, from: "now", reconnect: Schedule.spaced("10 millis") },
        servedAll
      )
      assert.deepStrictEqual(
        events.map((e) => e._tag),
        servedTags
      )
      // Both dumps started where "now" was when the stream began.
      assert.strictEqual(dumps.length, 2)
      assert.deepStrictEqual(dumps[1], dumps[0])
    })
  )
})
