/**
 * A channel over a native Deno connection (TCP, Unix socket, or `Deno.startTls` on top). Reads are
 * pulled (see `internal/PulledReads.ts`): Deno cannot cancel a pending read.
 */
import { Effect } from "effect"
import type { Addresses, Channel } from "../internal/Channel.ts"
import { ioError } from "../internal/IoError.ts"
import { PulledReads } from "../internal/PulledReads.ts"
import { fromRuntimeError } from "../internal/TlsFailure.ts"
import type { TlsError } from "../TlsError.ts"
import type { TransportError } from "../TransportError.ts"
import type { DenoConn } from "./DenoApi.ts"

/**
 * Each read gets a fresh buffer (the packets cut from it are views, so it cannot be reused). Its
 * size follows what the kernel had: it doubles while reads fill it and halves when they use less
 * than a quarter, so the answer to a short command does not cost a zero-filled 64 KiB buffer.
 */
const minChunkSize = 4 * 1024
const maxChunkSize = 64 * 1024

export class DenoChannel implements Channel {
  readonly conn: DenoConn
  private readonly tls: boolean
  private readonly reads: PulledReads
  private isClosed = false
  private chunkSize = minChunkSize

  constructor(conn: DenoConn, tls: boolean) {
    this.conn = conn
    this.tls = tls
    this.reads = new PulledReads(this.pull, this.failure)
    this.read = this.reads.read
  }

  private readonly pull = (): Promise<Uint8Array | null> => {
    const buffer = new Uint8Array(this.chunkSize)
    return this.conn.read(buffer).then((n) => {
      if (n === null) return null
      if (n === buffer.length) this.chunkSize = Math.min(maxChunkSize, buffer.length * 2)
      else if (n < buffer.length / 4) this.chunkSize = Math.max(minChunkSize, buffer.length / 2)
      return buffer.subarray(0, n)
    })
  }

  private readonly failure = (error: unknown): TransportError | TlsError =>
    this.tls && /alert|certificate/i.test(String(error)) ? fromRuntimeError(error) : ioError(error, "socket error")

  readonly read: Effect.Effect<Uint8Array, TransportError | TlsError>

  readonly write = (bytes: Uint8Array): Effect.Effect<void, TransportError> =>
    Effect.tryPromise({
      try: async () => {
        // Deno's write may take fewer bytes than given.
        let offset = 0
        while (offset < bytes.length) offset += await this.conn.write(bytes.subarray(offset))
      },
      catch: (error) => ioError(error, "write failed")
    })

  readonly buffered = () => 0

  readonly readInFlight = () => this.reads.inFlight()

  readonly addresses = (): Addresses => {
    const local = this.conn.localAddr
    const remote = this.conn.remoteAddr
    return {
      localAddress: local.transport === "unix" ? undefined : local.hostname,
      localPort: local.port,
      remoteAddress: remote.transport === "unix" ? undefined : remote.hostname,
      remotePort: remote.port
    }
  }

  // Deno's close releases the socket at once; there is nothing further to drop.
  readonly abort: Effect.Effect<void> = Effect.suspend(() => this.close)

  readonly close: Effect.Effect<void> = Effect.sync(() => {
    if (this.isClosed) return
    this.isClosed = true
    try {
      this.conn.close()
    } catch {
      // Already closed by the peer or by a failed handshake.
    }
  })
}
