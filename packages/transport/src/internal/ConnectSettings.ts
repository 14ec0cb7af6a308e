/**
 * `ConnectOptions` checked and turned into numbers before any socket exists, so that a bad value is
 * a typed error at the call and never an exception inside a socket callback.
 */
import { Duration, Option, Result } from "effect"
import type { ConnectOptions } from "../Transport.ts"
import { TransportError } from "../TransportError.ts"

const defaultConnectTimeout = Duration.seconds(10)
const defaultKeepAliveDelay = Duration.seconds(60)
const defaultReadBufferSize = 256 * 1024
/** A reply later than this is the server working, not a wake-up to save: polling on only burns a core. */
const maxBusyPoll = Duration.millis(10)

/** setTimeout turns a longer delay into 1 ms; a deadline this far away is as good as none. */
export const maxTimerMillis = 2 ** 31 - 1

/** The bounds Linux puts on TCP_KEEPIDLE, in seconds; Node rounds the delay down to whole seconds. */
const keepAliveBounds = { min: 1, max: 32767 }

export interface ConnectSettings {
  /** The connect budget in milliseconds; Infinity means none. */
  readonly connectMillis: number
  /** undefined: keepalive with the operating system's delay. */
  readonly keepAlive: false | { readonly initialDelayMillis: number | undefined }
  readonly noDelay: boolean
  /** How long a read polls for a reply after a write; undefined: it sleeps at once. */
  readonly busyPollMillis: number | undefined
  readonly readBufferSize: number
  readonly readTimeout: Duration.Duration | undefined
  readonly writeTimeout: Duration.Duration | undefined
}

export const invalidOption = (message: string) => new TransportError({ reason: "invalid-option", message })

const duration = (name: string, input: unknown): Result.Result<Duration.Duration | undefined, TransportError> => {
  if (input === undefined) return Result.succeed(undefined)
  const decoded = Option.getOrUndefined(Duration.fromInput(input as Duration.Input))
  return decoded === undefined || Duration.isNegative(decoded)
    ? Result.fail(invalidOption(`${name}: ${String(input)} is not a duration (e.g. "30 seconds", or milliseconds)`))
    : Result.succeed(decoded)
}

/** An infinite deadline is no deadline. */
const deadline = (value: Duration.Duration | undefined) =>
  value === undefined || !Duration.isFinite(value) ? undefined : value

const keepAliveOf = (keepAlive: unknown): Result.Result<ConnectSettings["keepAlive"], TransportError> => {
  if (keepAlive === false) return Result.succeed(false)
  if (keepAlive === undefined) return Result.succeed({ initialDelayMillis: Duration.toMillis(defaultKeepAliveDelay) })
  if (typeof keepAlive !== "object" || keepAlive === null) {
    return Result.fail(invalidOption(`keepAlive: ${String(keepAlive)} is neither false nor { initialDelay }`))
  }
  const input = (keepAlive as { readonly initialDelay?: unknown }).initialDelay
  return Result.flatMap(
    duration("keepAlive.initialDelay", input),
    (delay): Result.Result<ConnectSettings["keepAlive"], TransportError> => {
      if (delay === undefined) return Result.succeed({ initialDelayMillis: undefined })
      const seconds = Duration.toSeconds(delay)
      return seconds < keepAliveBounds.min || seconds > keepAliveBounds.max
        ? Result.fail(
            invalidOption(
              `keepAlive.initialDelay: ${Duration.format(delay)} is outside what the operating system accepts (${keepAliveBounds.min} to ${keepAliveBounds.max} seconds)`
            )
          )
        : Result.succeed({ initialDelayMillis: Duration.toMillis(delay) })
    }
  )
}

const busyPollOf = (input: unknown): Result.Result<number | undefined, TransportError> =>
  Result.flatMap(duration("busyPoll", input), (poll) => {
    if (poll === undefined || Duration.isZero(poll)) return Result.succeed(undefined)
    return Duration.isGreaterThan(poll, maxBusyPoll)
      ? Result.fail(
          invalidOption(
            `busyPoll: ${Duration.format(poll)} is longer than ${Duration.format(maxBusyPoll)}: a reply that late is the server's work, not a wake-up to save`
          )
        )
      : Result.succeed(Duration.toMillis(poll))
  })

export const resolve = (options: ConnectOptions): Result.Result<ConnectSettings, TransportError> =>
  Result.gen(function* () {
    const connect = yield* duration("connectTimeout", options.connectTimeout)
    const keepAlive = yield* keepAliveOf(options.keepAlive)
    const readTimeout = yield* duration("readTimeout", options.readTimeout)
    const writeTimeout = yield* duration("writeTimeout", options.writeTimeout)
    const busyPollMillis = yield* busyPollOf(options.busyPoll)
    const size = options.readBufferSize ?? defaultReadBufferSize
    if (!Number.isSafeInteger(size) || size <= 0) {
      return yield* Result.fail(invalidOption(`readBufferSize: ${String(size)} is not a positive number of bytes`))
    }
    return {
      connectMillis: Duration.toMillis(connect ?? defaultConnectTimeout),
      keepAlive,
      noDelay: options.noDelay ?? true,
      busyPollMillis,
      readBufferSize: size,
      readTimeout: deadline(readTimeout),
      writeTimeout: deadline(writeTimeout)
    }
  })
