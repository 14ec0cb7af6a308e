/**
 * The wire of one connection: every byte the client reads or writes passes here, and nowhere else.
 *
 *   read:  socket chunk → [inflate] → packet framing → one packet at a time, as a range of the chunk
 *   write: payload → framing → [deflate] → socket
 *
 * Compression is two pure stages (`@effect-mysql/compression`'s decoder and encoder) switched on
 * after the handshake; framing is the protocol package's `PacketReader`. A packet is handed out as
 * fields (`bytes`, `start`, `end`), not as an object or a view, so a result set's rows cost no
 * allocation of their own here: a packet is copied only when it was split across chunks.
 *
 * One rule keeps the sequence ids in step, both ways: a command is written from 0, every packet
 * written or read takes the next id, and the answer to a write continues from it. Under
 * compression the server numbers its answer from the compressed sequence id instead (it runs ahead
 * when a long packet went out as several compressed packets), so a compressed write hands that on.
 *
 * Each socket read is one Effect, and a chunk yields all its packets without another; the
 * connection's `Cancellation` bounds the waits, and the stall check (`Liveness`) marks them.
 */
import { CompressedPacketDecoder, CompressedPacketEncoder, type CompressionCodec } from "@effect-mysql/compression"
import { encodePacket, type FramedPacket, PacketReader, type ProtocolError } from "@effect-mysql/protocol"
import type { Connection, OperationOptions, TimeoutError, TlsError, TransportError } from "@effect-mysql/transport"
import { type Duration, Effect, Result } from "effect"
import type { Liveness } from "./Liveness.ts"

export type IoError = TransportError | TlsError | TimeoutError | ProtocolError

/**
 * The chunk as a plain `Uint8Array` over the same memory. Node's sockets hand out Buffers, and
 * every view cut from a Buffer (each text value) is a Buffer too, whose construction costs several
 * times a plain view's (Node's `subarray` wrapper, then the FastBuffer constructor). In a CPU
 * profile of ten 100k-row text fetches (Node 24) those two took 224 ms of 5,585 ms; with plain
 * views they are gone, and client CPU per text row went from 3.07 to 2.49 µs.
 * packages/protocol/bench/rows.ts decodes rows cut both ways.
 */
const plainView = (chunk: Uint8Array): Uint8Array =>
  chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)

/** Where a command may be stopped: the connection's `Cancellation` (internal/Cancellation.ts). */
export interface Waits {
  readonly waitRead: <E>(read: Effect.Effect<void, E>) => Effect.Effect<void, E | TransportError>
  readonly waitWrite: <E>(write: Effect.Effect<void, E>) => Effect.Effect<void, E | TransportError>
}

export class Wire {
  readonly connection: Connection
  /** Set once the connection is established: every read and write of a command goes through it. */
  waits: Waits | undefined
  /** Marks each wait for the server, for the stall check (internal/Liveness.ts); none when it is off. */
  liveness: Liveness | undefined
  /** Why the stall check declared the connection lost: what a wait cut short by it fails with. */
  lost: TransportError | undefined
  /** The packet `next()` framed: its payload is `packets.bytes[packets.start, packets.end)`. */
  readonly packets: PacketReader
  private inflate: CompressedPacketDecoder | undefined
  private deflate: CompressedPacketEncoder | undefined

  /** The deadline of each read while a command waits for the server (the `readTimeout` option). */
  private readonly defaultReadOptions: OperationOptions | undefined
  private readOptions: OperationOptions | undefined

  constructor(connection: Connection, maxPayloadLength: number, readOptions: OperationOptions | undefined) {
    this.connection = connection
    this.packets = new PacketReader({ maxPayloadLength })
    this.defaultReadOptions = readOptions
    this.readOptions = readOptions
  }

  /** From now on, packets travel inside the compressed protocol of `codec` (after the handshake's final OK). */
  compress(codec: CompressionCodec): void {
    this.inflate = new CompressedPacketDecoder(codec)
    this.deflate = new CompressedPacketEncoder(codec)
  }

  /** Whether packets go compressed. */
  get compressed(): boolean {
    return this.deflate !== undefined
  }

  /** Runs `effect` (one command) with its own deadline for each read. */
  withReadTimeout<A, E>(timeout: Duration.Input, effect: Effect.Effect<A, E>): Effect.Effect<A, E> {
    return Effect.acquireUseRelease(
      Effect.sync(() => {
        this.readOptions = { timeout }
      }),
      () => effect,
      () =>
        Effect.sync(() => {
          this.readOptions = this.defaultReadOptions
        })
    )
  }

  // --- reading ------------------------------------------------------------------------------------

  /**
   * Frames the next packet from what was read (into `packets`); false when the socket must be read
   * first (`fill`) or the stream is broken (`error`).
   */
  next(): boolean {
    const packets = this.packets
    if (packets.next()) return true
    const inflate = this.inflate
    if (inflate === undefined) return false
    while (packets.error === undefined) {
      const inflated = inflate.next()
      if (Result.isFailure(inflated) || inflated.success === undefined) return false
      this.deflate!.sequenceId = inflate.nextSequenceId
      // A frame that starts a packet may start it numbered from the frame's own id (see `allowSequenceId`).
      if (packets.idle) packets.allowSequenceId(inflate.nextSequenceId - 1)
      packets.push(inflated.success)
      if (packets.next()) return true
    }
    return false
  }

  /** Why the stream of packets is broken; undefined while it is not. */
  get error(): ProtocolError | undefined {
    return this.packets.error ?? this.inflate?.error
  }

  /**
   * Reads one chunk from the socket, for the caller's next `next()` to frame; a chunk that ends
   * before the packet does leaves `next()` false, and the caller fills again.
   */
  readonly fill: Effect.Effect<void, IoError> = Effect.suspend(() =>
    this.waits === undefined ? this.readChunk : this.waits.waitRead(this.readChunk)
  )

  private readonly readChunk: Effect.Effect<void, IoError> = Effect.suspend(() => {
    this.liveness?.begin("read")
    return Effect.matchEffect(this.connection.read(this.readOptions), {
      onFailure: this.failure,
      onSuccess: this.onChunk
    })
  })

  /** A failed read or write: the reason the stall check gave, when it cut the wait short. */
  private readonly failure = (error: IoError): Effect.Effect<never, IoError> => {
    this.liveness?.end()
    return Effect.fail(this.lost ?? error)
  }

  private readonly onChunk = (chunk: Uint8Array): Effect.Effect<void> => {
    this.liveness?.end()
    if (this.inflate === undefined) this.packets.push(plainView(chunk))
    else this.inflate.push(plainView(chunk))
    return Effect.void
  }

  /** The next packet's payload as a view, read from the socket if needed: for the paths where a packet is rare. */
  readonly nextPayload: Effect.Effect<Uint8Array, IoError> = Effect.suspend(() => {
    if (this.next()) {
      const p = this.packets
      return Effect.succeed(p.bytes.subarray(p.start, p.end))
    }
    const error = this.error
    return error !== undefined ? Effect.fail(error) : Effect.flatMap(this.fill, () => this.nextPayload)
  })

  /** Whether bytes are left over that no one asked for (a server talking out of turn). */
  get hasBuffered(): boolean {
    return !this.packets.idle || (this.inflate !== undefined && !this.inflate.idle)
  }

  // --- writing ------------------------------------------------------------------------------------

  /** Writes the next packet of the current exchange (sequence id following the last one read). */
  send(payload: Uint8Array): Effect.Effect<void, IoError> {
    return this.write(encodePacket(payload, this.packets.nextSequenceId))
  }

  /** Writes the first packet of a new command: sequence ids start again at 0. */
  sendCommand(payload: Uint8Array): Effect.Effect<void, IoError> {
    return this.write(encodePacket(payload, 0))
  }

  /** Writes a command the protocol package framed itself, from sequence id 0; its answer is read next. */
  write(framed: FramedPacket): Effect.Effect<void, IoError> {
    const deflate = this.deflate
    let written: Effect.Effect<void, IoError>
    if (deflate === undefined) {
      this.packets.expectSequenceId(framed.nextSequenceId)
      written = this.watchedWrite(framed.bytes)
    } else {
      // One compressed piece at a time, so that a long write holds one in memory at once.
      written = Effect.gen({ self: this }, function* () {
        for (const chunk of deflate.encode(framed.bytes)) yield* this.watchedWrite(chunk)
        this.packets.expectSequenceId(deflate.sequenceId)
      })
    }
    return this.waits === undefined ? written : this.waits.waitWrite(written)
  }

  /**
   * Writes a pipelined command (never compressed), whose answer may come after others: the
   * sequence id its answer starts with is set when it is read (`expectAnswer`), not now, since an
   * earlier answer may be in the middle of being read. A command written behind the one being
   * read (`waited` false) is no wait of that one: the connection's `Cancellation` does not bound it.
   */
  writePipelined(framed: FramedPacket, waited: boolean): Effect.Effect<void, IoError> {
    const written = this.watchedWrite(framed.bytes)
    return this.waits === undefined || !waited ? written : this.waits.waitWrite(written)
  }

  /** The answer about to be read starts at `sequenceId` (a pipelined command's). */
  expectAnswer(sequenceId: number): void {
    this.packets.expectSequenceId(sequenceId)
  }

  /** A socket write, marked for the stall check; `readTimeout` bounds it as it bounds a read. */
  private watchedWrite(bytes: Uint8Array): Effect.Effect<void, IoError> {
    const liveness = this.liveness
    if (liveness === undefined) return this.connection.write(bytes, this.readOptions)
    return Effect.suspend(() => {
      liveness.begin("write")
      return Effect.matchEffect(this.connection.write(bytes, this.readOptions), {
        onFailure: this.failure,
        onSuccess: () => {
          liveness.end()
          return Effect.void
        }
      })
    })
  }
}
