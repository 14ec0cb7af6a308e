/**
 * Binlog events of both flavors as pure codecs: the event shapes, their decoder and encoder, the
 * event checksum, compressed blocks and GTID text and bytes.
 *
 * @module
 */
export * from "./BinlogEvent.ts"
export * from "./Checksum.ts"
export * from "./CompressedBlock.ts"
export * from "./EventCodec.ts"
export * from "./Gtid.ts"
export { realColumnType, TableMapField } from "./TableMap.ts"
