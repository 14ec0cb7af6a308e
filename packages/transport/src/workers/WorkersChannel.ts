/**
 * A channel over a `cloudflare:sockets` socket (plaintext, or the one `startTls` returned). Reads
 * are pulled from the socket's stream (see `internal/PulledReads.ts`): a stream read cannot be
 * cancelled without ending the stream.
 */
import { Effect } from "effect"
import type { Addresses, Channel } from "../internal/Channel.ts"
import { ioError } from "../internal/IoError.ts"
import { PulledReads } from "../internal/PulledReads.ts"
import { fromRuntimeError } from "../internal/TlsFailure.ts"
import type { TlsError } from "../TlsError.ts"
import type { TransportError } from "../TransportError.ts"
import type { Socket, SocketInfo } from "./CloudflareSockets.ts"

export class WorkersChannel implements Channel {
  readonly socket: Socket
  private readonly tls: boolean
  private readonly peer: SocketInfo
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>
  private readonly reads: PulledReads
  private isClosed = false

  constructor(socket: Socket, tls: boolean, peer: SocketInfo) {
    this.socket = socket
    this.tls = tls
    this.peer = peer
    this.reader = socket.readable.getReader()
    this.writer = socket.writable.getWriter()
    this.reads = new PulledReads(
      () => this.reader.read().then((result) => (result.done ? null : result.value)),
      this.failure
    )
    this.read = this.reads.read
  }

  // workerd reports a failed certificate check on the first read or write after the handshake.
  private readonly failure = (error: unknown): TransportError | TlsError =>
    this.tls && /certificate|TLS|SSL|handshake|alert/i.test(String(error))
      ? fromRuntimeError(error)
      : ioError(error, "socket error")

  readonly read: Effect.Effect<Uint8Array, TransportError | TlsError>

  readonly write = (bytes: Uint8Array): Effect.Effect<void, TransportError> =>
    Effect.tryPromise({ try: () => this.writer.write(bytes), catch: (error) => ioError(error, "write failed") })

  readonly buffered = () => 0

  readonly readInFlight = () => this.reads.inFlight()

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
