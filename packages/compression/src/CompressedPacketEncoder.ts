/**
 * CompressedPacketEncoder: a slice of the MySQL packet stream in, compressed packets out.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_compression.html
 * MariaDB: https://mariadb.com/kb/en/0-packet/#compressed-packet
 *
 * Each call covers the bytes it is given, cut into compressed packets of at most 1 MiB of
 * uncompressed bytes by default (16 MiB - 1 is what the header allows): several small MySQL packets
 * written together share one compressed packet, a long one spreads over several. A piece shorter than `minCompressLength` goes stored, and so does
 * one that would not shrink (as libmysqlclient does), so the compressed length never exceeds the
 * uncompressed one and always fits its 3 bytes.
 *
 * The compressed sequence id restarts at 0 with each command. The encoder sees that by itself: it
 * follows the MySQL packet headers in what it is given, and a write that starts with a packet
 * header of sequence id 0 starts a command. (A command's first write therefore has to hold the
 * whole 4-byte header, as any client writing whole packets does.) Otherwise it counts on, from
 * `sequenceId`, which the reading side sets to the id after the last packet it read.
 *
 * Pure code: `Uint8Array` and plain data only; no IO, no Buffer, no Effect runtime.
 *
 * @module
 */
import {
  COMPRESSED_HEADER_LENGTH,
  MAX_COMPRESSED_PAYLOAD,
  MIN_COMPRESS_LENGTH,
  writeHeader
} from "./CompressedPacket.ts"
import type { CompressionCodec } from "./CompressionCodec.ts"

/** Options of `CompressedPacketEncoder`. */
export interface CompressedPacketEncoderOptions {
  /** Pieces shorter than this go stored (default 50, `MIN_COMPRESS_LENGTH`). */
  readonly minCompressLength?: number
  /** Most uncompressed bytes per compressed packet (default 1 MiB, at most 16 MiB - 1). */
  readonly maxWriteLength?: number
}

const MYSQL_HEADER_LENGTH = 4

/**
 * Writes are cut at 1 MiB rather than 16 MiB: on result rows (bench/codecs.ts) the ratio barely
 * moves (zlib-6 4.13x against 4.15x, zstd-3 3.81x against 3.77x, Node 24), and a synchronous call
 * holds the event loop for a median 15–29 ms (zlib-6) instead of 240–580 ms.
 */
export const DEFAULT_MAX_WRITE_LENGTH = 1 << 20

/** Turns written bytes into compressed packets. */
export class CompressedPacketEncoder {
  readonly codec: CompressionCodec
  readonly minCompressLength: number
  readonly maxWriteLength: number
  /** The compressed sequence id of the next packet written. */
  sequenceId = 0

  /** Payload bytes of the current MySQL packet still to come. */
  private packetRemaining = 0
  /** Bytes of the next MySQL packet header seen so far (0–3), and the length they spell. */
  private headerSeen = 0
  private headerLength = 0

  constructor(codec: CompressionCodec, options: CompressedPacketEncoderOptions = {}) {
    const min = options.minCompressLength ?? MIN_COMPRESS_LENGTH
    const max = options.maxWriteLength ?? DEFAULT_MAX_WRITE_LENGTH
    this.codec = codec
    this.minCompressLength = Number.isSafeInteger(min) && min >= 0 ? min : MIN_COMPRESS_LENGTH
    this.maxWriteLength =
      Number.isSafeInteger(max) && max >= 1 ? Math.min(max, MAX_COMPRESSED_PAYLOAD) : DEFAULT_MAX_WRITE_LENGTH
  }

  /**
   * The compressed packets that carry `data`, each a fresh array (header and payload), produced one
   * at a time so that a long write holds one compressed piece at once.
   */
  *encode(data: Uint8Array): Generator<Uint8Array, void, void> {
    if (this.startsCommand(data)) this.sequenceId = 0
    this.follow(data)
    for (let offset = 0; offset < data.length; offset += this.maxWriteLength) {
      yield this.packet(data.subarray(offset, offset + this.maxWriteLength))
    }
  }

  private packet(piece: Uint8Array): Uint8Array {
    const compressed = piece.length < this.minCompressLength ? undefined : this.codec.compress(piece)
    const stored = compressed === undefined || compressed.length >= piece.length
    const body = stored ? piece : compressed
    const out = new Uint8Array(COMPRESSED_HEADER_LENGTH + body.length)
    writeHeader(out, 0, {
      compressedLength: body.length,
      sequenceId: this.sequenceId,
      uncompressedLength: stored ? 0 : piece.length
    })
    out.set(body, COMPRESSED_HEADER_LENGTH)
    this.sequenceId = (this.sequenceId + 1) & 0xff
    return out
  }

  private startsCommand(data: Uint8Array): boolean {
    return this.packetRemaining === 0 && this.headerSeen === 0 && data.length >= MYSQL_HEADER_LENGTH && data[3] === 0
  }

  /** Advances over the MySQL packets in `data` to know where the next one starts. */
  private follow(data: Uint8Array): void {
    let pos = 0
    while (pos < data.length) {
      if (this.packetRemaining > 0) {
        const n = Math.min(this.packetRemaining, data.length - pos)
        this.packetRemaining -= n
        pos += n
        continue
      }
      if (this.headerSeen < 3) this.headerLength |= data[pos] << (8 * this.headerSeen)
      this.headerSeen++
      pos++
      if (this.headerSeen === MYSQL_HEADER_LENGTH) {
        this.packetRemaining = this.headerLength
        this.headerSeen = 0
        this.headerLength = 0
      }
    }
  }
}
