/**
 * ERR_Packet: a command (or the connection) failed; and MariaDB's progress report, which borrows the
 * ERR header with the error code 0xFFFF.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_err_packet.html
 * MariaDB: https://mariadb.com/kb/en/err_packet/
 *          https://mariadb.com/kb/en/progress-reporting/
 *
 * ```
 * int<1>      header             // [1 byte]  0xFF
 * int<2>      error code         // [2 bytes]
 * string[1]   sql state marker   // [1 byte]  '#' (left out by servers in a few early connection errors)
 * string[5]   sql state          // [5 bytes]
 * string<EOF> error message
 * ```
 *
 * Progress report (MariaDB, with MARIADB_CLIENT_PROGRESS, during long statements):
 *
 * ```
 * int<1>         header          // [1 byte]  0xFF
 * int<2>         error code      // [2 bytes] 0xFFFF
 * int<1>         string count    // [1 byte]  1
 * int<1>         stage           // [1 byte]
 * int<1>         max stage       // [1 byte]
 * int<3>         progress        // [3 bytes] thousandths of a percent, 0..100000
 * string<lenenc> progress info   // the statement's current step
 * ```
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Schema } from "effect"
import { define, int1, int3, lenencString, type PacketCodec, restString, UInt8, UInt16, UInt24 } from "./Packet.ts"
import { WireError } from "./Wire.ts"

/** The error code of MariaDB's progress report. */
export const PROGRESS_REPORT_CODE = 0xffff

/** The decoded ERR packet. */
export const ErrPacketSchema: Schema.Struct<{
  readonly _tag: Schema.tag<"ErrPacket">
  /** The server's errno (1045, 1064, …). */
  readonly errorCode: typeof UInt16
  /** Five characters ("28000"); absent when the server left out the '#' marker. */
  readonly sqlState: Schema.optionalKey<Schema.String>
  readonly errorMessage: Schema.String
}> = Schema.Struct({
  _tag: Schema.tag("ErrPacket"),
  errorCode: UInt16,
  sqlState: Schema.optionalKey(Schema.String.check(Schema.isBetweenLength(5, 5))),
  errorMessage: Schema.String
})

export type ErrPacket = typeof ErrPacketSchema.Type

const HASH = 0x23

/** The ERR packet codec. A progress report (code 0xFFFF) is refused: decode it with `ProgressReport`. */
export const ErrPacket: PacketCodec<ErrPacket> = define(
  "ErrPacket",
  ErrPacketSchema,
  (L) => [
    L.tag("ErrPacket"),
    L.header("header", 0xff),
    L.custom(
      "errorCode",
      (r, acc) => {
        const at = r.pos
        const code = r.int2()
        if (code === PROGRESS_REPORT_CODE) throw new WireError("a MariaDB progress report, not an error", at)
        acc.errorCode = code
      },
      (w, v) => {
        w.int2(v.errorCode)
      }
    ),
    L.custom(
      "sqlState",
      (r, acc) => {
        if (r.remaining() >= 6 && r.buf[r.pos] === HASH) {
          r.skip(1)
          acc.sqlState = r.fixedString(5)
        }
      },
      (w, v) => {
        if (v.sqlState !== undefined) {
          const at = w.pos
          w.int1(HASH).string(v.sqlState)
          if (w.pos - at !== 6) throw new WireError("the SQL state must be 5 ASCII characters", at)
        }
      }
    ),
    L.custom(
      "errorMessage",
      (r, acc) => {
        acc.errorMessage = restString.read(r)
      },
      (w, v) => {
        if (v.sqlState === undefined && v.errorMessage.startsWith("#")) {
          throw new WireError("a message starting with '#' needs a SQL state (it would read as the marker)", w.pos)
        }
        w.string(v.errorMessage)
      }
    )
  ],
  { tag: "ErrPacket" }
)

/** The decoded progress report. */
export const ProgressReportSchema: Schema.Struct<{
  readonly _tag: Schema.tag<"ProgressReport">
  /** Number of strings that follow; MariaDB sends 1. */
  readonly stringCount: typeof UInt8
  readonly stage: typeof UInt8
  readonly maxStage: typeof UInt8
  /** Progress in thousandths of a percent (0..100000). */
  readonly progress: typeof UInt24
  readonly info: Schema.String
}> = Schema.Struct({
  _tag: Schema.tag("ProgressReport"),
  stringCount: UInt8,
  stage: UInt8,
  maxStage: UInt8,
  progress: UInt24,
  info: Schema.String
})

export type ProgressReport = typeof ProgressReportSchema.Type

/** The MariaDB progress report codec. */
export const ProgressReport: PacketCodec<ProgressReport> = define(
  "ProgressReport",
  ProgressReportSchema,
  (L) => [
    L.tag("ProgressReport"),
    L.header("header", 0xff),
    L.custom(
      "errorCode",
      (r) => {
        const at = r.pos
        if (r.int2() !== PROGRESS_REPORT_CODE)
          throw new WireError("not a progress report (error code is not 0xFFFF)", at)
      },
      (w) => {
        w.int2(PROGRESS_REPORT_CODE)
      }
    ),
    L.field("stringCount", int1),
    L.field("stage", int1),
    L.field("maxStage", int1),
    L.field("progress", int3),
    L.field("info", lenencString)
  ],
  { tag: "ProgressReport" }
)

/** `true` when an ERR-headed payload is a MariaDB progress report. */
export const isProgressReport = (payload: Uint8Array): boolean =>
  payload.length >= 3 && payload[0] === 0xff && payload[1] === 0xff && payload[2] === 0xff
