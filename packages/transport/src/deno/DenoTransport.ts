/**
 * The Deno layer: native `Deno.connect` for TCP and Unix sockets (pull-based reads), native
 * `Deno.startTls` for verify-ca and verify-identity without a client certificate, and Deno's
 * node:tls over the same native connection for everything `Deno.startTls` cannot do.
 */
import { Clock, Duration, Effect, Layer } from "effect"
import * as Endpoint from "../Endpoint.ts"
import type { Channel } from "../internal/Channel.ts"
import { makeConnection } from "../internal/ConnectionCore.ts"
import { invalidOption, resolve } from "../internal/ConnectSettings.ts"
import { withDeadline } from "../internal/Deadline.ts"
import { fromRuntimeError } from "../internal/TlsFailure.ts"
import { nodeTlsLimits } from "../internal/TlsSupport.ts"
import { type TlsSettings, verificationOf } from "../SslPolicy.ts"
import type { TlsError } from "../TlsError.ts"
import { type Connection, type ConnectOptions, type TlsInfo, Transport } from "../Transport.ts"
import { TransportError } from "../TransportError.ts"
import { type DenoConn, deno } from "./DenoApi.ts"
import { DenoChannel } from "./DenoChannel.ts"

const openConn = (endpoint: Endpoint.Endpoint) =>
  Effect.callback<DenoConn, TransportError>((resume) => {
    let abandoned = false
    const opening =
      endpoint._tag === "Unix"
        ? deno().connect({ transport: "unix", path: endpoint.path })
        : deno().connect({ transport: "tcp", hostname: endpoint.host, port: endpoint.port })
    opening.then(
      (conn) => {
        // Deno.connect cannot be aborted: a connection that arrives after the deadline is closed.
        if (abandoned) conn.close()
        else resume(Effect.succeed(conn))
      },
      (error: Error & { code?: string }) =>
        resume(
          Effect.fail(
            new TransportError({
              reason: "connect-failed",
              message: `cannot connect to ${Endpoint.format(endpoint)}: ${error.message}`,
              ...(typeof error.code === "string" ? { code: error.code } : {}),
              cause: error
            })
          )
        )
    )
    return Effect.sync(() => {
      abandoned = true
    })
  })

/** What `Deno.startTls` can do: verify the chain (and optionally the name) with our CAs, nothing more. */
const nativeCanDo = (endpoint: Endpoint.Endpoint, settings: TlsSettings) =>
  endpoint._tag === "Tcp" &&
  settings.verifyChain &&
  settings.cert === undefined &&
  settings.fingerprints.length === 0 &&
  settings.minVersion === undefined &&
  settings.maxVersion === undefined

const upgradeNatively = (conn: DenoConn, settings: TlsSettings) =>
  Effect.tryPromise({
    try: async () => {
      const tls = await deno().startTls(conn, {
        hostname: settings.identity,
        ...(settings.ca === undefined ? {} : { caCerts: [...settings.ca] }),
        unsafelyDisableHostnameVerification: !settings.verifyHostname
      })
      try {
        await tls.handshake()
      } catch (error) {
        tls.close()
        throw error
      }
      return tls
    },
    catch: fromRuntimeError
  }).pipe(
    Effect.map((tls) => {
      const info: TlsInfo = {
        version: undefined,
        cipher: undefined,
        peerCertificate: undefined,
        verification: verificationOf(settings),
        implementation: "Deno.startTls",
        sessionReused: false
      }
      return { channel: new DenoChannel(tls, true) as Channel, info }
    })
  )

const connect = (endpoint: Endpoint.Endpoint, options: ConnectOptions = {}) =>
  Effect.gen(function* () {
    const settings = yield* Effect.fromResult(resolve(options))
    // Deno offers keepalive on or off only: the delay is the operating system's, also by default.
    if (
      options.keepAlive !== undefined &&
      options.keepAlive !== false &&
      options.keepAlive.initialDelay !== undefined
    ) {
      return yield* invalidOption(
        "keepAlive.initialDelay cannot be honoured on Deno: Deno turns keepalive on or off only; pass keepAlive: {} to keep the operating system's delay, or run on Node or Bun"
      )
    }
    // Deno's reads are promises settled by its own reactor, which no queued turn of JavaScript makes poll.
    if (settings.busyPollMillis !== undefined) {
      return yield* invalidOption(
        "busyPoll cannot be honoured on Deno: a waiting Deno.Conn read is woken by the operating system whatever JavaScript does meanwhile; leave busyPoll out, or run on Node or Bun"
      )
    }
    const started = yield* Clock.currentTimeMillis
    const conn = yield* withDeadline(
      openConn(endpoint),
      Duration.millis(settings.connectMillis),
      "connect",
      `connecting to ${Endpoint.format(endpoint)}`
    )
    if (endpoint._tag === "Tcp") {
      conn.setNoDelay?.(settings.noDelay)
      conn.setKeepAlive?.(settings.keepAlive !== false)
    }
    const limit = settings.readBufferSize
    return makeConnection({
      endpoint,
      channel: new DenoChannel(conn, false),
      settings,
      runtime: "Deno",
      limits: nodeTlsLimits.Deno,
      connectDeadline: started + settings.connectMillis,
      upgrade: (channel, settings): Effect.Effect<{ channel: Channel; info: TlsInfo }, TlsError | TransportError> => {
        const plain = (channel as DenoChannel).conn
        return nativeCanDo(endpoint, settings)
          ? upgradeNatively(plain, settings)
          : Effect.promise(() => import("./DenoNodeTls.ts")).pipe(
              Effect.flatMap(({ upgradeWithNodeTls }) => upgradeWithNodeTls(plain, settings, limit))
            )
      }
    })
  })

export const layer: Layer.Layer<Transport> = Layer.succeed(
  Transport,
  Transport.of({
    connect: (endpoint, options) =>
      Effect.acquireRelease(connect(endpoint, options), (connection: Connection) => connection.close)
  })
)
