/**
 * The fake server's side of one connection: the socket as a byte connection that can be upgraded
 * to TLS in place (after an SSL Request, on the same socket), and MySQL packets over whatever byte
 * connection is current (the socket, the TLS socket, or the compressed protocol around either).
 *
 * Packets are taken off the bytes one at a time, never more: the bytes after an SSL Request are
 * the client's TLS handshake and must go to the TLS layer, not to the packet decoder.
 */
import type * as Net from "node:net"
import * as Tls from "node:tls"
import { concatBytes, encodePacket, type Packet, PacketDecoder } from "@effect-mysql/protocol"
import { HarnessError } from "@effect-mysql/testing"
import { Effect, Result } from "effect"

/** What the packet layer needs of a connection (the socket's, or the compressed one around it). */
export interface ByteConnection {
  readonly read: () => Effect.Effect<Uint8Array, HarnessError>
  readonly write: (bytes: Uint8Array) => Effect.Effect<void, HarnessError>
}

const closedError = (detail: string) => new HarnessError({ message: `the client closed the connection (${detail})` })

/** The accepted socket, read chunk by chunk; `upgradeTls` puts TLS on the same socket. */
export class SocketBytes implements ByteConnection {
  socket: Net.Socket
  private chunks: Array<Uint8Array> = []
  private waiter: (() => void) | undefined
  private ended: string | undefined

  constructor(socket: Net.Socket) {
    this.socket = socket
    this.attach(socket)
  }

  private readonly onData = (chunk: Uint8Array) => {
    this.chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    this.wake()
  }

  private readonly onEnd = () => {
    this.ended ??= "end of stream"
    this.wake()
  }

  private readonly onError = (error: Error) => {
    this.ended ??= error.message
    this.wake()
  }

  private wake() {
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.()
  }

  private attach(socket: Net.Socket) {
    socket.on("data", this.onData)
    socket.on("end", this.onEnd)
    socket.on("close", this.onEnd)
    socket.on("error", this.onError)
  }

  private detach(socket: Net.Socket) {
    socket.off("data", this.onData)
    socket.off("end", this.onEnd)
    socket.off("close", this.onEnd)
    socket.off("error", this.onError)
  }

  readonly read = (): Effect.Effect<Uint8Array, HarnessError> =>
    Effect.callback<Uint8Array, HarnessError>((resume) => {
      const attempt = () => {
        const chunk = this.chunks.shift()
        if (chunk !== undefined) resume(Effect.succeed(chunk))
        else if (this.ended !== undefined) resume(Effect.fail(closedError(this.ended)))
        else this.waiter = attempt
      }
      attempt()
      return Effect.sync(() => {
        this.waiter = undefined
      })
    })

  readonly write = (bytes: Uint8Array): Effect.Effect<void, HarnessError> =>
    Effect.callback<void, HarnessError>((resume) => {
      if (this.ended !== undefined || this.socket.destroyed) return resume(Effect.fail(closedError("write")))
      this.socket.write(bytes, (error) => resume(error == null ? Effect.void : Effect.fail(closedError(error.message))))
    })

  /**
   * Turns the connection into the server end of a TLS session. `pending` are bytes already read
   * past the SSL Request (the start of the client's TLS handshake): they go back to the socket
   * first, so the TLS layer sees the whole handshake.
   */
  upgradeTls(credentials: { readonly cert: string; readonly key: string }, pending: Uint8Array) {
    return Effect.callback<void, HarnessError>((resume) => {
      const raw = this.socket
      this.detach(raw)
      raw.pause()
      const unread = [...this.chunks]
      this.chunks = []
      const replay = concatBytes([pending, ...unread])
      if (replay.length > 0) raw.unshift(replay)
      const secure = new Tls.TLSSocket(raw, { isServer: true, cert: credentials.cert, key: credentials.key })
      this.socket = secure
      this.attach(secure)
      secure.once("secure", () => resume(Effect.void))
      secure.once("error", (cause) =>
        resume(
          Effect.fail(new HarnessError({ message: `TLS handshake with the client failed: ${cause.message}`, cause }))
        )
      )
      // A client that refuses the certificate may just close, with no TLS alert and no error here.
      secure.once("close", () => resume(Effect.fail(closedError("during the TLS handshake"))))
    })
  }

  /** Closes the socket at once. */
  readonly destroy = Effect.sync(() => {
    this.socket.destroy()
  })

  /** Resolves when the socket is gone (the client closed it, or `destroy`). */
  readonly closed = Effect.callback<void>((resume) => {
    const raw = this.socket
    if (raw.destroyed) return resume(Effect.void)
    raw.once("close", () => resume(Effect.void))
  })
}

/** Packets over the current byte connection, sequence ids checked on reads and continued on writes. */
export class PacketWire {
  bytes: ByteConnection
  private buffer: Uint8Array = new Uint8Array(0)
  private readonly decoder: PacketDecoder

  constructor(bytes: ByteConnection, maxPayloadLength: number) {
    this.bytes = bytes
    this.decoder = new PacketDecoder({ maxPayloadLength })
  }

  /** The sequence id of the next packet written. */
  get sequenceId(): number {
    return this.decoder.nextSequenceId
  }

  /** The next packet from the client; only its own bytes are taken from the connection. */
  readonly next: Effect.Effect<Packet, HarnessError> = Effect.gen({ self: this }, function* () {
    while (true) {
      const length =
        this.buffer.length >= 4 ? 4 + (this.buffer[0] | (this.buffer[1] << 8) | (this.buffer[2] << 16)) : Infinity
      if (this.buffer.length >= length) {
        const frame = this.buffer.subarray(0, length)
        this.buffer = this.buffer.subarray(length)
        const packets = this.decoder.push(frame)
        if (Result.isFailure(packets)) {
          return yield* new HarnessError({ message: `the client sent a malformed packet: ${packets.failure.message}` })
        }
        // A fragment of a payload split at 16 MiB completes nothing yet.
        if (packets.success.length > 0) return packets.success[0]!
        continue
      }
      this.buffer = concatBytes([this.buffer, yield* this.bytes.read()])
    }
  })

  /** Bytes read past the last packet, handed over to TLS when the connection is upgraded. */
  takePending(): Uint8Array {
    const pending = this.buffer
    this.buffer = new Uint8Array(0)
    return pending
  }

  /** Frames `payload` with the next sequence id; the client's answer follows it. */
  frame(payload: Uint8Array): Uint8Array {
    const framed = encodePacket(payload, this.decoder.nextSequenceId)
    this.decoder.expectSequenceId(framed.nextSequenceId)
    return framed.bytes
  }

  /** A new command starts: its first packet carries sequence id 0. */
  startCommand(): void {
    this.decoder.expectSequenceId(0)
  }
}
