/**
 * EOF_Packet: end of the column definitions and of the rows of a result set, when
 * CLIENT_DEPRECATE_EOF is not negotiated (with it, an OK packet with header 0xFE takes its place).
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_eof_packet.html
 * MariaDB: https://mariadb.com/kb/en/eof_packet/
 *
 * ```
 * int<1> header         // [1 byte]  0xFE
 * int<2> warnings       // [2 bytes] (CLIENT_PROTOCOL_41 is assumed: it is required)
 * int<2> status flags   // [2 bytes]
 * ```
 *
 * A payload starting with 0xFE is an EOF packet only when shorter than 9 bytes, and an OK-as-EOF
 * only when shorter than 0xFFFFFF bytes: a text row can start with 0xFE too (an 8-byte length
 * prefix), but then it is at least 2^24 + 8 bytes long. `isEofPacket` and `isOkAsEof` tell them
 * apart.
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Schema } from "effect"
import { define, int2, type PacketCodec, UInt16 } from "./Packet.ts"

/** The decoded EOF packet. */
export const EofPacketSchema: Schema.Struct<{
  readonly _tag: Schema.tag<"EofPacket">
  readonly warnings: typeof UInt16
  readonly statusFlags: typeof UInt16
}> = Schema.Struct({
  _tag: Schema.tag("EofPacket"),
  warnings: UInt16,
  statusFlags: UInt16
})

export type EofPacket = typeof EofPacketSchema.Type

/** The EOF packet codec. */
export const EofPacket: PacketCodec<EofPacket> = define(
  "EofPacket",
  EofPacketSchema,
  (L) => [L.tag("EofPacket"), L.header("header", 0xfe), L.field("warnings", int2), L.field("statusFlags", int2)],
  { tag: "EofPacket", capacity: 5 }
)

/** `true` for an EOF packet (header 0xFE, fewer than 9 bytes), not a row starting with 0xFE. */
export const isEofPacket = (payload: Uint8Array): boolean =>
  payload.length > 0 && payload[0] === 0xfe && payload.length < 9

/**
 * `true` for an OK packet with header 0xFE (the result-set terminator under CLIENT_DEPRECATE_EOF),
 * not a row starting with 0xFE.
 */
export const isOkAsEof = (payload: Uint8Array): boolean =>
  payload.length > 0 && payload[0] === 0xfe && payload.length < 0xffffff
