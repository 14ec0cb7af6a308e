/**
 * The runtime-independent half of a connection: deadlines, the connect budget that the TLS
 * handshake draws on, the closed state, and swapping the plaintext channel for the TLS one.
 */
import { Clock, Duration, Effect } from "effect"
import type { Endpoint } from "../Endpoint.ts"
import type { SslConfigError } from "../SslConfigError.ts"
import type { TlsSettings } from "../SslPolicy.ts"
import type { TimeoutError } from "../TimeoutError.ts"
import type { TlsError } from "../TlsError.ts"
import type { Connection, OperationOptions, TlsInfo } from "../Transport.ts"
import { TransportError } from "../TransportError.ts"
import type { Channel } from "./Channel.ts"
import type { ConnectSettings } from "./ConnectSettings.ts"
import { withDeadline } from "./Deadline.ts"
import { tlsError } from "./TlsFailure.ts"
import { refuseUnsupported, type TlsLimits } from "./TlsSupport.ts"

export type Upgrader = (
  channel: Channel,
  settings: TlsSettings
) => Effect.Effect<{ readonly channel: Channel; readonly info: TlsInfo }, TlsError | TransportError>

export interface CoreOptions {
  readonly endpoint: Endpoint
  readonly channel: Channel
  readonly settings: ConnectSettings
  /** The runtime, by name, and the TLS settings it cannot honour. */
  readonly runtime: string
  readonly limits: TlsLimits
  /** When the connect budget runs out, in epoch milliseconds. */
  readonly connectDeadline: number
  readonly upgrade: Upgrader
}

const closed = () => new TransportError({ reason: "closed", message: "the connection was closed" })

export const makeConnection = (core: CoreOptions): Connection => {
  let channel = core.channel
  let tls: TlsInfo | undefined
  let isClosed = false
  const { readTimeout, writeTimeout } = core.settings

  const read = (options?: OperationOptions) =>
    Effect.suspend(() =>
      isClosed ? Effect.fail(closed()) : withDeadline(channel.read, options?.timeout ?? readTimeout, "read", "read")
    )

  // A write cut short leaves part of a packet on the wire: nothing sent after it could be framed.
  const write = (bytes: Uint8Array, options?: OperationOptions) =>
    Effect.suspend(() =>
      isClosed
        ? Effect.fail(closed())
        : withDeadline(channel.write(bytes), options?.timeout ?? writeTimeout, "write", "write").pipe(
            Effect.tapError((error) => (error._tag === "TimeoutError" ? abort : Effect.void))
          )
    )

  const upgradeTls = (
    settings: TlsSettings,
    options?: OperationOptions
  ): Effect.Effect<TlsInfo, TlsError | TransportError | TimeoutError | SslConfigError> =>
    Effect.gen(function* () {
      if (isClosed) return yield* closed()
      const unsupported = refuseUnsupported(core.runtime, core.limits, settings)
      if (unsupported !== undefined) return yield* Effect.andThen(close, Effect.fail(unsupported))
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
