/**
 * The runtime-independent half of a connection: deadlines, the connect budget that the TLS
 * handshake draws on, the closed state, and swapping the plaintext channel for the TLS one.
 */
import { Clock, Duration, Effect } from "effect"
import type { Endpoint } from "../Endpoint.ts"
import type { TlsSettings } from "../SslPolicy.ts"
import type { TimeoutError } from "../TimeoutError.ts"
import type { TlsError } from "../TlsError.ts"
import type { Connection, ConnectOptions, OperationOptions, TlsInfo } from "../Transport.ts"
import { TransportError } from "../TransportError.ts"
import type { Channel } from "./Channel.ts"
import { withDeadline } from "./Deadline.ts"
import { tlsError } from "./TlsFailure.ts"

export const defaultConnectTimeout = Duration.seconds(10)
export const defaultKeepAliveDelay = Duration.seconds(60)
export const defaultReadBufferSize = 256 * 1024

export type Upgrader = (
  channel: Channel,
  settings: TlsSettings
) => Effect.Effect<{ readonly channel: Channel; readonly info: TlsInfo }, TlsError | TransportError>

export interface CoreOptions {
  readonly endpoint: Endpoint
  readonly channel: Channel
  readonly options: ConnectOptions
  /** When the connect budget runs out, in epoch milliseconds. */
  readonly connectDeadline: number
  readonly upgrade: Upgrader
}

const closed = () => new TransportError({ reason: "closed", message: "the connection was closed" })

export const makeConnection = (core: CoreOptions): Connection => {
  let channel = core.channel
  let tls: TlsInfo | undefined
  let isClosed = false
  const { readTimeout, writeTimeout } = core.options

  const read = (options?: OperationOptions) =>
    Effect.suspend(() =>
      isClosed ? Effect.fail(closed()) : withDeadline(channel.read, options?.timeout ?? readTimeout, "read", "read")
    )

  const write = (bytes: Uint8Array, options?: OperationOptions) =>
    Effect.suspend(() =>
      isClosed
        ? Effect.fail(closed())
        : withDeadline(channel.write(bytes), options?.timeout ?? writeTimeout, "write", "write")
    )

  const upgradeTls = (
    settings: TlsSettings,
    options?: OperationOptions
  ): Effect.Effect<TlsInfo, TlsError | TransportError | TimeoutError> =>
    Effect.gen(function* () {
      if (isClosed) return yield* closed()
      if (tls !== undefined) return yield* tlsError("handshake-failed", "the connection is already encrypted")
      const early = channel.buffered()
      if (early > 0) {
        return yield* tlsError(
          "handshake-failed",
          `${early} plaintext bytes arrived before the TLS handshake and were not read: refusing to treat them as part of the TLS session`
        )
      }
      if (channel.readInFlight()) {
        return yield* tlsError("handshake-failed", "a read abandoned by its deadline is still pending on the socket")
      }
      const now = yield* Clock.currentTimeMillis
      const timeout = options?.timeout ?? Duration.millis(Math.max(0, core.connectDeadline - now))
      const upgraded = yield* withDeadline(
        core.upgrade(channel, settings),
        timeout,
        "tls-handshake",
        "TLS handshake"
      ).pipe(Effect.tapError(() => close))
      channel = upgraded.channel
      tls = upgraded.info
      return upgraded.info
    })

  const close = Effect.suspend(() => {
    if (isClosed) return Effect.void
    isClosed = true
    return channel.close
  })

  // Also after `close`, which may still be waiting to flush.
  const abort = Effect.suspend(() => {
    isClosed = true
    return channel.abort
  })

  return {
    read,
    write,
    upgradeTls,
    info: Effect.sync(() => ({ endpoint: core.endpoint, ...channel.addresses(), tls })),
    close,
    abort
  }
}
