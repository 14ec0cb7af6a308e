/**
 * `Transport` over node:net and node:tls: the Node layer, and the Bun layer (see docs/transport.md
 * for why Bun uses its node:net rather than `Bun.connect`).
 */
import * as Net from "node:net"
import { Clock, Duration, Effect } from "effect"
import * as Endpoint from "../Endpoint.ts"
import { TimeoutError } from "../TimeoutError.ts"
import type { Connection, ConnectOptions } from "../Transport.ts"
import { TransportError } from "../TransportError.ts"
import type { Channel } from "./Channel.ts"
import {
  defaultConnectTimeout,
  defaultKeepAliveDelay,
  defaultReadBufferSize,
  makeConnection
} from "./ConnectionCore.ts"
import { upgrade } from "./NodeTlsUpgrade.ts"
import { StreamChannel } from "./StreamChannel.ts"

/**
 * The socket, connected within `timeoutMillis`. The deadline is a timer of the socket's own
 * callback rather than a race of fibers (`withDeadline`), which cost about a sixth of a whole
 * connect and close in instructions (callgrind, 180 connects).
 */
const openSocket = (endpoint: Endpoint.Endpoint, options: ConnectOptions, timeoutMillis: number) =>
  Effect.callback<Net.Socket, TransportError | TimeoutError>((resume) => {
    const socket =
      endpoint._tag === "Unix"
        ? Net.connect({ path: endpoint.path })
        : Net.connect({ host: endpoint.host, port: endpoint.port })
    const timer = setTimeout(() => {
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
    }, timeoutMillis)
    const onConnect = () => {
      clearTimeout(timer)
      socket.off("error", onError)
      if (endpoint._tag === "Tcp") {
        socket.setNoDelay(options.noDelay ?? true)
        if (options.keepAlive !== false) {
          socket.setKeepAlive(true, Duration.toMillis(options.keepAlive?.initialDelay ?? defaultKeepAliveDelay))
        }
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

export const connect = (endpoint: Endpoint.Endpoint, options: ConnectOptions = {}) =>
  Effect.gen(function* () {
    const budget = options.connectTimeout ?? defaultConnectTimeout
    const started = yield* Clock.currentTimeMillis
    const limit = options.readBufferSize ?? defaultReadBufferSize
    const socket = yield* openSocket(endpoint, options, Duration.toMillis(budget))
    const plain = new StreamChannel(socket, { limit, tls: false })
    return makeConnection({
      endpoint,
      channel: plain,
      options,
      connectDeadline: started + Duration.toMillis(budget),
      upgrade: (channel: Channel, settings) => upgrade((channel as StreamChannel).detach(), settings, { limit })
    })
  })

export const acquire = (endpoint: Endpoint.Endpoint, options?: ConnectOptions) =>
  Effect.acquireRelease(connect(endpoint, options), (connection: Connection) => connection.close)
