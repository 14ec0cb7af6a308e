/**
 * Binlog events of both flavors as pure codecs: the event shapes, their decoder and encoder, the
 * event checksum, compressed blocks and GTID text and bytes. (The `unsafe*` readers and writers the
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
export { realColumnType, TableMapField } from "./TableMap.ts"
