/**
 * A transport `Connection` as a node:stream Duplex, which is what ssh2 runs its session over: so
 * the SSH session reaches its server through whatever `Transport` the layer was given (the
 * runtime's sockets, with their connect timeout, keepalive and no-delay, or another tunnel).
 */
import { Duplex } from "node:stream"
import { type Connection, TransportError } from "@effect-mysql/transport"
import { Effect, Exit, Option } from "effect"

const failureOf = <E extends Error>(exit: Exit.Exit<unknown, E>): E | Error =>
  Option.getOrElse(Exit.findErrorOption(exit), () => new Error("the connection to the SSH server was interrupted"))

export class ConnectionStream extends Duplex {
  private reading = false
  private readonly connection: Connection

  constructor(connection: Connection) {
    super()
    this.connection = connection
    // A read still pending when the connection is closed under it fails after ssh2 has stopped
    // listening: that failure must not become an uncaught 'error' event.
    this.on("error", () => {})
  }

  /** Reads one chunk at a time, and only while the reader above wants more. */
  override _read(): void {
    if (this.reading) return
    this.reading = true
    Effect.runCallback(this.connection.read(), {
      onExit: (exit) => {
        this.reading = false
        if (Exit.isSuccess(exit)) {
          if (this.push(exit.value)) this._read()
          return
        }
        const error = failureOf(exit)
        if (error instanceof TransportError && error.reason === "closed-by-peer") {
          // The server is gone both ways: 'close' must follow 'end', which needs both sides ended.
          this.once("end", () => this.destroy())
          this.push(null)
        } else {
          this.destroy(error)
        }
      }
    })
  }

  override _write(chunk: Uint8Array, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    Effect.runCallback(this.connection.write(chunk), {
      onExit: (exit) => callback(Exit.isSuccess(exit) ? null : failureOf(exit))
    })
  }

  override _final(callback: (error?: Error | null) => void): void {
    Effect.runCallback(this.connection.close, { onExit: () => callback() })
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    Effect.runCallback(this.connection.abort, { onExit: () => callback(error) })
  }
}
