/**
 * CompressedPacket: the header in front of every compressed packet once the compressed protocol is on.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_compression_packet.html
 * MariaDB: https://mariadb.com/kb/en/0-packet/#compressed-packet
 *
 * ```
 * int<3>  length of compressed payload    // [3 bytes] bytes that follow the header
 * int<1>  compressed sequence id          // [1 byte]  counted apart from the MySQL packets' own ids,
 *                                         //           reset to 0 with each command, wraps at 255
 * int<3>  length of uncompressed payload  // [3 bytes] 0: the payload is stored as is
 * string[length of compressed payload] compressed payload
 * ```
 *
 * The payload, once uncompressed, is a slice of the ordinary MySQL packet stream (4-byte headers
 * included): one compressed packet may carry several MySQL packets, or part of one.
 *
 * Pure code: `Uint8Array` and plain data only; no IO, no Buffer, no Effect runtime.
 *
 * @module
 */

/** Size of the compressed-packet header. */
export const COMPRESSED_HEADER_LENGTH = 7

/** The largest value either 3-byte length can hold, so the most one compressed packet carries. */
export const MAX_COMPRESSED_PAYLOAD = 0xffffff

/**
 * Payloads shorter than this go stored: compressing them costs more than it saves. 50 bytes is
 * `MIN_COMPRESS_LENGTH` of libmysqlclient and of MariaDB's server.
 */
export const MIN_COMPRESS_LENGTH = 50

/** A decoded compressed-packet header. */
export interface CompressedPacketHeader {
  /** Bytes of payload after the header. */
  readonly compressedLength: number
  /** The compressed sequence id. */
  readonly sequenceId: number
  /** Length once uncompressed; 0 when the payload is stored. */
  readonly uncompressedLength: number
}

/** Writes a header at `offset` of `target` (which must have 7 bytes there). */
export const writeHeader = (target: Uint8Array, offset: number, header: CompressedPacketHeader): void => {
  const { compressedLength: c, sequenceId, uncompressedLength: u } = header
  target[offset] = c & 0xff
  target[offset + 1] = (c >>> 8) & 0xff
  target[offset + 2] = (c >>> 16) & 0xff
  target[offset + 3] = sequenceId & 0xff
  target[offset + 4] = u & 0xff
  target[offset + 5] = (u >>> 8) & 0xff
  target[offset + 6] = (u >>> 16) & 0xff
}

/** Reads the header at `offset` of `source` (which must have 7 bytes there). */
export const readHeader = (source: Uint8Array, offset: number): CompressedPacketHeader => ({
  compressedLength: source[offset] | (source[offset + 1] << 8) | (source[offset + 2] << 16),
  sequenceId: source[offset + 3],
  uncompressedLength: source[offset + 4] | (source[offset + 5] << 8) | (source[offset + 6] << 16)
})
