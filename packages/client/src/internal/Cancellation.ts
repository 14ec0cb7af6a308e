/**
 * Stopping a command without losing the connection. A command runs in a fiber of its own that is
 * never interrupted between two packets; the caller only waits for it. When the caller is
 * interrupted, or the statement's deadline passes, the server is asked to stop the statement
 * (`KILL QUERY <connection id>` on another connection) and the command's fiber reads what the
 * server still sends — the rest of the rows, or the ERR 1317 of the killed statement — so the
 * connection ends in a known state. When that cannot be made certain in time (the KILL fails, or
 * the server does not answer), the connection is closed instead.
 */
import { Cause, Duration, Effect, Exit, Fiber, Option } from "effect"
import { type MysqlError, StatementTimeoutError } from "../Errors.ts"

export interface CancelPolicy {
  /** Asks the server to stop the running statement; undefined when only closing is allowed. */
  readonly killQuery: Effect.Effect<void, MysqlError> | undefined
  /** How long the KILL and the reading of the rest of the response may take together. */
  readonly cancelTimeout: Duration.Duration
  /** Closes the connection; the command's pending read then fails at once. */
  readonly close: Effect.Effect<void>
}

/**
 * Stops a running command: KILL QUERY, then the rest of its response, within the policy's time.
 * Answers how the command ended; the connection is closed when it did not end in time.
 */
const stop = Effect.fnUntraced(function* <A>(fiber: Fiber.Fiber<A, MysqlError>, policy: CancelPolicy) {
  const ended = fiber.pollUnsafe()
  if (ended !== undefined) return ended
  const drained =
    policy.killQuery === undefined
      ? Option.none<Exit.Exit<A, MysqlError>>()
      : yield* Effect.andThen(Effect.exit(policy.killQuery), (killed) =>
          Exit.isSuccess(killed) ? Fiber.await(fiber) : Effect.never
        ).pipe(Effect.timeoutOption(policy.cancelTimeout))
  if (Option.isSome(drained)) return drained.value
  yield* policy.close
  // A closed connection fails the pending read; the interruption is for a command stuck elsewhere.
  const closed = yield* Fiber.await(fiber).pipe(Effect.timeoutOption("1 second"))
  if (Option.isSome(closed)) return closed.value
  yield* Fiber.interrupt(fiber)
  return yield* Fiber.await(fiber)
})

/**
 * Runs `command` so that neither interruption nor `timeout` cuts it between two packets. On a
 * timeout it fails with a `StatementTimeoutError` whose cause is how the statement ended.
 */
export const runCancellable = <A>(
  command: Effect.Effect<A, MysqlError>,
  policy: CancelPolicy,
  timeout: Duration.Duration | undefined,
  sql: string | undefined
): Effect.Effect<A, MysqlError> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(command, { startImmediately: true })
      const done = fiber.pollUnsafe()
      if (done !== undefined) return yield* done
      const wait = Fiber.await(fiber)
      const waited = yield* restore(
        timeout === undefined ? Effect.asSome(wait) : Effect.timeoutOption(wait, timeout)
      ).pipe(Effect.onInterrupt(() => stop(fiber, policy)))
      if (Option.isSome(waited)) return yield* waited.value
      const ended = yield* stop(fiber, policy)
      const millis = Duration.toMillis(timeout!)
      return yield* new StatementTimeoutError({
        timeoutMillis: millis,
        ...(sql === undefined ? {} : { sql }),
        message: `the statement ran longer than its ${millis} ms timeout and was stopped`,
        cause: Exit.isFailure(ended) ? Cause.squash(ended.cause) : undefined
      })
    })
  )
