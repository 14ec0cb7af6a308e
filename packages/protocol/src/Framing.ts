/**
 * Framing: the packet layer under every MySQL/MariaDB packet.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html
 * MariaDB: https://mariadb.com/kb/en/0-packet/
 *
 * ```
 * int<3>  payload_length   // [3 bytes] length of the payload (not of the header)
 * int<1>  sequence_id      // [1 byte]  0 for the first packet of a command, +1 per packet, wraps at 255
 * string[payload_length] payload
 * ```
 *
 * A payload of 0xFFFFFF bytes or more goes as several packets: each full one carries exactly
 * 0xFFFFFF bytes, the last one fewer (possibly none, which is how a payload of an exact multiple of
 * 0xFFFFFF ends). `PacketDecoder` reassembles them and yields one logical packet with the sequence
 * id of its first fragment.
 *
 * `PacketReader` and `PacketDecoder` are incremental: they accept chunks of any size, one byte at a
 * time included, and never hold more than `maxPayloadLength` payload bytes plus a 4-byte header: a
 * length beyond the limit is refused before anything is allocated. A packet inside one chunk is
 * handed out as a range of that chunk (no copy); the caller must not modify a chunk after pushing it.
 *
 * Pure code: `Uint8Array` and plain data only; no IO, no Buffer, no Effect runtime.
 *
 * @module
 */
import { Result } from "effect"
import type { ProtocolError } from "./ProtocolError.ts"
import { protocolError } from "./ProtocolError.ts"

/** The largest payload one packet carries; longer payloads are split. */
export const MAX_PACKET_PAYLOAD = 0xffffff

/** Size of the packet header. */
export const PACKET_HEADER_LENGTH = 4

/** The default `maxPayloadLength`: 64 MiB, MariaDB's default `max_allowed_packet` since 10.2. */
export const DEFAULT_MAX_PAYLOAD_LENGTH = 64 * 1024 * 1024

/** One logical packet: its payload (reassembled if it was split) and its first sequence id. */
export interface Packet {
  readonly sequenceId: number
  readonly payload: Uint8Array
}

/** Options of `PacketReader` and `PacketDecoder`. */
export interface PacketDecoderOptions {
  /** Largest logical payload accepted (after reassembly). Default 64 MiB. */
  readonly maxPayloadLength?: number
  /** Check sequence ids (default `true`). */
  readonly checkSequence?: boolean
  /** The sequence id expected first (default 0). */
  readonly sequenceId?: number
}

const PACKET = "Framing"

const EMPTY = new Uint8Array(0)

/**
 * Pull-mode packet reader: `push` hands it a chunk, and each `next()` frames one more packet from
 * it, describing the packet by fields rather than by a new object: its payload is
 * `bytes[start, end)`, and `bytes` is the chunk itself unless the packet was split across chunks
 * (then it is a copy of just that packet). A hot loop over rows thus allocates nothing per packet.
 *
 * Packets are framed only when asked for, so a caller can change the expected sequence id between
 * two packets of one chunk: the answers of pipelined commands each start again at their own id.
 *
 * `next()` answers false when the chunk is used up (any partial packet is kept, copied) and a new
 * one must be pushed, or when the stream is broken (`error` says why; it stays broken).
 */
export class PacketReader {
  readonly maxPayloadLength: number
  readonly checkSequence: boolean
  /** The sequence id the next packet header must carry. */
  nextSequenceId: number

  /** The last packet framed by `next()`: its bytes, where its payload starts and ends, its first sequence id. */
  bytes: Uint8Array = EMPTY
  start = 0
  end = 0
  sequenceId = 0

  private chunk: Uint8Array = EMPTY
  private pos = 0
  private readonly header = new Uint8Array(PACKET_HEADER_LENGTH)
  private headerLength = 0
  /** Payload length of the current fragment, or -1 while reading a header. */
  private fragmentLength = -1
  /** The fragment being gathered from several chunks. */
  private fragment: Uint8Array | undefined
  private fragmentFilled = 0
  /** Completed fragments of a split payload. */
  private fragments: Array<Uint8Array> = []
  private fragmentsLength = 0
  private firstSequenceId = 0
  /** A second sequence id the next header may carry (`allowSequenceId`); -1 for none. */
  private alternativeSequenceId = -1
  private failure: ProtocolError | undefined

  constructor(options: PacketDecoderOptions = {}) {
    const max = options.maxPayloadLength ?? DEFAULT_MAX_PAYLOAD_LENGTH
    this.maxPayloadLength = Number.isSafeInteger(max) && max >= 0 ? max : DEFAULT_MAX_PAYLOAD_LENGTH
    this.checkSequence = options.checkSequence ?? true
    this.nextSequenceId = (options.sequenceId ?? 0) & 0xff
  }

  /** Sets the sequence id the next packet must carry (e.g. 1 after a command was written with 0). */
  expectSequenceId(sequenceId: number): void {
    this.nextSequenceId = sequenceId & 0xff
    this.alternativeSequenceId = -1
  }

  /**
   * Lets the next packet header carry `sequenceId` as well as the expected one. Under the compressed
   * protocol a server that flushes its output renumbers the packets after the flush from the
   * compressed sequence id (`net_flush` in the servers' net_serv.cc): a binlog dump flushes after
   * every event, so the packet starting a compressed frame may carry either number.
   */
  allowSequenceId(sequenceId: number): void {
    this.alternativeSequenceId = sequenceId & 0xff
  }

  /** Bytes of the current chunk not yet framed, plus those held of a partial packet. */
  get bufferedBytes(): number {
    return (
      this.chunk.length -
      this.pos +
      this.headerLength +
      this.fragmentsLength +
      (this.fragment === undefined ? 0 : this.fragmentFilled)
    )
  }

  /** `true` when every byte pushed has been framed and handed out. */
  get idle(): boolean {
    return (
      this.pos === this.chunk.length &&
      this.headerLength === 0 &&
      this.fragmentLength < 0 &&
      this.fragments.length === 0
    )
  }

  /** The failure that stopped this reader, if any. */
  get error(): ProtocolError | undefined {
    return this.failure
  }

  /**
   * The next chunk of the stream, once `next()` has answered false. The chunk must not be modified
   * afterwards: packets are handed out as ranges of it.
   */
  push(chunk: Uint8Array): void {
    this.chunk = chunk
    this.pos = 0
  }

  /** Frames the next packet into `bytes`/`start`/`end`; false when more bytes are needed or the stream is broken. */
  next(): boolean {
    if (this.failure !== undefined) return false
    const chunk = this.chunk
    const len = chunk.length
    let pos = this.pos
    while (pos < len) {
      if (this.fragmentLength < 0) {
        if (this.headerLength === 0 && len - pos >= PACKET_HEADER_LENGTH) {
          // Fast path: a whole header in the chunk.
          const e = this.onHeader(chunk[pos] | (chunk[pos + 1] << 8) | (chunk[pos + 2] << 16), chunk[pos + 3], pos)
          if (e !== undefined) return this.fail(e)
          pos += PACKET_HEADER_LENGTH
        } else {
          this.header[this.headerLength++] = chunk[pos++]
          if (this.headerLength < PACKET_HEADER_LENGTH) continue
          this.headerLength = 0
          const h = this.header
          const e = this.onHeader(h[0] | (h[1] << 8) | (h[2] << 16), h[3], pos)
          if (e !== undefined) return this.fail(e)
        }
        const n = this.fragmentLength
        if (len - pos >= n) {
          // The whole fragment is in this chunk: no copy unless it is part of a split payload.
          this.pos = pos + n
          if (this.completeFragment(chunk, pos, pos + n, false)) return true
          pos = this.pos
          continue
        }
        this.fragment = new Uint8Array(n)
        this.fragmentFilled = 0
      }
      const fragment = this.fragment!
      const take = Math.min(len - pos, fragment.length - this.fragmentFilled)
      fragment.set(chunk.subarray(pos, pos + take), this.fragmentFilled)
      this.fragmentFilled += take
      pos += take
      if (this.fragmentFilled === fragment.length) {
        this.fragment = undefined
        this.fragmentFilled = 0
        this.pos = pos
        if (this.completeFragment(fragment, 0, fragment.length, true)) return true
      }
    }
    this.pos = pos
    return false
  }

  private fail(e: ProtocolError): false {
    this.failure = e
    this.chunk = EMPTY
    this.pos = 0
    this.fragment = undefined
    this.fragments = []
    this.fragmentsLength = 0
    return false
  }

  private onHeader(length: number, sequenceId: number, offset: number): ProtocolError | undefined {
    if (this.checkSequence && sequenceId !== this.nextSequenceId && sequenceId !== this.alternativeSequenceId) {
      return protocolError(
        PACKET,
        `packets out of order: expected sequence id ${this.nextSequenceId}, got ${sequenceId}`,
        "sequence_id",
        offset
      )
    }
    if (this.fragmentsLength + length > this.maxPayloadLength) {
      return protocolError(
        PACKET,
        `packet of at least ${this.fragmentsLength + length} bytes exceeds the maximum of ${this.maxPayloadLength}`,
        "payload_length",
        offset
      )
    }
    if (this.fragments.length === 0) this.firstSequenceId = sequenceId
    this.nextSequenceId = (sequenceId + 1) & 0xff
    // Read on every header, written only in the rare case it was set: this is every row's path.
    if (this.alternativeSequenceId >= 0) this.alternativeSequenceId = -1
    this.fragmentLength = length
    this.fragmentFilled = 0
    return undefined
  }

  /** A fragment is complete; answers whether it ended a packet (now in `bytes`/`start`/`end`). */
  private completeFragment(bytes: Uint8Array, start: number, end: number, owned: boolean): boolean {
    const length = this.fragmentLength
    this.fragmentLength = -1
    if (length === MAX_PACKET_PAYLOAD) {
      // Kept across pushes: copy a range of the chunk so the caller may reuse its chunk buffers.
      this.fragments.push(owned ? bytes : bytes.slice(start, end))
      this.fragmentsLength += length
      return false
    }
    this.sequenceId = this.firstSequenceId
    if (this.fragments.length === 0) {
      this.bytes = bytes
      this.start = start
      this.end = end
      return true
    }
    const payload = new Uint8Array(this.fragmentsLength + length)
    let at = 0
    for (const f of this.fragments) {
      payload.set(f, at)
      at += f.length
    }
    payload.set(bytes.subarray(start, end), at)
    this.fragments = []
    this.fragmentsLength = 0
    this.bytes = payload
    this.start = 0
    this.end = payload.length
    return true
  }
}

/**
 * Incremental packet decoder over `PacketReader`: `push` returns the packets completed by a chunk
 * (views into it) or a `ProtocolError`; after an error the decoder stays failed (a confused stream
 * never recovers). For callers that want every packet of a chunk at once (tests, the fake server).
 */
export class PacketDecoder {
  private readonly reader: PacketReader

  constructor(options: PacketDecoderOptions = {}) {
    this.reader = new PacketReader(options)
  }

  get maxPayloadLength(): number {
    return this.reader.maxPayloadLength
  }

  get checkSequence(): boolean {
    return this.reader.checkSequence
  }

  /** The sequence id the next packet header must carry. */
  get nextSequenceId(): number {
    return this.reader.nextSequenceId
  }

  /** Sets the sequence id the next packet must carry (e.g. 1 after a command was written with 0). */
  expectSequenceId(sequenceId: number): void {
    this.reader.expectSequenceId(sequenceId)
  }

  /** Payload and header bytes currently held, waiting for the rest of a packet. */
  get bufferedBytes(): number {
    return this.reader.bufferedBytes
  }

  /** `true` when no partial packet is pending. */
  get idle(): boolean {
    return this.reader.idle
  }

  /** The failure that stopped this decoder, if any. */
  get error(): ProtocolError | undefined {
    return this.reader.error
  }

  /** Feeds `chunk`; answers with the packets it completed. */
  push(chunk: Uint8Array): Result.Result<ReadonlyArray<Packet>, ProtocolError> {
    const reader = this.reader
    if (reader.error !== undefined) return Result.fail(reader.error)
    reader.push(chunk)
    const out: Array<Packet> = []
    while (reader.next()) {
      out.push({ sequenceId: reader.sequenceId, payload: reader.bytes.subarray(reader.start, reader.end) })
    }
    return reader.error === undefined ? Result.succeed(out) : Result.fail(reader.error)
  }
}

/** Number of packets a payload of `length` bytes takes on the wire. */
export const packetCount = (length: number): number => Math.floor(length / MAX_PACKET_PAYLOAD) + 1

/** Bytes on the wire of a payload of `length` bytes, headers included. */
export const framedLength = (length: number): number => length + PACKET_HEADER_LENGTH * packetCount(length)

/** A payload framed for the wire, and the sequence id that follows it. */
export interface FramedPacket {
  readonly bytes: Uint8Array
  readonly nextSequenceId: number
}

/**
 * Frames `payload` with sequence ids from `sequenceId` (taken modulo 256), splitting payloads of
 * 0xFFFFFF bytes or more. Total: every payload has a framing.
 */
export const encodePacket = (payload: Uint8Array, sequenceId: number): FramedPacket => {
  const count = packetCount(payload.length)
  const bytes = new Uint8Array(payload.length + PACKET_HEADER_LENGTH * count)
  let seq = sequenceId & 0xff
  let from = 0
  let at = 0
  for (let i = 0; i < count; i++) {
    const n = Math.min(MAX_PACKET_PAYLOAD, payload.length - from)
    bytes[at] = n & 0xff
    bytes[at + 1] = (n >>> 8) & 0xff
    bytes[at + 2] = (n >>> 16) & 0xff
    bytes[at + 3] = seq
    bytes.set(payload.subarray(from, from + n), at + PACKET_HEADER_LENGTH)
    at += PACKET_HEADER_LENGTH + n
    from += n
    seq = (seq + 1) & 0xff
  }
  return { bytes, nextSequenceId: seq }
}

/** Frames several payloads one after another, sequence ids continuing. */
export const encodePackets = (payloads: ReadonlyArray<Uint8Array>, sequenceId: number): FramedPacket => {
  let total = 0
  for (const p of payloads) total += framedLength(p.length)
  const bytes = new Uint8Array(total)
  let seq = sequenceId & 0xff
  let at = 0
  for (const p of payloads) {
    const framed = encodePacket(p, seq)
    bytes.set(framed.bytes, at)
    at += framed.bytes.length
    seq = framed.nextSequenceId
  }
  return { bytes, nextSequenceId: seq }
}

/**
 * Decodes a complete byte string into packets (a convenience over `PacketDecoder` for tests and
 * tools); leftover bytes of an incomplete packet are an error.
 */
export const decodePackets = (
  bytes: Uint8Array,
  options: PacketDecoderOptions = {}
): Result.Result<ReadonlyArray<Packet>, ProtocolError> => {
  const decoder = new PacketDecoder(options)
  const result = decoder.push(bytes)
  if (Result.isFailure(result)) return result
  if (!decoder.idle) {
    return Result.fail(protocolError(PACKET, `incomplete packet: ${decoder.bufferedBytes} byte(s) left over`))
  }
  return result
}
