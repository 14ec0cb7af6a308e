/**
 * COM_QUERY: run a statement in the text protocol, with query attributes when
 * CLIENT_QUERY_ATTRIBUTES is negotiated (MySQL 8.0.23+).
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query.html
 * MariaDB: https://mariadb.com/kb/en/com_query/
 *
 * ```
 * int<1>        command               // [1 byte] 0x03
 * if CLIENT_QUERY_ATTRIBUTES:
 *   int<lenenc> parameter count
 *   int<lenenc> parameter set count   // always 1
 *   if parameter count > 0:
 *     binary<var> null bitmap         // [(count + 7) / 8 bytes]
 *     int<1>      new params bind flag // [1 byte] always 1
 *     for each parameter:
 *       int<2>         type and flag   // [2 bytes] ColumnType, 0x8000 when unsigned
 *       string<lenenc> name
 *     for each non-NULL parameter:
 *       binary<var>    value           // binary protocol encoding of its type
 * string<EOF>   query
 * ```
 *
 * Attribute values travel already encoded in the binary protocol (see the value codecs); this
 * module only needs their lengths, which follow from their types.
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Result, Schema } from "effect"
import { Capability, type CapabilitySet } from "./Capabilities.ts"
import { ColumnType } from "./ColumnType.ts"
import { type FramedPacket, MAX_PACKET_PAYLOAD, PACKET_HEADER_LENGTH } from "./Framing.ts"
import { capability } from "./internal/conditions.ts"
import { define, type FieldCodec, frameWith, type PacketCodec, restString, UInt16 } from "./Packet.ts"
import type { ProtocolError } from "./ProtocolError.ts"
import { type Reader, WireError } from "./Wire.ts"

/** Command byte of COM_QUERY. */
export const COM_QUERY = 0x03

/** One query attribute. */
export const QueryAttributeSchema: Schema.Struct<{
  readonly name: Schema.String
  /** Type code in the low byte; 0x8000 for unsigned. */
  readonly type: typeof UInt16
  /** The value in the binary protocol encoding of `type`; `null` for NULL. */
  readonly value: Schema.NullOr<Schema.Uint8Array>
}> = Schema.Struct({
  name: Schema.String,
  type: UInt16,
  value: Schema.NullOr(Schema.Uint8Array)
})

export type QueryAttribute = typeof QueryAttributeSchema.Type

/**
 * Length of a binary-protocol value of type `type` at the reader's position, length prefix
 * included (the reader is not moved).
 */
const binaryValueLength = (type: number, r: Reader): number => {
  switch (type & 0xff) {
    case ColumnType.NULL:
      return 0
    case ColumnType.TINY:
      return 1
    case ColumnType.SHORT:
    case ColumnType.YEAR:
      return 2
    case ColumnType.LONG:
    case ColumnType.INT24:
    case ColumnType.FLOAT:
      return 4
    case ColumnType.LONGLONG:
    case ColumnType.DOUBLE:
      return 8
    case ColumnType.DATE:
    case ColumnType.DATETIME:
    case ColumnType.TIMESTAMP:
    case ColumnType.TIME:
      r.need(1)
      return 1 + r.buf[r.pos]
    default: {
      const start = r.pos
      const n = r.lenencLength()
      const total = r.pos - start + n
      r.pos = start
      return total
    }
  }
}

/** The query attributes block (parameter count through values). */
const queryAttributes: FieldCodec<ReadonlyArray<QueryAttribute>> = {
  read: (r) => {
    const count = r.lenencNumber()
    const setsAt = r.pos
    const sets = r.lenencNumber()
    if (sets !== 1) throw new WireError(`parameter set count must be 1, got ${sets}`, setsAt)
    if (count === 0) return []
    if (count > r.remaining()) throw new WireError(`${count} query attributes cannot fit in the packet`, setsAt)
    const bitmap = r.fixedBytes((count + 7) >>> 3)
    const flagAt = r.pos
    if (r.int1() !== 1)
      throw new WireError("unsupported: query attributes without types (new params bind flag 0)", flagAt)
    const types: Array<number> = []
    const names: Array<string> = []
    for (let i = 0; i < count; i++) {
      types.push(r.int2())
      names.push(r.lenencString())
    }
    const out: Array<QueryAttribute> = []
    for (let i = 0; i < count; i++) {
      const isNull = (bitmap[i >>> 3] & (1 << (i & 7))) !== 0
      const value = isNull ? null : r.fixedBytes(binaryValueLength(types[i], r)).slice()
      out.push({ name: names[i], type: types[i], value })
    }
    return out
  },
  write: (w, attributes) => {
    w.lenencInt(attributes.length).lenencInt(1)
    if (attributes.length === 0) return
    const bitmap = new Uint8Array((attributes.length + 7) >>> 3)
    attributes.forEach((a, i) => {
      if (a.value === null) bitmap[i >>> 3] |= 1 << (i & 7)
    })
    w.bytes(bitmap).int1(1)
    for (const a of attributes) w.int2(a.type).lenencString(a.name)
    for (const a of attributes) if (a.value !== null) w.bytes(a.value)
  }
}

/** The decoded COM_QUERY. */
export const ComQuerySchema: Schema.Struct<{
  readonly _tag: Schema.tag<"ComQuery">
  /** Present when CLIENT_QUERY_ATTRIBUTES is negotiated (possibly empty). */
  readonly attributes: Schema.optionalKey<Schema.$Array<typeof QueryAttributeSchema>>
  readonly query: Schema.String
}> = Schema.Struct({
  _tag: Schema.tag("ComQuery"),
  attributes: Schema.optionalKey(Schema.Array(QueryAttributeSchema)),
  query: Schema.String
})

export type ComQuery = typeof ComQuerySchema.Type

/** The COM_QUERY codec. */
export const ComQuery: PacketCodec<ComQuery> = define(
  "ComQuery",
  ComQuerySchema,
  (L) => [
    L.tag("ComQuery"),
    L.header("command", COM_QUERY),
    L.when(
      capability(Capability.CLIENT_QUERY_ATTRIBUTES),
      L.custom(
        "attributes",
        (r, acc) => {
          acc.attributes = queryAttributes.read(r)
        },
        (w, v) => {
          queryAttributes.write(w, v.attributes ?? [])
        }
      )
    ),
    L.field("query", restString)
  ],
  { tag: "ComQuery", capacity: 256 }
)

/**
 * COM_QUERY without attributes, framed as the first packet of a command: the same bytes as
 * `ComQuery.encode` then `encodePacket(…, 0)`, without the schema walk (the value is ours) or the
 * copy behind a header. An ASCII statement, the usual kind, is written byte by byte into a buffer of
 * its exact size: text queries are the commonest command, and `SELECT 1` spent more time in the
 * general encoder than in its own bytes.
 */
export const frameQuery = (query: string, caps: CapabilitySet): Result.Result<FramedPacket, ProtocolError> =>
  asciiFrame(query, caps) ??
  frameWith("ComQuery", (w) => ComQuery.unsafeWrite(w, { _tag: "ComQuery", query }, caps), 8 + 3 * query.length)

/** The one packet of an ASCII statement; undefined for other text, or text too long for one packet. */
const asciiFrame = (query: string, caps: CapabilitySet): Result.Result<FramedPacket, never> | undefined => {
  // Without attributes the attribute block is a parameter count of 0 and a parameter set count of 1.
  const attributes = (caps.capabilities & Capability.CLIENT_QUERY_ATTRIBUTES) !== 0
  const start = PACKET_HEADER_LENGTH + (attributes ? 3 : 1)
  const length = start - PACKET_HEADER_LENGTH + query.length
  if (length >= MAX_PACKET_PAYLOAD) return undefined
  const bytes = new Uint8Array(PACKET_HEADER_LENGTH + length)
  for (let i = 0; i < query.length; i++) {
    const code = query.charCodeAt(i)
    if (code > 0x7f) return undefined
    bytes[start + i] = code
  }
  bytes[0] = length & 0xff
  bytes[1] = (length >>> 8) & 0xff
  bytes[2] = length >>> 16
  bytes[PACKET_HEADER_LENGTH] = COM_QUERY
  if (attributes) bytes[PACKET_HEADER_LENGTH + 2] = 1
  return Result.succeed({ bytes, nextSequenceId: 1 })
}
