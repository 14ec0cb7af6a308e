/**
 * Packets over a byte connection: frames what the client writes, and reassembles what the server
 * sends, with the sequence ids checked. The connection underneath starts as the transport's and is
 * replaced by the compressed one once the handshake is over.
 *
 * Packets decoded from one chunk are kept in order and handed out one at a time, so a state machine
 * that consumes a result set loops over buffered packets without an Effect per row.
 */
import { encodePacket, type FramedPacket, type Packet, PacketDecoder, type ProtocolError } from "@effect-mysql/protocol"
import type { OperationOptions, TimeoutError, TlsError, TransportError } from "@effect-mysql/transport"
import { type Duration, Effect, Result } from "effect"
import type { Liveness } from "./Liveness.ts"

export type IoError = TransportError | TlsError | TimeoutError | ProtocolError

/** What the channel needs of a connection (the transport's, or the compressed one around it). */
export interface ByteConnection {
  readonly read: (options?: OperationOptions) => Effect.Effect<Uint8Array, IoError>
  readonly write: (bytes: Uint8Array, options?: OperationOptions) => Effect.Effect<void, IoError>
}

/**
 * The chunk as a plain `Uint8Array` over the same memory. Node's sockets hand out Buffers, and
 * every view cut from a Buffer (each packet, each text value) is a Buffer too, whose construction
 * costs several times a plain view's (Node's `subarray` wrapper, then the FastBuffer constructor).
 * In a CPU profile of ten 100k-row text fetches (Node 24) those two took 224 ms of 5,585 ms; with
 * plain views they are gone, and client CPU per text row went from 3.07 to 2.49 µs (100k-row
 * fetches from the test server, median of five per process, three alternating pairs, each lower).
 * packages/protocol/bench/rows.ts decodes rows cut both ways.
 */
const plainView = (chunk: Uint8Array): Uint8Array =>
  chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)

/** Where a command may be stopped: the connection's `Cancellation` (internal/Cancellation.ts). */
export interface Waits {
  readonly waitRead: <E>(read: Effect.Effect<void, E>) => Effect.Effect<void, E | TransportError>
  readonly waitWrite: <E>(write: Effect.Effect<void, E>) => Effect.Effect<void, E | TransportError>
}

export class PacketChannel {
  bytes: ByteConnection
  /** Set once the connection is established: every read and write of a command goes through it. */
  waits: Waits | undefined
  /** Marks each wait for the server, for the stall check (internal/Liveness.ts); none when it is off. */
  liveness: Liveness | undefined
  /** Why the stall check declared the connection lost: what a wait cut short by it fails with. */
  lost: TransportError | undefined
  /** Under compression: the compressed sequence id, which numbers the server's next answer. */
  private compressedSequenceId: (() => number) | undefined
  private readonly decoder: PacketDecoder
  private buffered: ReadonlyArray<Packet> = []
  private index = 0

  /** The deadline of each read while a command waits for the server (the `readTimeout` option). */
  private readonly defaultReadOptions: OperationOptions | undefined
  private readOptions: OperationOptions | undefined

  constructor(bytes: ByteConnection, maxPayloadLength: number, readOptions: OperationOptions | undefined) {
    this.bytes = bytes
    this.decoder = new PacketDecoder({ maxPayloadLength })
    this.defaultReadOptions = readOptions
    this.readOptions = readOptions
  }

  /** Runs `effect` (one command; commands never overlap) with its own deadline for each read. */
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

  /** The next buffered packet, or undefined when the next one has to be read from the connection. */
  poll(): Packet | undefined {
    return this.index < this.buffered.length ? this.buffered[this.index++] : undefined
  }

  /** Reads from the connection until at least one more packet is buffered. */
  readonly fill: Effect.Effect<void, IoError> = Effect.suspend(() =>
    this.waits === undefined ? this.fillLoop : this.waits.waitRead(this.fillLoop)
  )

  private readonly fillLoop: Effect.Effect<void, IoError> = Effect.suspend(() =>
    this.index < this.buffered.length ? Effect.void : this.readChunk
  )

  private readonly readChunk: Effect.Effect<void, IoError> = Effect.suspend(() => {
    this.liveness?.begin("read")
    return Effect.matchEffect(this.bytes.read(this.readOptions), { onFailure: this.failure, onSuccess: this.onChunk })
  })

  /** A failed read or write: the reason the stall check gave, when it cut the wait short. */
  private readonly failure = (error: IoError): Effect.Effect<never, IoError> => {
    this.liveness?.end()
    return Effect.fail(this.lost ?? error)
  }

  private readonly onChunk = (chunk: Uint8Array): Effect.Effect<void, IoError> => {
    this.liveness?.end()
    const packets = this.decoder.push(plainView(chunk))
    if (Result.isFailure(packets)) return Effect.fail(packets.failure)
    this.buffered = packets.success
    this.index = 0
    // A chunk may end before the first packet in it does.
    return packets.success.length > 0 ? Effect.void : this.readChunk
  }

  /** The next packet, read from the connection if none is buffered. */
  readonly next: Effect.Effect<Packet, IoError> = Effect.suspend(() => {
    const packet = this.poll()
    return packet !== undefined ? Effect.succeed(packet) : Effect.flatMap(this.fill, () => this.next)
  })

  /** Whether a packet is left over that no one asked for (a server talking out of turn). */
  get hasBuffered(): boolean {
    return this.index < this.buffered.length || !this.decoder.idle
  }

  /** From now on, packets travel inside the compressed protocol of `bytes`. */
  compress(bytes: ByteConnection, compressedSequenceId: () => number): void {
    this.bytes = bytes
    this.compressedSequenceId = compressedSequenceId
  }

  /** Writes the next packet of the current exchange (sequence id following the last one read). */
  send(payload: Uint8Array): Effect.Effect<void, IoError> {
    return this.sendFramed(encodePacket(payload, this.decoder.nextSequenceId))
  }

  /** Writes the first packet of a new command: sequence ids start again at 0. */
  sendCommand(payload: Uint8Array): Effect.Effect<void, IoError> {
    this.decoder.expectSequenceId(0)
    return this.send(payload)
  }

  /** Writes a command the protocol package framed itself, as packet 0. */
  sendFramedCommand(framed: FramedPacket): Effect.Effect<void, IoError> {
    return this.sendFramed(framed)
  }

  /** A write marked for the stall check; `readTimeout` bounds it as it bounds a read. */
  private watchedWrite(framed: FramedPacket): Effect.Effect<void, IoError> {
    return Effect.suspend(() => {
      const liveness = this.liveness!
      liveness.begin("write")
      return Effect.matchEffect(this.bytes.write(framed.bytes, this.readOptions), {
        onFailure: this.failure,
        onSuccess: () => {
          liveness.end()
          return Effect.void
        }
      })
    })
  }

  private sendFramed(framed: FramedPacket): Effect.Effect<void, IoError> {
    this.decoder.expectSequenceId(framed.nextSequenceId)
    const write =
      this.liveness === undefined ? this.bytes.write(framed.bytes, this.readOptions) : this.watchedWrite(framed)
    const written = this.waits === undefined ? write : this.waits.waitWrite(write)
    const compressed = this.compressedSequenceId
    // A server reading compressed packets numbers its answer from the compressed sequence id, which
    // runs ahead of ours when a long packet went out as several compressed packets.
    return compressed === undefined
      ? written
      : Effect.tap(written, () => Effect.sync(() => this.decoder.expectSequenceId(compressed())))
  }
}
