/**
 * A channel over a `cloudflare:sockets` socket (plaintext, or the one `startTls` returned). Reads
 * are pulled from the socket's stream one at a time, so there is no buffer of ours to bound; a
 * read abandoned by its deadline stays in flight and the next read takes its result, since a
 * stream read cannot be cancelled without ending the stream.
 */
import { Effect } from "effect"
import type { Addresses, Channel } from "../internal/Channel.ts"
import { ioError } from "../internal/IoError.ts"
import { fromRuntimeError } from "../internal/TlsFailure.ts"
import type { TlsError } from "../TlsError.ts"
import { TransportError } from "../TransportError.ts"
import type { Socket, SocketInfo } from "./CloudflareSockets.ts"

const closedByPeer = () => new TransportError({ reason: "closed-by-peer", message: "the server closed the connection" })

export class WorkersChannel implements Channel {
  readonly socket: Socket
  private readonly tls: boolean
  private readonly peer: SocketInfo
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>
  private pending: ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]> | undefined = undefined
  private isClosed = false

  constructor(socket: Socket, tls: boolean, peer: SocketInfo) {
    this.socket = socket
    this.tls = tls
    this.peer = peer
    this.reader = socket.readable.getReader()
    this.writer = socket.writable.getWriter()
  }

  // workerd reports a failed certificate check on the first read or write after the handshake.
  private readonly failure = (error: unknown): TransportError | TlsError =>
    this.tls && /certificate|TLS|SSL|handshake|alert/i.test(String(error))
      ? fromRuntimeError(error)
      : ioError(error, "socket error")

  readonly read: Effect.Effect<Uint8Array, TransportError | TlsError> = Effect.callback((resume) => {
    this.pending ??= this.reader.read()
    const pending = this.pending
    let waiting = true
    pending.then(
      (result) => {
        if (!waiting) return
        this.pending = undefined
        resume(result.done ? Effect.fail(closedByPeer()) : Effect.succeed(result.value))
      },
      (error) => {
        if (!waiting) return
        this.pending = undefined
        resume(Effect.fail(this.failure(error)))
      }
    )
    return Effect.sync(() => {
      waiting = false
    })
  })

  readonly write = (bytes: Uint8Array): Effect.Effect<void, TransportError> =>
    Effect.tryPromise({ try: () => this.writer.write(bytes), catch: (error) => ioError(error, "write failed") })

  readonly buffered = () => 0

  readonly readInFlight = () => this.pending !== undefined

  /** Gives the streams back to the socket, as `startTls` needs them unlocked. */
  readonly release = () => {
    this.reader.releaseLock()
    this.writer.releaseLock()
  }

  // workerd reports the address dialed, `host:port` (an IPv6 host without brackets), and no local one.
  readonly addresses = (): Addresses => {
    const remote = this.peer.remoteAddress ?? ""
    const colon = remote.lastIndexOf(":")
    const port = Number(remote.slice(colon + 1))
    return {
      localAddress: undefined,
      localPort: undefined,
      remoteAddress: colon > 0 ? remote.slice(0, colon) : undefined,
      remotePort: colon > 0 && Number.isInteger(port) ? port : undefined
    }
  }

  // The socket API has no reset: closing is all there is.
  readonly abort: Effect.Effect<void> = Effect.suspend(() => this.close)

  readonly close: Effect.Effect<void> = Effect.sync(() => {
    if (this.isClosed) return
    this.isClosed = true
    this.socket.close().catch(() => {
      // Already closed by the peer or by a failed handshake.
    })
  })
}
