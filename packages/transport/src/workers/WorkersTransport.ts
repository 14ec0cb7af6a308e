/**
 * The Cloudflare Workers layer, over `cloudflare:sockets`: a socket opened with
 * `secureTransport: "starttls"` and upgraded with `startTls()` after the SSL Request, which is the
 * protocol's in-band upgrade as it is. What Workers' socket API cannot express is refused with a
 * typed error before anything is sent, never dropped (docs/tls.md has the table): Unix sockets,
 * keepalive settings, Nagle on, busy polling; and on the TLS side a CA, a client certificate,
 * pinned fingerprints, TLS versions, ciphers and CRLs. Every upgrade verifies the server's chain
 * against the platform's trusted CAs and its name, whatever the ssl-mode asks.
 */
import { Clock, Duration, Effect, Layer } from "effect"
import * as Endpoint from "../Endpoint.ts"
import type { Channel } from "../internal/Channel.ts"
import { makeConnection } from "../internal/ConnectionCore.ts"
import { type ConnectSettings, invalidOption, resolve } from "../internal/ConnectSettings.ts"
import { withDeadline } from "../internal/Deadline.ts"
import { fromRuntimeError, tlsError } from "../internal/TlsFailure.ts"
import type { TlsLimits } from "../internal/TlsSupport.ts"
import { SslConfigError } from "../SslConfigError.ts"
import type { TlsSettings } from "../SslPolicy.ts"
import type { TlsError } from "../TlsError.ts"
import { type Connection, type ConnectOptions, type TlsInfo, Transport } from "../Transport.ts"
import { TransportError } from "../TransportError.ts"
import { load, type Socket } from "./CloudflareSockets.ts"
import { WorkersChannel } from "./WorkersChannel.ts"

const why = "Workers' sockets (cloudflare:sockets) offer"

/** The TLS settings `startTls()` has no way to pass on. */
const limits: TlsLimits = {
  ca: `${why} no CA of one's own: servers are checked against the platform's trusted CAs`,
  cert: `${why} no client certificate`,
  fingerprints: `${why} no look at the server's certificate to compare`,
  minVersion: `${why} no choice of TLS version`,
  maxVersion: `${why} no choice of TLS version`,
  ciphers: `${why} no choice of ciphers`,
  ciphersuites: `${why} no choice of TLS 1.3 suites`,
  crl: `${why} no revocation lists`
}

/** A connect option Workers would ignore, with what to do instead; undefined when all can be honoured. */
const refusedOption = (options: ConnectOptions, settings: ConnectSettings) => {
  if (options.keepAlive !== undefined) {
    return "keepAlive cannot be honoured on Workers: its sockets expose no keepalive setting; leave keepAlive out"
  }
  if (!settings.noDelay) {
    return "noDelay: false cannot be honoured on Workers: its sockets expose no Nagle setting; leave noDelay out"
  }
  if (settings.busyPollMillis !== undefined) {
    return "busyPoll cannot be honoured on Workers: a socket read there is a stream read the runtime settles; leave busyPoll out"
  }
  return undefined
}

const connectFailed = (endpoint: Endpoint.Endpoint, error: unknown) =>
  new TransportError({
    reason: "connect-failed",
    message: `cannot connect to ${Endpoint.format(endpoint)}: ${error instanceof Error ? error.message : String(error)}`,
    cause: error
  })

/** Opens the socket and waits until it is connected; a socket abandoned by the deadline is closed. */
const openSocket = (endpoint: Endpoint.TcpEndpoint) =>
  Effect.tryPromise({
    try: () => load(),
    catch: (error) => connectFailed(endpoint, error)
  }).pipe(
    Effect.flatMap((sockets) =>
      Effect.callback<WorkersChannel, TransportError>((resume) => {
        let socket: Socket
        try {
          socket = sockets.connect(
            { hostname: endpoint.host, port: endpoint.port },
            { secureTransport: "starttls", allowHalfOpen: false }
          )
        } catch (error) {
          return resume(Effect.fail(connectFailed(endpoint, error)))
        }
        let abandoned = false
        socket.opened.then(
          (peer) => {
            if (abandoned) socket.close().catch(() => {})
            else resume(Effect.succeed(new WorkersChannel(socket, false, peer)))
          },
          (error) => resume(Effect.fail(connectFailed(endpoint, error)))
        )
        return Effect.sync(() => {
          abandoned = true
        })
      })
    )
  )

/** workerd hides why a handshake failed from JavaScript ("internal error; reference = …"). */
const handshakeFailure =
  (host: string) =>
  (error: unknown): TlsError => {
    const failure = fromRuntimeError(error)
    return failure.reason !== "handshake-failed"
      ? failure
      : tlsError(
          "handshake-failed",
          `${failure.detail}; the Workers runtime logs the cause but does not pass it on: most often the server's certificate is not from a CA the platform trusts, or does not name ${host}`
        )
  }

const upgrade =
  (host: string) =>
  (channel: Channel, settings: TlsSettings): Effect.Effect<{ channel: Channel; info: TlsInfo }, TlsError> =>
    Effect.tryPromise({
      try: async () => {
        const plain = channel as WorkersChannel
        plain.release()
        // No expectedServerHostname: workerd is withdrawing it (an autogate makes it a TypeError),
        // so the name checked is always the host connected to.
        const tls = plain.socket.startTls()
        return new WorkersChannel(tls, true, await tls.opened)
      },
      catch: handshakeFailure(host)
    }).pipe(
      Effect.map((tls) => ({
        channel: tls,
        info: {
          version: undefined,
          cipher: undefined,
          peerCertificate: undefined,
          // Whatever the mode asked, startTls checked the chain and the name.
          verification: { mode: settings.mode, chain: true, hostname: host, fingerprint: false },
          implementation: "cloudflare:sockets startTls",
          sessionReused: undefined
        }
      }))
    )

/** The name startTls checks is the host connected to: another one cannot be asked for. */
const refuseOtherName = (connection: Connection, host: string): Connection => ({
  ...connection,
  upgradeTls: (settings, options) =>
    settings.identity === host
      ? connection.upgradeTls(settings, options)
      : Effect.andThen(
          connection.close,
          Effect.fail(
            new SslConfigError({
              message: `ssl.servername ${settings.identity} cannot be honoured on Workers: startTls checks the certificate against the host connected to (${host}); connect to ${settings.identity} by that name instead, or leave ssl.servername out`
            })
          )
        )
})

const connect = (endpoint: Endpoint.Endpoint, options: ConnectOptions = {}) =>
  Effect.gen(function* () {
    const settings = yield* Effect.fromResult(resolve(options))
    if (endpoint._tag === "Unix") {
      return yield* invalidOption(
        `a Unix socket (${endpoint.path}) cannot be reached from Workers: connect to a host and port`
      )
    }
    const refused = refusedOption(options, settings)
    if (refused !== undefined) return yield* invalidOption(refused)
    const started = yield* Clock.currentTimeMillis
    const channel = yield* withDeadline(
      openSocket(endpoint),
      Duration.millis(settings.connectMillis),
      "connect",
      `connecting to ${Endpoint.format(endpoint)}`
    )
    const connection = makeConnection({
      endpoint,
      channel,
      settings,
      runtime: "Workers",
      limits,
      connectDeadline: started + settings.connectMillis,
      upgrade: upgrade(endpoint.host)
    })
    return refuseOtherName(connection, endpoint.host)
  })

export const layer: Layer.Layer<Transport> = Layer.succeed(
  Transport,
  Transport.of({
    connect: (endpoint, options) =>
      Effect.acquireRelease(connect(endpoint, options), (connection: Connection) => connection.close)
  })
)
