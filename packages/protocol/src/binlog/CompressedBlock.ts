/**
 * Compressed binlog content, both flavors, without the inflating: this package does no IO and
 * imports no zlib or zstd, so callers inflate with their runtime's codec.
 *
 * MariaDB (`log_bin_compress`): QUERY_COMPRESSED carries its query, and the *_ROWS_COMPRESSED events
 * their row images, as one block (sql/log_event.cc, `binlog_buf_compress`/`binlog_get_uncompress_len`):
 *
 * ```
 * int<1>  header        // bit 7 set; bits 4-6 algorithm (0 = zlib); bits 0-2 length bytes (1-4)
 * int<n>  uncompressed  // big-endian, n = header & 7
 * bytes   deflated      // a zlib stream (RFC 1950), to the end of the event body
 * ```
 *
 * MySQL (`binlog_transaction_compression`): TRANSACTION_PAYLOAD carries a zstd frame whose content is
 * the transaction's events back to back, each a whole event (v4 header) without a checksum (the
 * payload event itself has one): see `splitPayloadEvents`.
 * https://dev.mysql.com/doc/refman/8.4/en/binary-log-transaction-compression.html
 *
 * Pure code: `Uint8Array` and plain data only.
 *
 * @module
 */
import { Result } from "effect"
import { encodeError, type ProtocolError, protocolError } from "../ProtocolError.ts"
import { readInt4 } from "../Wire.ts"
import { EVENT_HEADER_LENGTH } from "./BinlogEvent.ts"

export interface CompressedBlock {
  /** What the zlib stream inflates to, as the block announces it: a bound for the caller's inflater. */
  readonly uncompressedLength: number
  /** The zlib stream (a view into the block). */
  readonly deflated: Uint8Array
}

const BLOCK = "compressed binlog block"

/** Splits a MariaDB compressed block into its announced length and its zlib stream. */
export const readCompressedBlock = (bytes: Uint8Array): Result.Result<CompressedBlock, ProtocolError> => {
  if (bytes.length === 0) return Result.fail(protocolError(BLOCK, "empty block", "header", 0))
  const header = bytes[0]
  // MariaDB refuses the same headers (binlog_get_uncompress_len: (header & 0xe0) != 0x80).
  if ((header & 0x80) === 0) return Result.fail(protocolError(BLOCK, "bit 7 of the header is not set", "header", 0))
  const algorithm = (header >> 4) & 0x07
  if (algorithm !== 0) return Result.fail(protocolError(BLOCK, `unknown algorithm ${algorithm}`, "header", 0))
  const lengthBytes = header & 0x07
  if (lengthBytes < 1 || lengthBytes > 4) {
    return Result.fail(protocolError(BLOCK, `${lengthBytes} length bytes (1 to 4 expected)`, "header", 0))
  }
  if (bytes.length < 1 + lengthBytes) {
    return Result.fail(protocolError(BLOCK, "truncated uncompressed length", "uncompressedLength", 1))
  }
  let uncompressedLength = 0
  for (let i = 1; i <= lengthBytes; i++) uncompressedLength = uncompressedLength * 256 + bytes[i]
  return Result.succeed({ uncompressedLength, deflated: bytes.subarray(1 + lengthBytes) })
}

/** Builds a MariaDB compressed block, with as few length bytes as the length needs (as MariaDB does). */
export const writeCompressedBlock = (
  uncompressedLength: number,
  deflated: Uint8Array
): Result.Result<Uint8Array, ProtocolError> => {
  if (!Number.isInteger(uncompressedLength) || uncompressedLength < 0 || uncompressedLength > 0xffffffff) {
    return Result.fail(encodeError(BLOCK, `${uncompressedLength} is not a 32-bit length`, "uncompressedLength"))
  }
  const lengthBytes =
    uncompressedLength > 0xffffff ? 4 : uncompressedLength > 0xffff ? 3 : uncompressedLength > 0xff ? 2 : 1
  const out = new Uint8Array(1 + lengthBytes + deflated.length)
  out[0] = 0x80 | lengthBytes
  for (let i = lengthBytes, v = uncompressedLength; i >= 1; i--, v = Math.floor(v / 256)) out[i] = v & 0xff
  out.set(deflated, 1 + lengthBytes)
  return Result.succeed(out)
}

/** Compression types of TRANSACTION_PAYLOAD (`transaction::compression::type`). */
export const PayloadCompression = { ZSTD: 0, NONE: 255 } as const

/** Where one event sits in a buffer of events: `[start, end)`. */
export interface EventRange {
  readonly start: number
  readonly end: number
}

const PAYLOAD = "TRANSACTION_PAYLOAD content"

/**
 * The events of an inflated TRANSACTION_PAYLOAD, as ranges to give `decodeEvent` with a format whose
 * checksum is "none": MySQL writes the inner events without checksums
 * (binlog::Binlog_event_data_istream for payloads reads them with BINLOG_CHECKSUM_ALG_OFF).
 */
export const splitPayloadEvents = (bytes: Uint8Array): Result.Result<ReadonlyArray<EventRange>, ProtocolError> => {
  const ranges: Array<EventRange> = []
  let pos = 0
  while (pos < bytes.length) {
    if (bytes.length - pos < EVENT_HEADER_LENGTH) {
      return Result.fail(protocolError(PAYLOAD, "truncated event header", "header", pos))
    }
    const size = readInt4(bytes, pos + 9)
    if (size < EVENT_HEADER_LENGTH || size > bytes.length - pos) {
      return Result.fail(
        protocolError(
          PAYLOAD,
          `event size ${size} does not fit in the ${bytes.length - pos} byte(s) left`,
          "eventSize",
          pos + 9
        )
      )
    }
    ranges.push({ start: pos, end: pos + size })
    pos += size
  }
  return Result.succeed(ranges)
}
