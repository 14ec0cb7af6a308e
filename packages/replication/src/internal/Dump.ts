/**
 * Opens the binlog dump a stream reads: finds where it starts (asking the server for "now" and
 * "start"), tells the server what this replica understands (checksums, MariaDB's GTID events, the
 * heartbeat), registers as a replica and sends COM_BINLOG_DUMP, or COM_BINLOG_DUMP_GTID for a MySQL
 * GTID set.
 */
import { ConfigError, type MysqlConnection, type MysqlError } from "@effect-mysql/client"
import { Binlog, BinlogDumpFlag } from "@effect-mysql/protocol"
import { Duration, Effect, Result, type Stream } from "effect"
import type { StartFrom } from "../Replication.ts"
import { ReplicationError } from "../ReplicationError.ts"
import { GtidState } from "./GtidState.ts"
import type { Settings } from "./Settings.ts"

export interface Dump {
  /** The file the dump starts in ("" when it starts from GTIDs: the server's first ROTATE names it). */
  readonly file: string
  /** Where the dump starts, as `from` says it: "now" and "start" resolved to the file position they were. */
  readonly from: StartFrom
  readonly state: GtidState
  /**
   * Whether events end with a CRC32, from the first one on: the ROTATE a dump starts with comes
   * before any FORMAT_DESCRIPTION, with the checksum the server's `binlog_checksum` says.
   */
  readonly checksum: "none" | "crc32"
  readonly events: Stream.Stream<Uint8Array, MysqlError>
}

/** MariaDB's replica capability that asks for its GTID events (MARIA_SLAVE_CAPABILITY_GTID). */
const MARIADB_GTID_CAPABILITY = 4

/** Where the dump starts: a file position, or a GTID text (MariaDB's connect state, MySQL's set). */
type Start =
  | { readonly _tag: "File"; readonly file: string; readonly position: number; readonly state: GtidState }
  | { readonly _tag: "Gtid"; readonly gtid: string; readonly state: GtidState }

export const openDump = Effect.fnUntraced(function* (connection: MysqlConnection.MysqlConnection, settings: Settings) {
  const mariadb = connection.info.flavor === "mariadb"
  const start = yield* resolveStart(connection, settings, mariadb)
  const setting = yield* connection.query<{ checksum: string | null }>("SELECT @@global.binlog_checksum AS checksum")
  const checksum = setting.rows[0]?.checksum === "CRC32" ? "crc32" : "none"
  const heartbeatNanos = BigInt(Math.round(Duration.toMillis(settings.heartbeat))) * 1_000_000n
  yield* connection.query(
    "SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum, " +
      `@master_heartbeat_period = ${heartbeatNanos}, @source_heartbeat_period = ${heartbeatNanos}` +
      (mariadb ? `, @mariadb_slave_capability = ${MARIADB_GTID_CAPABILITY}` : "")
  )
  if (start._tag === "Gtid" && mariadb) {
    yield* connection.query("SET @slave_connect_state = ?", { params: [start.gtid] })
  }
  yield* connection.registerReplica({ serverId: settings.serverId })
  const idleTimeout = Duration.times(settings.heartbeat, 2)
  if (start._tag === "File" || mariadb) {
    const file = start._tag === "File" ? start.file : ""
    const events = connection.binlogDump(
      {
        _tag: "ComBinlogDump",
        binlogPosition: start._tag === "File" ? start.position : 4,
        flags: 0,
        serverId: settings.serverId,
        binlogFilename: file
      },
      { idleTimeout }
    )
    const from: StartFrom =
      start._tag === "File" ? { file: start.file, position: start.position } : { gtid: start.gtid }
    return { file, from, state: start.state, checksum, events } satisfies Dump
  }
  const set = Binlog.parseMysqlGtidSet(start.gtid)
  if (Result.isFailure(set)) return yield* startError(`from.gtid: ${set.failure.message}`)
  const gtidData = yield* Effect.fromResult(Binlog.encodeMysqlGtidSet(set.success))
  const events = connection.binlogDump(
    {
      _tag: "ComBinlogDumpGtid",
      flags: BinlogDumpFlag.BINLOG_THROUGH_GTID,
      serverId: settings.serverId,
      binlogFilename: "",
      binlogPosition: 4n,
      gtidData
    },
    { idleTimeout }
  )
  return { file: "", from: { gtid: start.gtid }, state: start.state, checksum, events } satisfies Dump
})

const startError = (message: string) => new ConfigError({ option: "from", message })

const resolveStart = (
  connection: MysqlConnection.MysqlConnection,
  settings: Settings,
  mariadb: boolean
): Effect.Effect<Start, MysqlError | ReplicationError> =>
  Effect.gen(function* () {
    const from = settings.from
    if (from === "now") {
      const status = yield* connection.query<Record<string, unknown>>(masterStatus(connection))
      const row = status.rows[0]
      if (row === undefined) return yield* noBinlog
      const file = String(row.File)
      const position = Number(row.Position)
      return { _tag: "File", file, position, state: yield* stateAt(connection, mariadb, file, position, row) }
    }
    if (from === "start") {
      const logs = yield* connection.query<Record<string, unknown>>("SHOW BINARY LOGS")
      const first = logs.rows[0]
      if (first === undefined) return yield* noBinlog
      // The file starts with its GTID list (MariaDB) or PREVIOUS_GTIDS (MySQL): the state is learnt from it.
      return { _tag: "File", file: String(first.Log_name), position: 4, state: new GtidState(false) }
    }
    if (!("file" in from)) return { _tag: "Gtid", gtid: from.gtid, state: yield* seeded(from.gtid, mariadb) }
    if (from.gtidSet !== undefined)
      return { _tag: "Gtid", gtid: from.gtidSet, state: yield* seeded(from.gtidSet, mariadb) }
    return {
      _tag: "File",
      file: from.file,
      position: from.position,
      state: yield* stateAt(connection, mariadb, from.file, from.position, undefined)
    }
  })

const noBinlog = new ReplicationError({
  reason: "no-binlog",
  message: "the server writes no binlog (start it with log-bin and binlog_format=ROW)"
})

// MySQL 8.4 dropped SHOW MASTER STATUS for SHOW BINARY LOG STATUS.
const masterStatus = (connection: MysqlConnection.MysqlConnection): string => {
  const [major, minor] = connection.info.serverVersion.split(".").map(Number)
  return connection.info.flavor === "mysql" && (major > 8 || (major === 8 && minor >= 4))
    ? "SHOW BINARY LOG STATUS"
    : "SHOW MASTER STATUS"
}

/** The GTID state at a file position: MariaDB computes it (BINLOG_GTID_POS); MySQL's status row has it for "now". */
const stateAt = (
  connection: MysqlConnection.MysqlConnection,
  mariadb: boolean,
  file: string,
  position: number,
  status: Record<string, unknown> | undefined
): Effect.Effect<GtidState, MysqlError | ReplicationError> => {
  if (!mariadb) {
    const executed = status?.Executed_Gtid_Set
    return typeof executed === "string"
      ? seeded(executed.replace(/\s/g, ""), false)
      : Effect.succeed(new GtidState(false))
  }
  return Effect.flatMap(
    connection.query<{ gtid: string | null }>("SELECT BINLOG_GTID_POS(?, ?) AS gtid", { params: [file, position] }),
    (result) => seeded(result.rows[0]?.gtid ?? "", true)
  )
}

/** A state from GTID text; empty text is the empty state. */
const seeded = (text: string, mariadb: boolean): Effect.Effect<GtidState, ConfigError> => {
  const state = new GtidState(true)
  if (text === "") return Effect.succeed(state)
  if (mariadb) {
    const gtids = Binlog.parseMariadbGtidList(text)
    if (Result.isFailure(gtids)) return Effect.fail(startError(`from.gtid: ${gtids.failure.message}`))
    state.seedMariadb(gtids.success)
  } else {
    const set = Binlog.parseMysqlGtidSet(text)
    if (Result.isFailure(set)) return Effect.fail(startError(`from.gtid: ${set.failure.message}`))
    state.seedMysql(set.success)
  }
  return Effect.succeed(state)
}
