/**
 * `Transport` over node:net and node:tls: the Node layer, and the Bun layer (see docs/transport.md
 * for why Bun uses its node:net rather than `Bun.connect`).
 */
import * as Net from "node:net"
import { Clock, Effect } from "effect"
import * as Endpoint from "../Endpoint.ts"
import { TimeoutError } from "../TimeoutError.ts"
import type { Connection, ConnectOptions } from "../Transport.ts"
import { TransportError } from "../TransportError.ts"
import { BusyPoll } from "./BusyPoll.ts"
import type { Channel } from "./Channel.ts"
import { makeConnection } from "./ConnectionCore.ts"
import { type ConnectSettings, maxTimerMillis, resolve } from "./ConnectSettings.ts"
import { upgrade } from "./NodeTlsUpgrade.ts"
import { StreamChannel } from "./StreamChannel.ts"
import { routeOf, type TlsSessionCache } from "./TlsSessionCache.ts"
import type { TlsLimits } from "./TlsSupport.ts"

/**
 * The socket, connected within `timeoutMillis`. The deadline is a timer of the socket's own
 * callback rather than a race of fibers (`withDeadline`), which cost about a sixth of a whole
 * connect and close in instructions (callgrind, 180 connects).
 */
const openSocket = (endpoint: Endpoint.Endpoint, settings: ConnectSettings) =>
  Effect.callback<Net.Socket, TransportError | TimeoutError>((resume) => {
    const socket =
      endpoint._tag === "Unix"
        ? Net.connect({ path: endpoint.path })
        : Net.connect({ host: endpoint.host, port: endpoint.port })
    const timeoutMillis = settings.connectMillis
    const timer = setTimeout(
      () => {
        socket.off("connect", onConnect)
        socket.off("error", onError)
        socket.on("error", () => {})
        socket.destroy()
        resume(
          Effect.fail(
            new TimeoutError({
              operation: "connect",
              timeoutMillis,
              message: `connecting to ${Endpoint.format(endpoint)} did not finish within ${timeoutMillis} ms`
            })
          )
        )
      },
      Math.min(timeoutMillis, maxTimerMillis)
    )
    const onConnect = () => {
      clearTimeout(timer)
      socket.off("error", onError)
      if (endpoint._tag === "Tcp") {
        socket.setNoDelay(settings.noDelay)
        if (settings.keepAlive !== false) socket.setKeepAlive(true, settings.keepAlive.initialDelayMillis ?? 0)
      }
      resume(Effect.succeed(socket))
    }
    const onError = (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      socket.off("connect", onConnect)
      resume(
        Effect.fail(
          new TransportError({
            reason: "connect-failed",
            message: `cannot connect to ${Endpoint.format(endpoint)}: ${error.message}`,
            ...(error.code === undefined ? {} : { code: error.code }),
            cause: error
          })
        )
      )
    }
    socket.once("connect", onConnect)
    socket.once("error", onError)
    return Effect.sync(() => {
      clearTimeout(timer)
      socket.destroy()
    })
  })

/** What the runtime is called in messages, and the TLS settings its node:tls would ignore. */
export interface NodeLikeRuntime {
  readonly name: string
  readonly limits: TlsLimits
  /** Larger chunks are cut into copies of this size (`StreamChannelOptions.pieceSize`). */
  readonly pieceSize?: number | undefined
}

export const connect = (
  runtime: NodeLikeRuntime,
  sessions: TlsSessionCache,
  endpoint: Endpoint.Endpoint,
  options: ConnectOptions = {}
) =>
  Effect.gen(function* () {
    const settings = yield* Effect.fromResult(resolve(options))
    const started = yield* Clock.currentTimeMillis
    const socket = yield* openSocket(endpoint, settings)
    const channelOptions = {
      limit: settings.readBufferSize,
      pieceSize: runtime.pieceSize,
      busyPoll: settings.busyPollMillis === undefined ? undefined : new BusyPoll(settings.busyPollMillis)
    }
    const plain = new StreamChannel(socket, { ...channelOptions, tls: false })
    return makeConnection({
      endpoint,
      channel: plain,
      settings,
      runtime: runtime.name,
      limits: runtime.limits,
      connectDeadline: started + settings.connectMillis,
      upgrade: (channel: Channel, tls) =>
        upgrade((channel as StreamChannel).detach(), tls, channelOptions, {
          cache: sessions,
          route: routeOf(endpoint)
        })
    })
  })

/** The `connect` of a layer: its connections offer one another their TLS sessions through `sessions`. */
export const acquire =
  (runtime: NodeLikeRuntime, sessions: TlsSessionCache) => (endpoint: Endpoint.Endpoint, options?: ConnectOptions) =>
    Effect.acquireRelease(connect(runtime, sessions, endpoint, options), (connection: Connection) => connection.close)
