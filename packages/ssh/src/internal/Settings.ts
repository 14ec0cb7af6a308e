/**
 * The tunnel's options checked once, when the layer is built: a bad key, a wrong passphrase or a
 * missing credential is an `SshError` there, never a throw from inside ssh2 later.
 */
import { Endpoint } from "@effect-mysql/transport"
import { Duration, Effect, Option, Redacted, Result } from "effect"
import { SshError } from "../SshError.ts"
import type { SshTunnelOptions } from "../SshTunnel.ts"
import { type HostKeyCheck, hostKeyCheck } from "./HostKeyCheck.ts"
import { usableKey } from "./PrivateKey.ts"

export interface Settings {
  readonly server: Endpoint.Endpoint
  /** `host:port`, for messages. */
  readonly label: string
  readonly user: string
  /** The authentication methods the credentials allow, for messages. */
  readonly methods: ReadonlyArray<string>
  /** What ssh2 takes for authentication. */
  readonly credentials: {
    readonly privateKey?: string
    readonly passphrase?: string
    readonly password?: string
    readonly agent?: string
  }
  readonly verifyHostKey: HostKeyCheck
  readonly keepAlive: { readonly intervalMillis: number; readonly countMax: number }
  readonly connectTimeout: Duration.Duration
  readonly connectMillis: number
}

const defaults = {
  port: 22,
  connectTimeout: Duration.seconds(10),
  keepAliveInterval: Duration.seconds(10),
  keepAliveCountMax: 2
}

const redacted = (value: string | Redacted.Redacted<string> | undefined) =>
  value === undefined || Redacted.isRedacted(value) ? value : Redacted.make(value)

const duration = (name: string, input: Duration.Input | undefined, fallback: Duration.Duration) => {
  if (input === undefined) return Result.succeed(fallback)
  const decoded = Option.getOrUndefined(Duration.fromInput(input))
  return decoded === undefined || Duration.isNegative(decoded) || Duration.isZero(decoded)
    ? Result.fail(`${name}: ${String(input)} is not a positive duration (e.g. "10 seconds", or milliseconds)`)
    : Result.succeed(decoded)
}

const keepAliveOf = (options: SshTunnelOptions): Result.Result<Settings["keepAlive"], string> => {
  if (options.keepAlive === false) return Result.succeed({ intervalMillis: 0, countMax: 0 })
  const countMax = options.keepAlive?.countMax ?? defaults.keepAliveCountMax
  // With no unanswered request allowed, ssh2 ends a healthy session at the first interval.
  if (!Number.isSafeInteger(countMax) || countMax < 1) {
    return Result.fail(`keepAlive.countMax: ${String(countMax)} is not a whole number of at least 1`)
  }
  return Result.map(
    duration("keepAlive.interval", options.keepAlive?.interval, defaults.keepAliveInterval),
    (interval) => ({
      intervalMillis: Duration.toMillis(interval),
      countMax
    })
  )
}

const credentialsOf = (options: SshTunnelOptions): Result.Result<Settings["credentials"], string> =>
  Result.gen(function* () {
    const privateKey = redacted(options.privateKey)
    const key = privateKey === undefined ? undefined : yield* usableKey(privateKey, redacted(options.passphrase))
    const password = redacted(options.password)
    if (key === undefined && password === undefined && options.agent === undefined) {
      return yield* Result.fail("no credentials: give privateKey, password or agent")
    }
    return {
      ...(key === undefined ? {} : { privateKey: key.privateKey }),
      ...(key?.passphrase === undefined ? {} : { passphrase: key.passphrase }),
      ...(password === undefined ? {} : { password: Redacted.value(password) }),
      ...(options.agent === undefined ? {} : { agent: options.agent })
    }
  })

export const resolve = (options: SshTunnelOptions): Effect.Effect<Settings, SshError> => {
  const port = options.port ?? defaults.port
  const label = Endpoint.format(Endpoint.tcp(options.host, port))
  const settings = Effect.gen(function* () {
    if (typeof options.host !== "string" || options.host === "") return yield* Effect.fail("host: no SSH server named")
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      return yield* Effect.fail(`port: ${port} is not a TCP port`)
    }
    if (typeof options.user !== "string" || options.user === "") return yield* Effect.fail("user: no SSH user named")
    const credentials = yield* Effect.fromResult(credentialsOf(options))
    const verifyHostKey = yield* hostKeyCheck(options, options.host, port)
    const keepAlive = yield* Effect.fromResult(keepAliveOf(options))
    const connectTimeout = yield* Effect.fromResult(
      duration("connectTimeout", options.connectTimeout, defaults.connectTimeout)
    )
    return {
      server: Endpoint.tcp(options.host, port),
      label,
      user: options.user,
      methods: [
        ...(credentials.agent === undefined ? [] : ["agent"]),
        ...(credentials.privateKey === undefined ? [] : ["publickey"]),
        ...(credentials.password === undefined ? [] : ["password"])
      ],
      credentials,
      verifyHostKey,
      keepAlive,
      connectTimeout,
      connectMillis: Duration.toMillis(connectTimeout)
    }
  })
  return Effect.mapError(
    settings,
    (message) =>
      new SshError({ reason: "invalid-option", message: `SSH tunnel to ${label}: ${message}`, server: label })
  )
}
