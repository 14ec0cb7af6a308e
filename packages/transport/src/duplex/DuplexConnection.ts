/**
 * A `Connection` over any node:stream Duplex that already reaches the server: a channel of an SSH
 * session, a proxy's socket, a pipe in a test. Everything above the socket is the same as on the
 * runtime layers (bounded reads, deadlines, the in-band TLS upgrade through node:tls, which Node,
 * Deno and Bun all have); what belongs to a TCP socket (keepalive, Nagle) belongs to whatever
 * carries the duplex, so a keepalive delay asked for here is refused rather than ignored.
 */
import type { Duplex } from "node:stream"
import { Clock, Effect, type Scope } from "effect"
import type { Endpoint } from "../Endpoint.ts"
import { BusyPoll } from "../internal/BusyPoll.ts"
import type { Channel } from "../internal/Channel.ts"
import { makeConnection } from "../internal/ConnectionCore.ts"
import { invalidOption, resolve } from "../internal/ConnectSettings.ts"
import { upgrade } from "../internal/NodeTlsUpgrade.ts"
import { StreamChannel } from "../internal/StreamChannel.ts"
import { routeOf, TlsSessionCache } from "../internal/TlsSessionCache.ts"
import { nodeTlsLimits } from "../internal/TlsSupport.ts"
import { runtime } from "../RuntimeTransport.ts"
import type { Connection, ConnectOptions } from "../Transport.ts"
import type { TransportError } from "../TransportError.ts"

const runtimeName = ({ node: "Node", deno: "Deno", bun: "Bun" } as const)[runtime]

/**
 * TLS sessions that connections over duplexes offer one another for resumption (docs/tls.md). A
 * set belongs to one carrier, such as one SSH tunnel: sessions are kept per endpoint as the
 * carrier reaches it, and two carriers may each reach a different `localhost:3306`.
 */
export interface TlsSessions {
  readonly cache: TlsSessionCache
}

export const tlsSessions = (): TlsSessions => ({ cache: new TlsSessionCache() })

/**
 * The connection over `duplex`, which `endpoint` names in `info` and in messages; closing the
 * scope closes the duplex. `connectTimeout` bounds the TLS handshake, counted from this call.
 * With `sessions`, its TLS handshake resumes an earlier connection's session where the runtime
 * can (Node and Bun; Deno's node:tls cannot) and `ssl.sessionReuse` allows.
 */
export const make = (
  duplex: Duplex,
  endpoint: Endpoint,
  options: ConnectOptions = {},
  sessions?: TlsSessions
): Effect.Effect<Connection, TransportError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const settings = yield* Effect.fromResult(resolve(options))
      if (typeof options.keepAlive === "object" && options.keepAlive.initialDelay !== undefined) {
        return yield* invalidOption(
          "keepAlive.initialDelay cannot be honoured on a connection over a stream: it has no TCP socket of its own; keep whatever carries the stream alive instead (an SSH tunnel's keepalive option)"
        )
      }
      const started = yield* Clock.currentTimeMillis
      const resumption =
        sessions === undefined || runtimeName === "Deno"
          ? undefined
          : { cache: sessions.cache, route: routeOf(endpoint) }
      const channelOptions = {
        limit: settings.readBufferSize,
        busyPoll: settings.busyPollMillis === undefined ? undefined : new BusyPoll(settings.busyPollMillis),
        // Deno's node:tls keeps reading from below while paused: the brake goes on the duplex itself.
        hold: () => duplex.pause(),
        release: () => duplex.resume()
      }
      return makeConnection({
        endpoint,
        channel: new StreamChannel(duplex, {
          limit: channelOptions.limit,
          busyPoll: channelOptions.busyPoll,
          tls: false
        }),
        settings,
        runtime: runtimeName,
        limits: nodeTlsLimits[runtimeName],
        connectDeadline: started + settings.connectMillis,
        upgrade: (channel: Channel, tls) =>
          upgrade((channel as StreamChannel).detach(), tls, channelOptions, resumption)
      })
    }),
    (connection) => connection.close
  )
