/**
 * Binlog events of both flavors as pure codecs: the event shapes, their decoder and encoder, the
 * event checksum, compressed blocks, GTID text and bytes, and the row images of ROWS events with
 * MySQL's binary JSON. (The `unsafe*` readers and writers the
 * codecs share stay inside: they throw.)
 *
 * @module
 */
export * from "./BinlogEvent.ts"
export * from "./Checksum.ts"
export * from "./CompressedBlock.ts"
export * from "./EventCodec.ts"
export {
  decodeMysqlGtidSet,
  encodeMysqlGtidSet,
  formatMariadbGtid,
  formatMariadbGtidList,
  formatMysqlGtidSet,
  type MysqlGtidSet,
  type MysqlGtidSetEntry,
  parseMariadbGtid,
  parseMariadbGtidList,
  parseMysqlGtidSet
} from "./Gtid.ts"
export { decodeJsonBinary, encodeJsonBinary, jsonText } from "./JsonBinary.ts"
export { applyJsonDiffs, type JsonDiff, JsonDiffOperation, parseJsonPath } from "./JsonDiff.ts"
export { makeRowImageDecoder, type RowImage, type RowImageDecoder, type UpdatedRow } from "./RowImage.ts"
export { encodeRowImages, type RowImageBitmaps } from "./RowImageEncoder.ts"
export { realColumnType, TableMapField } from "./TableMap.ts"
