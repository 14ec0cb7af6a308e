/**
 * OK_Packet: success of a command, and (with header 0xFE under CLIENT_DEPRECATE_EOF) the end of a
 * result set. Carries session-state changes under CLIENT_SESSION_TRACK.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html
 *        https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html#sect_protocol_basic_ok_packet_sessinfo
 * MariaDB: https://mariadb.com/kb/en/ok_packet/
 *
 * ```
 * int<1>       header                 // [1 byte] 0x00, or 0xFE for OK-as-EOF
 * int<lenenc>  affected rows
 * int<lenenc>  last insert id
 * int<2>       status flags           // [2 bytes] (CLIENT_PROTOCOL_41 is assumed: it is required)
 * int<2>       warnings               // [2 bytes]
 * string<lenenc> info                 // left out when empty (and no state changed)
 * if CLIENT_SESSION_TRACK and status & SERVER_SESSION_STATE_CHANGED:
 *     string<lenenc> session state info: repeated
 *       int<1>         type           // [1 byte] SESSION_TRACK_*
 *       string<lenenc> data
 * ```
 *
 * The MySQL page shows the info as `string<EOF>` without CLIENT_SESSION_TRACK; servers (MariaDB
 * 10.11 recorded in test/fixtures) and libmysqlclient's parser use `string<lenenc>` in both cases,
 * and so does this codec.
 *
 * Session-state entries are decoded by type (system variables, schema, state change, GTIDs,
 * transaction characteristics, transaction state); an entry whose data does not have the expected
 * layout, or of an unknown type, is kept as raw bytes, so every packet re-encodes exactly.
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Schema } from "effect"
import { Capability, type CapabilitySet } from "./Capabilities.ts"
import { define, type FieldCodec, int2, lenencInt, type PacketCodec, UInt8, UInt16, UInt64 } from "./Packet.ts"
import { StatusFlag } from "./StatusFlags.ts"
import { Reader, WireError, Writer } from "./Wire.ts"

/** Session-state information types (`enum_session_state_type`). */
export const SessionTrackType = {
  SESSION_TRACK_SYSTEM_VARIABLES: 0x00,
  SESSION_TRACK_SCHEMA: 0x01,
  SESSION_TRACK_STATE_CHANGE: 0x02,
  SESSION_TRACK_GTIDS: 0x03,
  SESSION_TRACK_TRANSACTION_CHARACTERISTICS: 0x04,
  SESSION_TRACK_TRANSACTION_STATE: 0x05
} as const

/** System variables changed: name/value pairs, in order. */
export const SystemVariablesChange: Schema.TaggedStruct<
  "SystemVariables",
  {
    readonly variables: Schema.$Array<Schema.Tuple<readonly [Schema.String, Schema.String]>>
  }
> = Schema.TaggedStruct("SystemVariables", {
  variables: Schema.Array(Schema.Tuple([Schema.String, Schema.String]))
})
/** The default schema changed. */
export const SchemaChange: Schema.TaggedStruct<
  "Schema",
  {
    readonly schema: Schema.String
  }
> = Schema.TaggedStruct("Schema", { schema: Schema.String })
/** Session state changed ("1"). */
export const StateChange: Schema.TaggedStruct<
  "StateChange",
  {
    readonly value: Schema.String
  }
> = Schema.TaggedStruct("StateChange", { value: Schema.String })
/** GTIDs of the last transaction (MySQL). */
export const GtidsChange: Schema.TaggedStruct<
  "Gtids",
  {
    readonly encoding: typeof UInt8
    readonly gtids: Schema.String
  }
> = Schema.TaggedStruct("Gtids", { encoding: UInt8, gtids: Schema.String })
/** Transaction characteristics: the statements that would recreate them. */
export const TransactionCharacteristicsChange: Schema.TaggedStruct<
  "TransactionCharacteristics",
  {
    readonly characteristics: Schema.String
  }
> = Schema.TaggedStruct("TransactionCharacteristics", {
  characteristics: Schema.String
})
/** Transaction state: 8 characters (`T_______`, …). */
export const TransactionStateChange: Schema.TaggedStruct<
  "TransactionState",
  {
    readonly state: Schema.String
  }
> = Schema.TaggedStruct("TransactionState", { state: Schema.String })
/** An entry of unknown type, or whose data has an unexpected layout, kept as is. */
export const UnknownChange: Schema.TaggedStruct<
  "Unknown",
  {
    readonly type: typeof UInt8
    readonly data: Schema.Uint8Array
  }
> = Schema.TaggedStruct("Unknown", { type: UInt8, data: Schema.Uint8Array })

/** One session-state change. */
export const SessionStateChangeSchema: Schema.Union<
  readonly [
    typeof SystemVariablesChange,
    typeof SchemaChange,
    typeof StateChange,
    typeof GtidsChange,
    typeof TransactionCharacteristicsChange,
    typeof TransactionStateChange,
    typeof UnknownChange
  ]
> = Schema.Union([
  SystemVariablesChange,
  SchemaChange,
  StateChange,
  GtidsChange,
  TransactionCharacteristicsChange,
  TransactionStateChange,
  UnknownChange
])

export type SessionStateChange = typeof SessionStateChangeSchema.Type

const T = SessionTrackType

/** Decodes one entry's data by type; `undefined` when it does not have the expected layout. */
const decodeEntry = (type: number, data: Uint8Array): SessionStateChange | undefined => {
  const r = new Reader(data)
  try {
    let change: SessionStateChange | undefined
    switch (type) {
      case T.SESSION_TRACK_SYSTEM_VARIABLES: {
        const variables: Array<readonly [string, string]> = []
        do variables.push([r.lenencString(), r.lenencString()])
        while (!r.atEnd())
        change = { _tag: "SystemVariables", variables }
        break
      }
      case T.SESSION_TRACK_SCHEMA:
        change = { _tag: "Schema", schema: r.lenencString() }
        break
      case T.SESSION_TRACK_STATE_CHANGE:
        change = { _tag: "StateChange", value: r.lenencString() }
        break
      case T.SESSION_TRACK_GTIDS:
        change = { _tag: "Gtids", encoding: r.int1(), gtids: r.lenencString() }
        break
      case T.SESSION_TRACK_TRANSACTION_CHARACTERISTICS:
        change = { _tag: "TransactionCharacteristics", characteristics: r.lenencString() }
        break
      case T.SESSION_TRACK_TRANSACTION_STATE:
        change = { _tag: "TransactionState", state: r.lenencString() }
        break
    }
    if (change === undefined || !r.atEnd()) return undefined
    // Text that does not survive a UTF-8 round trip is kept raw, so the packet re-encodes exactly.
    const again = encodeEntry(change)
    if (again.type !== type || again.data.length !== data.length) return undefined
    for (let i = 0; i < data.length; i++) if (again.data[i] !== data[i]) return undefined
    return change
  } catch {
    return undefined
  }
}

const encodeEntry = (change: SessionStateChange): { readonly type: number; readonly data: Uint8Array } => {
  const w = new Writer(32)
  switch (change._tag) {
    case "SystemVariables":
      if (change.variables.length === 0) throw new WireError("a SystemVariables change needs a variable", 0)
      for (const [name, value] of change.variables) w.lenencString(name).lenencString(value)
      return { type: T.SESSION_TRACK_SYSTEM_VARIABLES, data: w.finish() }
    case "Schema":
      return { type: T.SESSION_TRACK_SCHEMA, data: w.lenencString(change.schema).finish() }
    case "StateChange":
      return { type: T.SESSION_TRACK_STATE_CHANGE, data: w.lenencString(change.value).finish() }
    case "Gtids":
      return { type: T.SESSION_TRACK_GTIDS, data: w.int1(change.encoding).lenencString(change.gtids).finish() }
    case "TransactionCharacteristics":
      return {
        type: T.SESSION_TRACK_TRANSACTION_CHARACTERISTICS,
        data: w.lenencString(change.characteristics).finish()
      }
    case "TransactionState":
      return { type: T.SESSION_TRACK_TRANSACTION_STATE, data: w.lenencString(change.state).finish() }
    case "Unknown":
      return { type: change.type, data: change.data }
  }
}

/** The session state info block: `string<lenenc>` holding `int<1>` type + `string<lenenc>` data entries. */
const sessionStateInfo: FieldCodec<ReadonlyArray<SessionStateChange>> = {
  read: (r) => {
    const block = r.lenencBytes()
    const inner = new Reader(block)
    const out: Array<SessionStateChange> = []
    while (!inner.atEnd()) {
      const type = inner.int1()
      const data = inner.lenencBytes().slice()
      out.push(decodeEntry(type, data) ?? { _tag: "Unknown", type, data })
    }
    return out
  },
  write: (w, changes) => {
    const inner = new Writer(64)
    for (const change of changes) {
      const { data, type } = encodeEntry(change)
      inner.int1(type).lenencBytes(data)
    }
    w.lenencBytes(inner.finish())
  }
}

/** The decoded OK packet. */
export const OkPacketSchema: Schema.Struct<{
  readonly _tag: Schema.tag<"OkPacket">
  /** 0x00, or 0xFE when it ends a result set under CLIENT_DEPRECATE_EOF. */
  readonly header: Schema.Literals<readonly [0x00, 0xfe]>
  readonly affectedRows: typeof UInt64
  readonly lastInsertId: typeof UInt64
  readonly statusFlags: typeof UInt16
  readonly warnings: typeof UInt16
  /** Human-readable information ("Rows matched: 1  Changed: 1  Warnings: 0"); "" when none. */
  readonly info: Schema.String
  /** Present under CLIENT_SESSION_TRACK when the status has SERVER_SESSION_STATE_CHANGED. */
  readonly sessionStateChanges: Schema.optionalKey<Schema.$Array<typeof SessionStateChangeSchema>>
}> = Schema.Struct({
  _tag: Schema.tag("OkPacket"),
  header: Schema.Literals([0x00, 0xfe]),
  affectedRows: UInt64,
  lastInsertId: UInt64,
  statusFlags: UInt16,
  warnings: UInt16,
  info: Schema.String,
  sessionStateChanges: Schema.optionalKey(Schema.Array(SessionStateChangeSchema))
})

export type OkPacket = typeof OkPacketSchema.Type

const sessionTrack = (caps: CapabilitySet): boolean => (caps.capabilities & Capability.CLIENT_SESSION_TRACK) !== 0

const stateChanged = (v: { readonly statusFlags?: number | undefined }): boolean =>
  ((v.statusFlags ?? 0) & StatusFlag.SERVER_SESSION_STATE_CHANGED) !== 0

/** The OK packet codec (both the 0x00 and the 0xFE header). */
export const OkPacket: PacketCodec<OkPacket> = define(
  "OkPacket",
  OkPacketSchema,
  (L) => [
    L.tag("OkPacket"),
    L.custom(
      "header",
      (r, acc) => {
        const at = r.pos
        const h = r.int1()
        if (h !== 0x00 && h !== 0xfe) throw new WireError(`expected 0x00 or 0xfe, got 0x${h.toString(16)}`, at)
        acc.header = h
      },
      (w, v) => {
        w.int1(v.header)
      }
    ),
    L.field("affectedRows", lenencInt),
    L.field("lastInsertId", lenencInt),
    L.field("statusFlags", int2),
    L.field("warnings", int2),
    L.custom(
      "info",
      (r, acc) => {
        acc.info = r.atEnd() ? "" : r.lenencString()
      },
      (w, v, caps) => {
        if (v.info !== "" || (stateChanged(v) && sessionTrack(caps))) w.lenencString(v.info)
      }
    ),
    L.when(
      (v, caps) => stateChanged(v) && sessionTrack(caps),
      L.custom(
        "sessionStateChanges",
        (r, acc) => {
          acc.sessionStateChanges = r.atEnd() ? [] : sessionStateInfo.read(r)
        },
        (w, v) => {
          sessionStateInfo.write(w, v.sessionStateChanges ?? [])
        }
      )
    )
  ],
  { tag: "OkPacket" }
)

/** An OK packet with zeros and an empty info, for servers and mocks. */
export const makeOkPacket = (fields: Partial<Omit<OkPacket, "_tag">> = {}): OkPacket => ({
  _tag: "OkPacket",
  header: 0x00,
  affectedRows: 0,
  lastInsertId: 0,
  statusFlags: StatusFlag.SERVER_STATUS_AUTOCOMMIT,
  warnings: 0,
  info: "",
  ...fields
})
