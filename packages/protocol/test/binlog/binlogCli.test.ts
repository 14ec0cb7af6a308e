// An independent reader of our bytes: a binlog file made only of events we encoded goes through
// MariaDB's own `mariadb-binlog` (or `mysqlbinlog`), which must read it to the end without error and
// print the statements, table and row values we put in.
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { concatBytes } from "../../src/Bytes.ts"
import {
  type BinlogEvent,
  type BinlogFormat,
  EventType,
  makeTableColumn,
  type TableColumn
} from "../../src/binlog/BinlogEvent.ts"
import { encodeEvent, initialFormat } from "../../src/binlog/EventCodec.ts"
import { ColumnType } from "../../src/ColumnType.ts"
import { ok } from "../support/bytes.ts"
import { BINLOG_MAGIC, header } from "./support.ts"

const cli = ["mariadb-binlog", "mysqlbinlog"].find(
  (name) => ChildProcess.spawnSync(name, ["--version"], { stdio: "ignore" }).status === 0
)

const serverVersion = "10.11.18-MariaDB-log"
const format: BinlogFormat = { ...initialFormat, serverVersion, checksum: "crc32" }

const column = (type: number, metadata: number, nullable: boolean, name: string, collation?: number): TableColumn =>
  makeTableColumn({ type, metadata, nullable, name, unsigned: type === ColumnType.LONG ? false : undefined, collation })

/** Status variables of a query event: Q_FLAGS2_CODE 0, Q_SQL_MODE_CODE 0, Q_CHARSET_CODE utf8mb4 (45, 45, 45). */
const statusVars = new Uint8Array([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 4, 45, 0, 45, 0, 45, 0])

const events = (): ReadonlyArray<BinlogEvent> => {
  const at = { timestamp: 1767225600, serverId: 1 }
  const query = (sql: string): BinlogEvent => ({
    _tag: "Query",
    header: header(EventType.QUERY, at),
    threadId: 4,
    executionTime: 0,
    errorCode: 0,
    statusVars,
    database: "shop",
    query: sql,
    compressed: false,
    compressedQuery: undefined
  })
  const gtid = (sequence: bigint, standalone: boolean): BinlogEvent => ({
    _tag: "MariadbGtid",
    header: header(EventType.GTID, { ...at, flags: 8 }),
    domainId: 0,
    sequence,
    flags: standalone ? 1 | 8 | 32 : 8 | 4, // FL_STANDALONE, FL_ALLOW_PARALLEL, FL_DDL; FL_TRANSACTIONAL
    standalone,
    commitId: undefined,
    xid: undefined,
    flagsExtra: 0,
    extraEngines: undefined,
    startAlterSequence: undefined
  })
  // One row of (a INT NOT NULL, b VARCHAR(10)): null bitmap, a = 7, b = 'seven'.
  const row = new Uint8Array([0, 7, 0, 0, 0, 5, ...new TextEncoder().encode("seven")])
  return [
    {
      _tag: "FormatDescription",
      header: header(EventType.FORMAT_DESCRIPTION, { ...at, flags: 0 }),
      binlogVersion: 4,
      serverVersion,
      createTimestamp: 1767225600,
      headerLength: 19,
      postHeaderLengths: initialFormat.postHeaderLengths,
      checksum: "crc32"
    },
    { _tag: "MariadbGtidList", header: header(EventType.GTID_LIST, at), flags: 0, gtids: [] },
    { _tag: "BinlogCheckpoint", header: header(EventType.BINLOG_CHECKPOINT, at), file: "ours-bin.000001" },
    gtid(1n, true),
    query("CREATE TABLE pair (a INT NOT NULL, b VARCHAR(10))"),
    gtid(2n, false),
    {
      _tag: "AnnotateRows",
      header: header(EventType.ANNOTATE_ROWS, at),
      query: "INSERT INTO pair VALUES (7, 'seven')"
    },
    {
      _tag: "TableMap",
      header: header(EventType.TABLE_MAP, at),
      tableId: 33,
      flags: 1,
      database: "shop",
      table: "pair",
      columns: [column(ColumnType.LONG, 0, false, "a"), column(ColumnType.VARCHAR, 40, true, "b", 45)],
      primaryKey: [0]
    },
    {
      _tag: "Rows",
      header: header(EventType.WRITE_ROWS_V1, at),
      kind: "write",
      version: 1,
      compressed: false,
      partial: false,
      tableId: 33,
      flags: 1,
      extraData: new Uint8Array(0),
      columnCount: 2,
      columnsPresent: new Uint8Array([3]),
      columnsPresentAfter: undefined,
      rows: row
    },
    { _tag: "Xid", header: header(EventType.XID, at), xid: 17n },
    { _tag: "Rotate", header: header(EventType.ROTATE, at), position: 4n, file: "ours-bin.000002" }
  ]
}

/** The file: magic, then each event with its log position (where the next one starts) filled in. */
const binlogFile = (): Uint8Array => {
  const parts: Array<Uint8Array> = [BINLOG_MAGIC]
  let pos = BINLOG_MAGIC.length
  for (const event of events()) {
    const size = ok(encodeEvent(event, format)).length
    pos += size
    parts.push(ok(encodeEvent({ ...event, header: { ...event.header, logPos: pos } } as BinlogEvent, format)))
  }
  return concatBytes(parts)
}

describe("a binlog file of our events", () => {
  it(`reads in ${cli ?? "mariadb-binlog"} without error`, () => {
    expect(cli, "mariadb-binlog comes with mariadb-server: apt-get install -y mariadb-server").toBeDefined()
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "binlog-"))
    try {
      const file = Path.join(dir, "ours-bin.000001")
      Fs.writeFileSync(file, binlogFile())
      const run = ChildProcess.spawnSync(cli ?? "", ["--no-defaults", "--base64-output=never", "-vv", file], {
        encoding: "utf8"
      })
      expect(run.stderr).toBe("")
      expect(run.status).toBe(0)
      const out = run.stdout
      expect(out).toContain("Start: binlog v 4, server v 10.11.18-MariaDB-log")
      expect(out).toContain("GTID 0-1-1 ddl")
      expect(out).toContain("CREATE TABLE pair (a INT NOT NULL, b VARCHAR(10))")
      expect(out).toContain("#Q> INSERT INTO pair VALUES (7, 'seven')")
      expect(out).toContain("Table_map: `shop`.`pair` mapped to number 33")
      expect(out).toContain("### INSERT INTO `shop`.`pair`")
      expect(out).toMatch(/###\s+@1=7 /)
      expect(out).toMatch(/###\s+@2='seven' /)
      expect(out).toContain("Xid = 17")
      expect(out).toContain("Rotate to ours-bin.000002  pos: 4")
      expect(out).not.toMatch(/ERROR:|corrupt|unknown event/i)
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
