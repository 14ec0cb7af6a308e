/**
 * COM_STMT_PREPARE_OK: the server's answer to COM_STMT_PREPARE, followed by the parameter and the
 * column definitions.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_prepare.html#sect_protocol_com_stmt_prepare_response_ok
 * MariaDB: https://mariadb.com/kb/en/com_stmt_prepare/#com_stmt_prepare_ok
 *
 * ```
 * int<1> status            // [1 byte]  0x00
 * int<4> statement id      // [4 bytes]
 * int<2> num columns       // [2 bytes]
 * int<2> num params        // [2 bytes]
 * int<1> reserved          // [1 byte]  0x00
 * int<2> warning count     // [2 bytes]
 * if CLIENT_OPTIONAL_RESULTSET_METADATA:
 *   int<1> metadata follows // [1 byte]
 * ```
 *
 * Then, when num params > 0: that many ColumnDefinition41 packets and, without
 * CLIENT_DEPRECATE_EOF, an EOF packet; the same for the columns. `decodeStmtPrepareResponse` and
 * `encodeStmtPrepareResponse` handle the whole sequence.
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Result, Schema } from "effect"
import { Capability, type CapabilitySet, emptyCapabilitySet } from "./Capabilities.ts"
import { type ColumnDefinition, ColumnDefinition41 } from "./ColumnDefinition41.ts"
import { EofPacket } from "./EofPacket.ts"
import { capability } from "./internal/conditions.ts"
import { define, int1, int2, int4, type PacketCodec, UInt8, UInt16, UInt32 } from "./Packet.ts"
import type { ProtocolError } from "./ProtocolError.ts"
import { encodeError, protocolError } from "./ProtocolError.ts"

/** The decoded COM_STMT_PREPARE_OK packet. */
export const ComStmtPrepareOkSchema: Schema.Struct<{
  readonly _tag: Schema.tag<"ComStmtPrepareOk">
  readonly statementId: typeof UInt32
  readonly numColumns: typeof UInt16
  readonly numParams: typeof UInt16
  readonly warningCount: typeof UInt16
  /** Present with CLIENT_OPTIONAL_RESULTSET_METADATA. */
  readonly metadataFollows: Schema.optionalKey<typeof UInt8>
}> = Schema.Struct({
  _tag: Schema.tag("ComStmtPrepareOk"),
  statementId: UInt32,
  numColumns: UInt16,
  numParams: UInt16,
  warningCount: UInt16,
  metadataFollows: Schema.optionalKey(UInt8)
})

export type ComStmtPrepareOk = typeof ComStmtPrepareOkSchema.Type

/** The COM_STMT_PREPARE_OK codec (first packet of the response). */
export const ComStmtPrepareOk: PacketCodec<ComStmtPrepareOk> = define(
  "ComStmtPrepareOk",
  ComStmtPrepareOkSchema,
  (L) => [
    L.tag("ComStmtPrepareOk"),
    L.header("status", 0x00),
    L.field("statementId", int4),
    L.field("numColumns", int2),
    L.field("numParams", int2),
    L.zeros("reserved", 1),
    L.field("warningCount", int2),
    L.when(capability(Capability.CLIENT_OPTIONAL_RESULTSET_METADATA), L.field("metadataFollows", int1))
  ],
  { tag: "ComStmtPrepareOk", capacity: 13 }
)

/** The whole response to COM_STMT_PREPARE. */
export interface StmtPrepareResponse {
  readonly ok: ComStmtPrepareOk
  readonly params: ReadonlyArray<ColumnDefinition>
  /** The EOF after the parameter definitions (without CLIENT_DEPRECATE_EOF). */
  readonly paramsEof?: EofPacket
  readonly columns: ReadonlyArray<ColumnDefinition>
  /** The EOF after the column definitions (without CLIENT_DEPRECATE_EOF). */
  readonly columnsEof?: EofPacket
}

const metadataSent = (ok: ComStmtPrepareOk): boolean => ok.metadataFollows !== 0

/** How many packets follow a COM_STMT_PREPARE_OK. */
export const packetsAfterPrepareOk = (ok: ComStmtPrepareOk, caps: CapabilitySet = emptyCapabilitySet): number => {
  if (!metadataSent(ok)) return 0
  const eof = (caps.capabilities & Capability.CLIENT_DEPRECATE_EOF) === 0 ? 1 : 0
  return (ok.numParams > 0 ? ok.numParams + eof : 0) + (ok.numColumns > 0 ? ok.numColumns + eof : 0)
}

/** Decodes the whole response: the OK packet, then the definitions and EOF packets that follow. */
export const decodeStmtPrepareResponse = (
  payloads: ReadonlyArray<Uint8Array>,
  caps: CapabilitySet = emptyCapabilitySet
): Result.Result<StmtPrepareResponse, ProtocolError> => {
  if (payloads.length === 0) return Result.fail(protocolError("ComStmtPrepareOk", "no packet"))
  const first = ComStmtPrepareOk.decode(payloads[0], caps)
  if (Result.isFailure(first)) return Result.fail(first.failure)
  const ok = first.success
  const expected = 1 + packetsAfterPrepareOk(ok, caps)
  if (payloads.length !== expected) {
    return Result.fail(
      protocolError("ComStmtPrepareOk", `expected ${expected} packet(s) in the response, got ${payloads.length}`)
    )
  }
  const withEof = (caps.capabilities & Capability.CLIENT_DEPRECATE_EOF) === 0
  let i = 1
  const section = (
    count: number
  ): Result.Result<{ defs: Array<ColumnDefinition>; eof: EofPacket | undefined }, ProtocolError> => {
    const defs: Array<ColumnDefinition> = []
    if (count === 0 || !metadataSent(ok)) return Result.succeed({ defs, eof: undefined })
    for (let n = 0; n < count; n++) {
      const def = ColumnDefinition41.decode(payloads[i++], caps)
      if (Result.isFailure(def)) return Result.fail(def.failure)
      defs.push(def.success)
    }
    if (!withEof) return Result.succeed({ defs, eof: undefined })
    const eof = EofPacket.decode(payloads[i++], caps)
    if (Result.isFailure(eof)) return Result.fail(eof.failure)
    return Result.succeed({ defs, eof: eof.success })
  }
  const params = section(ok.numParams)
  if (Result.isFailure(params)) return Result.fail(params.failure)
  const columns = section(ok.numColumns)
  if (Result.isFailure(columns)) return Result.fail(columns.failure)
  return Result.succeed({
    ok,
    params: params.success.defs,
    ...(params.success.eof === undefined ? {} : { paramsEof: params.success.eof }),
    columns: columns.success.defs,
    ...(columns.success.eof === undefined ? {} : { columnsEof: columns.success.eof })
  })
}

/** Encodes the whole response as payloads (frame them with consecutive sequence ids). */
export const encodeStmtPrepareResponse = (
  response: StmtPrepareResponse,
  caps: CapabilitySet = emptyCapabilitySet
): Result.Result<ReadonlyArray<Uint8Array>, ProtocolError> => {
  const { ok } = response
  if (metadataSent(ok) && (response.params.length !== ok.numParams || response.columns.length !== ok.numColumns)) {
    return Result.fail(encodeError("ComStmtPrepareOk", "numParams and numColumns must match the definitions given"))
  }
  const out: Array<Uint8Array> = []
  const first = ComStmtPrepareOk.encode(ok, caps)
  if (Result.isFailure(first)) return Result.fail(first.failure)
  out.push(first.success)
  const withEof = (caps.capabilities & Capability.CLIENT_DEPRECATE_EOF) === 0
  const section = (defs: ReadonlyArray<ColumnDefinition>, eof: EofPacket | undefined): ProtocolError | undefined => {
    if (defs.length === 0 || !metadataSent(ok)) return undefined
    for (const def of defs) {
      const bytes = ColumnDefinition41.encode(def, caps)
      if (Result.isFailure(bytes)) return bytes.failure
      out.push(bytes.success)
    }
    if (withEof) {
      const bytes = EofPacket.encode(eof ?? { warnings: 0, statusFlags: 0 }, caps)
      if (Result.isFailure(bytes)) return bytes.failure
      out.push(bytes.success)
    }
    return undefined
  }
  const e1 = section(response.params, response.paramsEof)
  if (e1 !== undefined) return Result.fail(e1)
  const e2 = section(response.columns, response.columnsEof)
  if (e2 !== undefined) return Result.fail(e2)
  return Result.succeed(out)
}
