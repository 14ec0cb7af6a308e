/**
 * @effect-mysql/protocol: every packet of the classic MySQL/MariaDB protocol as pure codecs, both
 * directions. No IO; decoders answer with a value or a ProtocolError and never throw.
 *
 * (Exports are kept sorted by the formatter.)
 */
export * from "./AuthMoreData.ts"
export * from "./AuthNextFactor.ts"
export * from "./AuthSwitchRequest.ts"
export * as CachingSha2Password from "./auth/CachingSha2Password.ts"
export * as ClientEd25519 from "./auth/ClientEd25519.ts"
export * as MysqlClearPassword from "./auth/MysqlClearPassword.ts"
export * as MysqlNativePassword from "./auth/MysqlNativePassword.ts"
export * as Sha256Password from "./auth/Sha256Password.ts"
export * from "./BinaryResultsetRow.ts"
export * from "./Bytes.ts"
export * as Binlog from "./binlog/index.ts"
export * from "./Capabilities.ts"
export * as Collations from "./Collations.ts"
export * from "./ColumnCount.ts"
export * from "./ColumnDefinition41.ts"
export * from "./ColumnType.ts"
export * from "./Commands.ts"
export * from "./ComQuery.ts"
export * as ComStmtBulkExecute from "./ComStmtBulkExecute.ts"
export * as ComStmtExecute from "./ComStmtExecute.ts"
export * from "./ComStmtPrepareOk.ts"
export * from "./EofPacket.ts"
export * from "./ErrPacket.ts"
export * from "./Framing.ts"
export * from "./HandshakeResponse41.ts"
export * from "./HandshakeV10.ts"
export * from "./LocalInfileRequest.ts"
export * from "./OkPacket.ts"
export type { EncodeInput, FieldCodec, PacketCodec } from "./Packet.ts"
export * as PacketLayout from "./Packet.ts"
export { decodeWith, encodeWith } from "./Packet.ts"
export * from "./ProtocolError.ts"
export * from "./Response.ts"
export * from "./ServerErrors.ts"
export * from "./SslRequest.ts"
export * from "./StatusFlags.ts"
export * from "./TextResultsetRow.ts"
export { decodeBinaryValue, encodeBinaryValue } from "./values/BinaryValue.ts"
export type { ColumnInfo } from "./values/ColumnPlan.ts"
export type { RowDecoder, RowEncoder, RowObject } from "./values/RowCodec.ts"
export { type DateTimeParts, formatDateTime, fromDate, type Zone } from "./values/Temporal.ts"
export { decodeTextValue, encodeTextValue } from "./values/TextValue.ts"
export {
  type ColumnCast,
  parseTimeZone,
  type ResolvedValueOptions,
  resolveValueOptions,
  timeZoneProblem,
  type ValueOptions
} from "./values/ValueOptions.ts"
export type { Reader, WireError, Writer } from "./Wire.ts"
