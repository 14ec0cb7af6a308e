/**
 * Column count: the first packet of a result set.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset.html
 * MariaDB: https://mariadb.com/kb/en/result-set-packets/#column-count-packet
 *
 * ```
 * int<lenenc> column count
 * if CLIENT_OPTIONAL_RESULTSET_METADATA (MySQL) or MARIADB_CLIENT_CACHE_METADATA (MariaDB):
 *   int<1> metadata follows   // [1 byte] 0: column definitions left out, 1: they follow
 * ```
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Schema } from "effect"
import { Capability, type CapabilitySet, MariaDbCapability } from "./Capabilities.ts"
import { define, int1, lenencNumber, type PacketCodec, SafeUInt, UInt8 } from "./Packet.ts"

/** The decoded column count packet. */
export const ColumnCountSchema: Schema.Struct<{
  readonly _tag: Schema.tag<"ColumnCount">
  readonly columnCount: typeof SafeUInt
  /** Present when optional or cached metadata is negotiated: 1 when the definitions follow. */
  readonly metadataFollows: Schema.optionalKey<typeof UInt8>
}> = Schema.Struct({
  _tag: Schema.tag("ColumnCount"),
  columnCount: SafeUInt,
  metadataFollows: Schema.optionalKey(UInt8)
})

export type ColumnCount = typeof ColumnCountSchema.Type

/** `true` when the column count packet carries the metadata-follows byte. */
export const hasMetadataFollows = (caps: CapabilitySet): boolean =>
  (caps.capabilities & Capability.CLIENT_OPTIONAL_RESULTSET_METADATA) !== 0 ||
  (caps.mariadbCapabilities & MariaDbCapability.MARIADB_CLIENT_CACHE_METADATA) !== 0

/** The column count codec. */
export const ColumnCount: PacketCodec<ColumnCount> = define(
  "ColumnCount",
  ColumnCountSchema,
  (L) => [
    L.tag("ColumnCount"),
    L.field("columnCount", lenencNumber),
    L.when((_, caps) => hasMetadataFollows(caps), L.field("metadataFollows", int1))
  ],
  { tag: "ColumnCount", capacity: 16 }
)
