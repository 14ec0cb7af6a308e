/**
 * Commands of the command phase (client to server), except COM_QUERY (`ComQuery.ts`) and
 * COM_STMT_EXECUTE (`ComStmtExecute.ts`): each an Effect Schema and a layout; and `decodeCommand`,
 * which tells them apart by their first byte, for servers and proxies.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_command_phase.html
 *        https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_command_phase_utility.html
 *        https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_command_phase_ps.html
 *        https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication.html
 * MariaDB: https://mariadb.com/kb/en/2-text-protocol/ (COM_* pages)
 *          https://mariadb.com/kb/en/com_change_user/
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Result, Schema } from "effect"
import { Capability, type CapabilitySet, emptyCapabilitySet } from "./Capabilities.ts"
import { ComQuery } from "./ComQuery.ts"
import { ConnectAttributesSchema } from "./HandshakeResponse41.ts"
import { capability } from "./internal/conditions.ts"
import { authResponse1, authResponseNul, connectAttributes } from "./internal/fields.ts"
import {
  define,
  type FieldCodec,
  int2,
  int4,
  nulString,
  type PacketCodec,
  restBytes,
  restString,
  UInt16,
  UInt32,
  UInt64,
  uint64
} from "./Packet.ts"
import type { ProtocolError } from "./ProtocolError.ts"
import { protocolError } from "./ProtocolError.ts"
import { WireError } from "./Wire.ts"

/** Command bytes (`enum_server_command`). */
export const Command = {
  COM_SLEEP: 0x00,
  COM_QUIT: 0x01,
  COM_INIT_DB: 0x02,
  COM_QUERY: 0x03,
  COM_FIELD_LIST: 0x04,
  COM_CREATE_DB: 0x05,
  COM_DROP_DB: 0x06,
  COM_REFRESH: 0x07,
  COM_SHUTDOWN: 0x08,
  COM_STATISTICS: 0x09,
  COM_PROCESS_INFO: 0x0a,
  COM_CONNECT: 0x0b,
  COM_PROCESS_KILL: 0x0c,
  COM_DEBUG: 0x0d,
  COM_PING: 0x0e,
  COM_TIME: 0x0f,
  COM_DELAYED_INSERT: 0x10,
  COM_CHANGE_USER: 0x11,
  COM_BINLOG_DUMP: 0x12,
  COM_TABLE_DUMP: 0x13,
  COM_CONNECT_OUT: 0x14,
  COM_REGISTER_SLAVE: 0x15,
  COM_STMT_PREPARE: 0x16,
  COM_STMT_EXECUTE: 0x17,
  COM_STMT_SEND_LONG_DATA: 0x18,
  COM_STMT_CLOSE: 0x19,
  COM_STMT_RESET: 0x1a,
  COM_SET_OPTION: 0x1b,
  COM_STMT_FETCH: 0x1c,
  COM_DAEMON: 0x1d,
  COM_BINLOG_DUMP_GTID: 0x1e,
  COM_RESET_CONNECTION: 0x1f,
  COM_CLONE: 0x20,
  /** MariaDB: bulk execution of a prepared statement. */
  COM_STMT_BULK_EXECUTE: 0xfa
} as const

const C = Command

/** A command with no argument: the payload is the command byte alone. */
const bare = <const Tag extends string>(tag: Tag, byte: number): PacketCodec<{ readonly _tag: Tag }> => {
  const schema = Schema.Struct({ _tag: Schema.tag(tag) })
  return define(tag, schema, (L) => [L.tag(tag as never), L.header("command", byte)], { tag, capacity: 1 })
}

// ---------------------------------------------------------------------------------------------
// Utility commands
// ---------------------------------------------------------------------------------------------

/** COM_QUIT [0x01]: close the connection (the server answers nothing, or an OK). */
export const ComQuit: PacketCodec<{ readonly _tag: "ComQuit" }> = bare("ComQuit", C.COM_QUIT)
export type ComQuit = typeof ComQuit.schema.Type

/** COM_PING [0x0E]: is the server alive; answered by OK. */
export const ComPing: PacketCodec<{ readonly _tag: "ComPing" }> = bare("ComPing", C.COM_PING)
export type ComPing = typeof ComPing.schema.Type

/** COM_STATISTICS [0x09]: a human-readable status string, answered by a bare string<EOF>. */
export const ComStatistics: PacketCodec<{ readonly _tag: "ComStatistics" }> = bare("ComStatistics", C.COM_STATISTICS)
export type ComStatistics = typeof ComStatistics.schema.Type

/** COM_RESET_CONNECTION [0x1F]: reset the session state without re-authenticating; answered by OK. */
export const ComResetConnection: PacketCodec<{ readonly _tag: "ComResetConnection" }> = bare(
  "ComResetConnection",
  C.COM_RESET_CONNECTION
)
export type ComResetConnection = typeof ComResetConnection.schema.Type

/**
 * COM_INIT_DB [0x02]: change the default schema.
 *
 * ```
 * int<1>      command      // [1 byte] 0x02
 * string<EOF> schema name
 * ```
 */
export const ComInitDb: PacketCodec<{ readonly _tag: "ComInitDb"; readonly schema: string }> = define(
  "ComInitDb",
  Schema.Struct({ _tag: Schema.tag("ComInitDb"), schema: Schema.String }),
  (L) => [L.tag("ComInitDb"), L.header("command", C.COM_INIT_DB), L.field("schema", restString)],
  { tag: "ComInitDb" }
)
export type ComInitDb = typeof ComInitDb.schema.Type

/** Options of COM_SET_OPTION. */
export const SetOption = {
  MYSQL_OPTION_MULTI_STATEMENTS_ON: 0,
  MYSQL_OPTION_MULTI_STATEMENTS_OFF: 1
} as const

/**
 * COM_SET_OPTION [0x1B]: switch multi-statements on or off; answered by EOF (or OK).
 *
 * ```
 * int<1> command   // [1 byte]  0x1B
 * int<2> option    // [2 bytes] SetOption
 * ```
 */
export const ComSetOption: PacketCodec<{ readonly _tag: "ComSetOption"; readonly option: number }> = define(
  "ComSetOption",
  Schema.Struct({ _tag: Schema.tag("ComSetOption"), option: UInt16 }),
  (L) => [L.tag("ComSetOption"), L.header("command", C.COM_SET_OPTION), L.field("option", int2)],
  { tag: "ComSetOption", capacity: 3 }
)
export type ComSetOption = typeof ComSetOption.schema.Type

/**
 * COM_PROCESS_KILL [0x0C]: kill a connection (deprecated in favour of `KILL n`).
 *
 * ```
 * int<1> command         // [1 byte]  0x0C
 * int<4> connection id   // [4 bytes]
 * ```
 */
export const ComProcessKill: PacketCodec<{ readonly _tag: "ComProcessKill"; readonly connectionId: number }> = define(
  "ComProcessKill",
  Schema.Struct({ _tag: Schema.tag("ComProcessKill"), connectionId: UInt32 }),
  (L) => [L.tag("ComProcessKill"), L.header("command", C.COM_PROCESS_KILL), L.field("connectionId", int4)],
  { tag: "ComProcessKill", capacity: 5 }
)
export type ComProcessKill = typeof ComProcessKill.schema.Type

// ---------------------------------------------------------------------------------------------
// COM_CHANGE_USER
// ---------------------------------------------------------------------------------------------

/**
 * COM_CHANGE_USER [0x11]: re-authenticate as another user on the same connection; the server
 * answers like the authentication phase (OK, ERR, AuthSwitchRequest, …).
 *
 * ```
 * int<1>      command                  // [1 byte] 0x11
 * string<NUL> user
 * if CLIENT_SECURE_CONNECTION:
 *   int<1> length [1 byte], string[length] auth response
 * else:
 *   string<NUL> auth response
 * string<NUL> database
 * if more data:
 *   int<2>      character set          // [2 bytes]
 *   if CLIENT_PLUGIN_AUTH:   string<NUL> auth plugin name
 *   if CLIENT_CONNECT_ATTRS: int<lenenc> length, then string<lenenc> key/value pairs
 * ```
 */
export const ComChangeUserSchema: Schema.Struct<{
  readonly _tag: Schema.tag<"ComChangeUser">
  readonly username: Schema.String
  readonly authResponse: Schema.Uint8Array
  readonly database: Schema.String
  /** Collation id; absent only from very old clients (then nothing follows). */
  readonly characterSet: Schema.optionalKey<typeof UInt16>
  /** With CLIENT_PLUGIN_AUTH (and a character set). */
  readonly authPluginName: Schema.optionalKey<Schema.String>
  /** With CLIENT_CONNECT_ATTRS (and a character set). */
  readonly connectAttributes: Schema.optionalKey<typeof ConnectAttributesSchema>
}> = Schema.Struct({
  _tag: Schema.tag("ComChangeUser"),
  username: Schema.String,
  authResponse: Schema.Uint8Array,
  database: Schema.String,
  characterSet: Schema.optionalKey(UInt16),
  authPluginName: Schema.optionalKey(Schema.String),
  connectAttributes: Schema.optionalKey(ConnectAttributesSchema)
})

export type ComChangeUser = typeof ComChangeUserSchema.Type

const hasCharset = (v: { readonly characterSet?: number | undefined }) => v.characterSet !== undefined

export const ComChangeUser: PacketCodec<ComChangeUser> = define(
  "ComChangeUser",
  ComChangeUserSchema,
  (L) => [
    L.tag("ComChangeUser"),
    L.header("command", C.COM_CHANGE_USER),
    L.field("username", nulString),
    L.choose(
      capability(Capability.CLIENT_SECURE_CONNECTION),
      [L.field("authResponse", authResponse1)],
      [L.field("authResponse", authResponseNul)]
    ),
    L.field("database", nulString),
    L.custom(
      "characterSet",
      (r, acc) => {
        if (!r.atEnd()) acc.characterSet = r.int2()
      },
      (w, v) => {
        if (v.characterSet !== undefined) w.int2(v.characterSet)
      }
    ),
    L.when(
      (v, caps) => hasCharset(v) && (caps.capabilities & Capability.CLIENT_PLUGIN_AUTH) !== 0,
      L.field("authPluginName", nulString)
    ),
    L.when(
      (v, caps) => hasCharset(v) && (caps.capabilities & Capability.CLIENT_CONNECT_ATTRS) !== 0,
      L.field("connectAttributes", connectAttributes)
    )
  ],
  { tag: "ComChangeUser", capacity: 128 }
)

// ---------------------------------------------------------------------------------------------
// Prepared statements (COM_STMT_EXECUTE lives in ComStmtExecute.ts)
// ---------------------------------------------------------------------------------------------

/**
 * COM_STMT_PREPARE [0x16]: prepare a statement; answered by COM_STMT_PREPARE_OK or ERR.
 *
 * ```
 * int<1>      command   // [1 byte] 0x16
 * string<EOF> query
 * ```
 */
export const ComStmtPrepare: PacketCodec<{ readonly _tag: "ComStmtPrepare"; readonly query: string }> = define(
  "ComStmtPrepare",
  Schema.Struct({ _tag: Schema.tag("ComStmtPrepare"), query: Schema.String }),
  (L) => [L.tag("ComStmtPrepare"), L.header("command", C.COM_STMT_PREPARE), L.field("query", restString)],
  { tag: "ComStmtPrepare", capacity: 256 }
)
export type ComStmtPrepare = typeof ComStmtPrepare.schema.Type

/**
 * COM_STMT_SEND_LONG_DATA [0x18]: send (part of) a parameter's value ahead of execution; no answer.
 *
 * ```
 * int<1>      command        // [1 byte]  0x18
 * int<4>      statement id   // [4 bytes]
 * int<2>      param id       // [2 bytes] 0-based
 * string<EOF> data
 * ```
 */
export const ComStmtSendLongData: PacketCodec<{
  readonly _tag: "ComStmtSendLongData"
  readonly statementId: number
  readonly paramId: number
  readonly data: Uint8Array
}> = define(
  "ComStmtSendLongData",
  Schema.Struct({
    _tag: Schema.tag("ComStmtSendLongData"),
    statementId: UInt32,
    paramId: UInt16,
    data: Schema.Uint8Array
  }),
  (L) => [
    L.tag("ComStmtSendLongData"),
    L.header("command", C.COM_STMT_SEND_LONG_DATA),
    L.field("statementId", int4),
    L.field("paramId", int2),
    L.field("data", restBytes)
  ],
  { tag: "ComStmtSendLongData" }
)
export type ComStmtSendLongData = typeof ComStmtSendLongData.schema.Type

const statementCommand = <const Tag extends string>(
  tag: Tag,
  byte: number
): PacketCodec<{ readonly _tag: Tag; readonly statementId: number }> =>
  define(
    tag,
    Schema.Struct({ _tag: Schema.tag(tag), statementId: UInt32 }),
    (L) => [L.tag(tag as never), L.header("command", byte), L.field("statementId", int4)],
    { tag, capacity: 5 }
  )

/**
 * COM_STMT_CLOSE [0x19]: deallocate a statement; no answer.
 *
 * ```
 * int<1> command        // [1 byte]  0x19
 * int<4> statement id   // [4 bytes]
 * ```
 */
export const ComStmtClose: PacketCodec<{ readonly _tag: "ComStmtClose"; readonly statementId: number }> =
  statementCommand("ComStmtClose", C.COM_STMT_CLOSE)
export type ComStmtClose = typeof ComStmtClose.schema.Type

/**
 * COM_STMT_RESET [0x1A]: drop long data and close the cursor of a statement; answered by OK.
 *
 * ```
 * int<1> command        // [1 byte]  0x1A
 * int<4> statement id   // [4 bytes]
 * ```
 */
export const ComStmtReset: PacketCodec<{ readonly _tag: "ComStmtReset"; readonly statementId: number }> =
  statementCommand("ComStmtReset", C.COM_STMT_RESET)
export type ComStmtReset = typeof ComStmtReset.schema.Type

/**
 * COM_STMT_FETCH [0x1C]: fetch rows from a statement's cursor.
 *
 * ```
 * int<1> command        // [1 byte]  0x1C
 * int<4> statement id   // [4 bytes]
 * int<4> num rows       // [4 bytes]
 * ```
 */
export const ComStmtFetch: PacketCodec<{
  readonly _tag: "ComStmtFetch"
  readonly statementId: number
  readonly numRows: number
}> = define(
  "ComStmtFetch",
  Schema.Struct({ _tag: Schema.tag("ComStmtFetch"), statementId: UInt32, numRows: UInt32 }),
  (L) => [
    L.tag("ComStmtFetch"),
    L.header("command", C.COM_STMT_FETCH),
    L.field("statementId", int4),
    L.field("numRows", int4)
  ],
  { tag: "ComStmtFetch", capacity: 9 }
)
export type ComStmtFetch = typeof ComStmtFetch.schema.Type

// ---------------------------------------------------------------------------------------------
// Replication
// ---------------------------------------------------------------------------------------------

/** `int<1>` length, then that many bytes of UTF-8 text. */
const string1: FieldCodec<string> = {
  read: (r) => r.fixedString(r.int1()),
  write: (w, v) => {
    const at = w.pos
    w.int1(0).string(v)
    const n = w.pos - at - 1
    if (n > 255) throw new WireError(`text of ${n} bytes does not fit a 1-byte length`, at)
    w.buf[at] = n
  }
}

/**
 * COM_REGISTER_SLAVE [0x15]: a replica registers itself with the primary.
 *
 * ```
 * int<1>    command            // [1 byte]  0x15
 * int<4>    server id          // [4 bytes]
 * int<1>    hostname length    // [1 byte]
 * string[n] hostname
 * int<1>    user length        // [1 byte]
 * string[n] user
 * int<1>    password length    // [1 byte]
 * string[n] password
 * int<2>    port               // [2 bytes]
 * int<4>    replication rank   // [4 bytes] ignored
 * int<4>    master id          // [4 bytes] usually 0
 * ```
 */
export const ComRegisterSlave: PacketCodec<{
  readonly _tag: "ComRegisterSlave"
  readonly serverId: number
  readonly hostname: string
  readonly user: string
  readonly password: string
  readonly port: number
  readonly replicationRank: number
  readonly masterId: number
}> = define(
  "ComRegisterSlave",
  Schema.Struct({
    _tag: Schema.tag("ComRegisterSlave"),
    serverId: UInt32,
    hostname: Schema.String,
    user: Schema.String,
    password: Schema.String,
    port: UInt16,
    replicationRank: UInt32,
    masterId: UInt32
  }),
  (L) => [
    L.tag("ComRegisterSlave"),
    L.header("command", C.COM_REGISTER_SLAVE),
    L.field("serverId", int4),
    L.field("hostname", string1),
    L.field("user", string1),
    L.field("password", string1),
    L.field("port", int2),
    L.field("replicationRank", int4),
    L.field("masterId", int4)
  ],
  { tag: "ComRegisterSlave" }
)
export type ComRegisterSlave = typeof ComRegisterSlave.schema.Type

/** Flags of COM_BINLOG_DUMP and COM_BINLOG_DUMP_GTID. */
export const BinlogDumpFlag = {
  /** Answer with EOF instead of blocking when the binlog has no more events. */
  BINLOG_DUMP_NON_BLOCK: 0x01,
  /** COM_BINLOG_DUMP_GTID: the GTID set follows. */
  BINLOG_THROUGH_POSITION: 0x02,
  BINLOG_THROUGH_GTID: 0x04
} as const

/**
 * COM_BINLOG_DUMP [0x12]: stream binlog events from a file and position.
 *
 * ```
 * int<1>      command           // [1 byte]  0x12
 * int<4>      binlog position   // [4 bytes]
 * int<2>      flags             // [2 bytes] BinlogDumpFlag
 * int<4>      server id         // [4 bytes]
 * string<EOF> binlog filename
 * ```
 */
export const ComBinlogDump: PacketCodec<{
  readonly _tag: "ComBinlogDump"
  readonly binlogPosition: number
  readonly flags: number
  readonly serverId: number
  readonly binlogFilename: string
}> = define(
  "ComBinlogDump",
  Schema.Struct({
    _tag: Schema.tag("ComBinlogDump"),
    binlogPosition: UInt32,
    flags: UInt16,
    serverId: UInt32,
    binlogFilename: Schema.String
  }),
  (L) => [
    L.tag("ComBinlogDump"),
    L.header("command", C.COM_BINLOG_DUMP),
    L.field("binlogPosition", int4),
    L.field("flags", int2),
    L.field("serverId", int4),
    L.field("binlogFilename", restString)
  ],
  { tag: "ComBinlogDump" }
)
export type ComBinlogDump = typeof ComBinlogDump.schema.Type

/**
 * COM_BINLOG_DUMP_GTID [0x1E] (MySQL): stream binlog events from a GTID set.
 *
 * ```
 * int<1>    command                 // [1 byte]  0x1E
 * int<2>    flags                   // [2 bytes] BinlogDumpFlag
 * int<4>    server id               // [4 bytes]
 * int<4>    binlog filename length  // [4 bytes]
 * string[n] binlog filename
 * int<8>    binlog position         // [8 bytes]
 * if flags & BINLOG_THROUGH_GTID:
 *   int<4>    data size             // [4 bytes]
 *   string[n] data                  // the encoded GTID set
 * ```
 */
export const ComBinlogDumpGtidSchema: Schema.Struct<{
  readonly _tag: Schema.tag<"ComBinlogDumpGtid">
  readonly flags: typeof UInt16
  readonly serverId: typeof UInt32
  readonly binlogFilename: Schema.String
  readonly binlogPosition: typeof UInt64
  /** Present when flags has BINLOG_THROUGH_GTID. */
  readonly gtidData: Schema.optionalKey<Schema.Uint8Array>
}> = Schema.Struct({
  _tag: Schema.tag("ComBinlogDumpGtid"),
  flags: UInt16,
  serverId: UInt32,
  binlogFilename: Schema.String,
  binlogPosition: UInt64,
  gtidData: Schema.optionalKey(Schema.Uint8Array)
})

export type ComBinlogDumpGtid = typeof ComBinlogDumpGtidSchema.Type

const string4: FieldCodec<string> = {
  read: (r) => r.fixedString(r.int4()),
  write: (w, v) => {
    const at = w.pos
    w.int4(0).string(v)
    const n = w.pos - at - 4
    w.buf[at] = n & 0xff
    w.buf[at + 1] = (n >>> 8) & 0xff
    w.buf[at + 2] = (n >>> 16) & 0xff
    w.buf[at + 3] = (n >>> 24) & 0xff
  }
}

const bytes4: FieldCodec<Uint8Array> = {
  read: (r) => r.fixedBytes(r.int4()).slice(),
  write: (w, v) => {
    w.int4(v.length).bytes(v)
  }
}

export const ComBinlogDumpGtid: PacketCodec<ComBinlogDumpGtid> = define(
  "ComBinlogDumpGtid",
  ComBinlogDumpGtidSchema,
  (L) => [
    L.tag("ComBinlogDumpGtid"),
    L.header("command", C.COM_BINLOG_DUMP_GTID),
    L.field("flags", int2),
    L.field("serverId", int4),
    L.field("binlogFilename", string4),
    L.field("binlogPosition", uint64),
    L.when((v) => ((v.flags ?? 0) & BinlogDumpFlag.BINLOG_THROUGH_GTID) !== 0, L.field("gtidData", bytes4))
  ],
  { tag: "ComBinlogDumpGtid" }
)

// ---------------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------------

/** A command this module does not decode (COM_STMT_EXECUTE needs the statement's parameter count). */
export interface OtherCommand {
  readonly _tag: "OtherCommand"
  readonly command: number
  readonly payload: Uint8Array
}

/** Every command `decodeCommand` tells apart. */
export type ClientCommand =
  | ComQuit
  | ComInitDb
  | typeof ComQuery.schema.Type
  | ComPing
  | ComStatistics
  | ComChangeUser
  | ComResetConnection
  | ComSetOption
  | ComStmtPrepare
  | ComStmtSendLongData
  | ComStmtClose
  | ComStmtReset
  | ComStmtFetch
  | ComProcessKill
  | ComRegisterSlave
  | ComBinlogDump
  | ComBinlogDumpGtid
  | OtherCommand

type AnyDecoder = Pick<PacketCodec<ClientCommand>, "decode">

const byCommand: ReadonlyMap<number, AnyDecoder> = new Map<number, AnyDecoder>([
  [C.COM_QUIT, ComQuit],
  [C.COM_INIT_DB, ComInitDb],
  [C.COM_QUERY, ComQuery],
  [C.COM_PING, ComPing],
  [C.COM_STATISTICS, ComStatistics],
  [C.COM_CHANGE_USER, ComChangeUser],
  [C.COM_RESET_CONNECTION, ComResetConnection],
  [C.COM_SET_OPTION, ComSetOption],
  [C.COM_STMT_PREPARE, ComStmtPrepare],
  [C.COM_STMT_SEND_LONG_DATA, ComStmtSendLongData],
  [C.COM_STMT_CLOSE, ComStmtClose],
  [C.COM_STMT_RESET, ComStmtReset],
  [C.COM_STMT_FETCH, ComStmtFetch],
  [C.COM_PROCESS_KILL, ComProcessKill],
  [C.COM_REGISTER_SLAVE, ComRegisterSlave],
  [C.COM_BINLOG_DUMP, ComBinlogDump],
  [C.COM_BINLOG_DUMP_GTID, ComBinlogDumpGtid]
])

/**
 * Server side: decodes a command packet by its first byte. Commands without a codec here come back
 * as `OtherCommand` with their payload.
 */
export const decodeCommand = (
  payload: Uint8Array,
  caps: CapabilitySet = emptyCapabilitySet
): Result.Result<ClientCommand, ProtocolError> => {
  if (payload.length === 0) return Result.fail(protocolError("Command", "empty command packet", "command", 0))
  const codec = byCommand.get(payload[0])
  if (codec === undefined) return Result.succeed({ _tag: "OtherCommand", command: payload[0], payload })
  return codec.decode(payload, caps)
}
