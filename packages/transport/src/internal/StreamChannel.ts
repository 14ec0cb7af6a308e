/**
 * A channel over a node:stream socket (node:net `Socket` or node:tls `TLSSocket`, on any runtime
 * that has them). Incoming chunks go to a bounded `ReadBuffer` that pauses the socket while full.
 */
import type { Duplex } from "node:stream"
import { Effect } from "effect"
import type { TlsError } from "../TlsError.ts"
import { TransportError } from "../TransportError.ts"
import type { BusyPoll } from "./BusyPoll.ts"
import type { Addresses, Channel } from "./Channel.ts"
import { cutAndRelease } from "./ChunkPieces.ts"
import { closedByPeer, ioError } from "./IoError.ts"
import { ReadBuffer } from "./ReadBuffer.ts"
import { fromRuntimeError, isTlsAlert } from "./TlsFailure.ts"

export interface SocketLike extends Duplex {
  readonly localAddress?: string | undefined
  readonly localPort?: number | undefined
  readonly remoteAddress?: string | undefined
  readonly remotePort?: number | undefined
}

export interface StreamChannelOptions {
  readonly limit: number
  /** Whether the socket carries TLS, so that its errors may be the peer's alerts. */
  readonly tls: boolean
  /**
   * Extra hands on the brake, for sockets whose `pause()` does not stop reading from below
   * (Deno's node:tls): stop and restart the source that feeds the socket.
   */
  readonly hold?: () => void
  readonly release?: () => void
  /** Poll for a reply before sleeping (the `busyPoll` option); shared by the plaintext and TLS channels. */
  readonly busyPoll?: BusyPoll | undefined
  /**
   * Chunks larger than this are copied into pieces of this size and their buffer freed at once
   * (`cutAndRelease`), for runtimes whose sockets hand out large chunks (Bun: up to 512 KiB).
   */
  readonly pieceSize?: number | undefined
}

export class StreamChannel implements Channel {
  private readonly buffer: ReadBuffer<TransportError | TlsError>
  private readonly onData = (chunk: Uint8Array) => {
    this.options.busyPoll?.received()
    const pieceSize = this.options.pieceSize
    if (pieceSize === undefined || chunk.length <= pieceSize) return this.buffer.push(chunk)
    for (const piece of cutAndRelease(chunk, pieceSize)) this.buffer.push(piece)
  }
  private readonly onEnd = () => this.buffer.end(closedByPeer)
  private readonly onClose = () => this.buffer.end(closedByPeer)
  private readonly onError = (error: unknown) =>
    this.buffer.end(() =>
      this.options.tls && isTlsAlert(error) ? fromRuntimeError(error) : ioError(error, "socket error")
    )

  readonly socket: SocketLike
  private readonly options: StreamChannelOptions

  constructor(socket: SocketLike, options: StreamChannelOptions) {
    this.socket = socket
    this.options = options
    this.buffer = new ReadBuffer(
      options.limit,
      () => {
        socket.pause()
        options.hold?.()
      },
      () => {
        options.release?.()
        socket.resume()
      }
    )
    socket.on("data", this.onData)
    socket.on("end", this.onEnd)
    socket.on("close", this.onClose)
    socket.on("error", this.onError)
  }

  /** Hands the socket over (to a TLS session): stops listening, keeps it paused and its errors caught. */
  detach(): SocketLike {
    this.socket.pause()
    this.socket.off("data", this.onData)
    this.socket.off("end", this.onEnd)
    this.socket.off("close", this.onClose)
    this.socket.off("error", this.onError)
    // The TLS session above reports failures of the socket below as its own.
    this.socket.on("error", () => {})
    return this.socket
  }

  readonly read: Effect.Effect<Uint8Array, TransportError | TlsError> = Effect.callback((resume) => {
    const now = this.buffer.poll()
    if (now !== undefined) return resume(Effect.fromResult(now))
    this.options.busyPoll?.waiting()
    const cancel = this.buffer.await((result) => resume(Effect.fromResult(result)))
    return Effect.sync(cancel)
  })

  readonly write = (bytes: Uint8Array): Effect.Effect<void, TransportError> =>
    Effect.callback((resume) => {
      const socket = this.socket
      if (socket.destroyed || !socket.writable) {
        return resume(
          Effect.fail(new TransportError({ reason: "closed-by-peer", message: "the connection is closed" }))
        )
      }
      this.options.busyPoll?.wrote()
      if (socket.write(bytes)) return resume(Effect.void)
      const done = () => {
        socket.off("drain", onDrain)
        socket.off("close", onClose)
        socket.off("error", onError)
      }
      const onDrain = () => {
        done()
        resume(Effect.void)
      }
      const onClose = () => {
        done()
        resume(Effect.fail(closedByPeer()))
      }
      const onError = (error: unknown) => {
        done()
        resume(Effect.fail(ioError(error, "write failed")))
      }
      socket.on("drain", onDrain)
      socket.on("close", onClose)
      socket.on("error", onError)
      return Effect.sync(done)
    })

  readonly buffered = () => this.buffer.size

  readonly readInFlight = () => false

  readonly addresses = (): Addresses => ({
    localAddress: this.socket.localAddress,
    localPort: this.socket.localPort,
    remoteAddress: this.socket.remoteAddress,
    remotePort: this.socket.remotePort
  })

  readonly abort: Effect.Effect<void> = Effect.sync(() => {
    this.socket.on("error", () => {})
    this.socket.destroy()
  })

  /** Flushes what was written and sends FIN; a peer that does not answer gets the socket destroyed. */
  readonly close: Effect.Effect<void> = Effect.callback((resume) => {
    const socket = this.socket
    if (socket.destroyed) return resume(Effect.void)
    const timer = setTimeout(() => socket.destroy(), 1000)
    socket.once("close", () => {
      clearTimeout(timer)
      resume(Effect.void)
    })
    socket.on("error", () => {})
    socket.end(() => socket.destroy())
  })
}
