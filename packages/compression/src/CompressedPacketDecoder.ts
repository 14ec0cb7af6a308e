/**
 * CompressedPacketDecoder: compressed packets in (chunks of any size), uncompressed bytes out.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_compression.html
 * MariaDB: https://mariadb.com/kb/en/0-packet/#compressed-packet
 *
 * Pull-based on purpose: `push` only stores a chunk, `next` decompresses one compressed packet
 * when asked. A chunk of a few kilobytes may hold hundreds of zstd packets that each claim 16 MiB;
 * decoding them all at once would hold gigabytes, one at a time holds one payload. What the decoder
 * keeps is one compressed packet at most (7 + 16 MiB) besides the chunks not yet consumed.
 *
 * Checks, each before any allocation or decompression: both lengths within `maxReadLength`;
 * then the codec bounds the output by the header's claim (see `CompressionCodec.ts`). After an
 * error the decoder stays failed: a confused stream never recovers.
 *
 * The compressed sequence id is followed, not checked, unless `checkSequence` is set: a server may
 * answer with an ERR (a packet over `max_allowed_packet`) before it has read all of a long write,
 * with an id younger than the one the writer reached. The reader keeps `nextSequenceId` (the id
 * after the last packet read) for the writer to continue from.
 *
 * Pure code: `Uint8Array` and plain data only; no IO, no Buffer, no Effect runtime.
 *
 * @module
 */
import { type ProtocolError, protocolError } from "@effect-mysql/protocol"
import { Result } from "effect"
import {
  COMPRESSED_HEADER_LENGTH,
  type CompressedPacketHeader,
  MAX_COMPRESSED_PAYLOAD,
  readHeader
} from "./CompressedPacket.ts"
import type { CompressionCodec } from "./CompressionCodec.ts"

/** Options of `CompressedPacketDecoder`. */
export interface CompressedPacketDecoderOptions {
  /**
   * Largest payload of one compressed packet accepted, as it arrives and once uncompressed (at
   * most, and by default, 16 MiB - 1: what the 3-byte lengths can say).
   */
  readonly maxReadLength?: number
  /** Fail when a compressed sequence id is not the expected one (default `false`, see the module doc). */
  readonly checkSequence?: boolean
}

const PACKET = "CompressedPacket"

const EMPTY = new Uint8Array(0)

/** Incremental, pull-based decoder of compressed packets. */
export class CompressedPacketDecoder {
  readonly codec: CompressionCodec
  readonly maxReadLength: number
  readonly checkSequence: boolean
  /** The compressed sequence id after the last packet read (the one expected next). */
  nextSequenceId = 0

  /** Pushed chunks not yet consumed; the first is read from `offset`. */
  private chunks: Array<Uint8Array> = []
  private offset = 0
  private available = 0
  private header: CompressedPacketHeader | undefined
  /** The payload of `header` being gathered from several chunks. */
  private body: Uint8Array | undefined
  private bodyFilled = 0
  private failure: ProtocolError | undefined

  constructor(codec: CompressionCodec, options: CompressedPacketDecoderOptions = {}) {
    const max = options.maxReadLength ?? MAX_COMPRESSED_PAYLOAD
    this.codec = codec
    this.maxReadLength =
      Number.isSafeInteger(max) && max >= 0 ? Math.min(max, MAX_COMPRESSED_PAYLOAD) : MAX_COMPRESSED_PAYLOAD
    this.checkSequence = options.checkSequence ?? false
  }

  /** Bytes pushed and not yet returned (a partial compressed packet included). */
  get bufferedBytes(): number {
    return this.available + this.bodyFilled
  }

  /** `true` when every pushed byte belonged to a packet `next` returned. */
  get idle(): boolean {
    return this.available === 0 && this.header === undefined
  }

  /** The failure that stopped this decoder, if any. */
  get error(): ProtocolError | undefined {
    return this.failure
  }

  /** The compressed sequence id the next packet must carry when `checkSequence` is on. */
  expectSequenceId(sequenceId: number): void {
    this.nextSequenceId = sequenceId & 0xff
  }

  /**
   * Stores `chunk` (not copied: the caller must not modify it afterwards). Decompresses nothing;
   * call `next` until it answers `undefined` before pushing more to keep memory bounded.
   */
  push(chunk: Uint8Array): void {
    if (this.failure !== undefined || chunk.length === 0) return
    this.chunks.push(chunk)
    this.available += chunk.length
  }

  /**
   * The payload of the next complete compressed packet, uncompressed; `undefined` when more bytes
   * are needed. A stored payload inside one chunk is a view of it (no copy). An empty stored packet
   * is skipped.
   */
  next(): Result.Result<Uint8Array | undefined, ProtocolError> {
    while (this.failure === undefined) {
      if (this.header === undefined) {
        if (this.available < COMPRESSED_HEADER_LENGTH) return Result.succeed(undefined)
        const header = readHeader(this.take(COMPRESSED_HEADER_LENGTH), 0)
        const invalid = this.check(header)
        if (invalid !== undefined) return this.fail(invalid)
        this.header = header
      }
      const header = this.header
      const length = header.compressedLength
      let payload: Uint8Array
      if (this.body === undefined && this.available >= length) {
        payload = this.take(length)
      } else {
        // Spread over chunks: gather into one buffer as they come, so a packet arriving in many
        // small chunks is held once, not once as chunks and again as their copy.
        this.body ??= new Uint8Array(length)
        this.bodyFilled = this.copyInto(this.body, this.bodyFilled)
        if (this.bodyFilled < length) return Result.succeed(undefined)
        payload = this.body
        this.body = undefined
        this.bodyFilled = 0
      }
      this.header = undefined
      this.nextSequenceId = (header.sequenceId + 1) & 0xff
      if (header.uncompressedLength === 0) {
        if (length === 0) continue
        return Result.succeed(payload)
      }
      const uncompressed = this.codec.decompress(payload, header.uncompressedLength)
      return Result.isFailure(uncompressed) ? this.fail(uncompressed.failure) : uncompressed
    }
    return Result.fail(this.failure)
  }

  private check(header: CompressedPacketHeader): ProtocolError | undefined {
    if (this.checkSequence && header.sequenceId !== this.nextSequenceId) {
      return protocolError(
        PACKET,
        `compressed packets out of order: expected sequence id ${this.nextSequenceId}, got ${header.sequenceId}`,
        "compressed sequence id"
      )
    }
    // The compressed length is bounded too: nothing larger than the limit is ever buffered.
    for (const [field, length] of [
      ["length of compressed payload", header.compressedLength],
      ["length of uncompressed payload", header.uncompressedLength]
    ] as const) {
      if (length > this.maxReadLength) {
        return protocolError(
          PACKET,
          `compressed packet of ${length} bytes exceeds the maximum of ${this.maxReadLength}`,
          field
        )
      }
    }
    return undefined
  }

  /** Consumes `n` buffered bytes (`n <= available`): a view when they sit in one chunk, else a copy. */
  private take(n: number): Uint8Array {
    if (n === 0) return EMPTY
    const first = this.chunks[0]
    if (first.length - this.offset >= n) {
      const view = first.subarray(this.offset, this.offset + n)
      this.available -= n
      this.advance(first, n)
      return view
    }
    const out = new Uint8Array(n)
    this.copyInto(out, 0)
    return out
  }

  /** Moves buffered bytes into `target` from `filled` on, as many as fit; answers the new fill. */
  private copyInto(target: Uint8Array, filled: number): number {
    while (filled < target.length && this.available > 0) {
      const chunk = this.chunks[0]
      const count = Math.min(target.length - filled, chunk.length - this.offset)
      target.set(chunk.subarray(this.offset, this.offset + count), filled)
      filled += count
      this.available -= count
      this.advance(chunk, count)
    }
    return filled
  }

  private advance(chunk: Uint8Array, n: number): void {
    this.offset += n
    if (this.offset === chunk.length) {
      this.chunks.shift()
      this.offset = 0
    }
  }

  private fail(e: ProtocolError): Result.Result<never, ProtocolError> {
    this.failure = e
    this.chunks = []
    this.offset = 0
    this.available = 0
    this.header = undefined
    this.body = undefined
    this.bodyFilled = 0
    return Result.fail(e)
  }
}
