import { Duration, Effect } from "effect"
import { TimeoutError } from "../TimeoutError.ts"

/** Fails with `TimeoutError` if `effect` has not finished after `timeout`; no timeout (or an infinite one), no deadline. */
export const withDeadline = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  timeout: Duration.Input | undefined,
  operation: TimeoutError["operation"],
  what: string
): Effect.Effect<A, E | TimeoutError, R> => {
  if (timeout === undefined) return effect
  const millis = Duration.toMillis(timeout)
  if (!Number.isFinite(millis)) return effect
  return Effect.timeoutOrElse(effect, {
    duration: timeout,
    orElse: () =>
      Effect.fail(
        new TimeoutError({ operation, timeoutMillis: millis, message: `${what} did not finish within ${millis} ms` })
      )
  })
}
