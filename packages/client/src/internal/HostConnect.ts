/**
 * Connecting to the first host of a host list that takes the connection and meets the target.
 *
 * Hosts are tried one after another in the `HostList`'s order, each with the full
 * `connectTimeout` (as libpq does). A host that fails (refused, timed out, TLS, a server error
 * such as too many connections, the wrong role) backs off in the list and the next one is tried.
 * What would fail the same way on every host stops the connect at once: a refused login (the same
 * account everywhere), options that cannot work, TLS material that cannot be loaded.
 *
 * `prefer-replica` is two passes, as libpq's `prefer-standby`: the read-only hosts first, then,
 * when none took the connection, the hosts that were turned away only for taking writes.
 */
import { Endpoint } from "@effect-mysql/transport"
import { Clock, Effect, Result } from "effect"
import type { ResolvedHost, ResolvedOptions } from "../ConnectionOptions.ts"
import { HostsUnavailableError, type MysqlError } from "../Errors.ts"
import type { HostList } from "./HostList.ts"

/** What one attempt is asked for: `prefer-replica` becomes two passes of the other targets. */
export type AttemptTarget = "any" | "read-write" | "read-only"

interface Attempted {
  readonly index: number
  readonly error: MysqlError
}

/** An error every host would answer the same: trying another is pointless. */
export const isFatal = (error: MysqlError): boolean =>
  error._tag === "AuthenticationError" || error._tag === "ConfigError" || error._tag === "SslConfigError"

/** One pass over the hosts `candidates` allows: the first success, or every host's failure. */
const pass = <A, R>(
  options: ResolvedOptions,
  list: HostList,
  attempt: (host: ResolvedHost) => Effect.Effect<A, MysqlError, R>,
  candidates: (index: number) => boolean
): Effect.Effect<Result.Result<A, ReadonlyArray<Attempted>>, MysqlError, R> =>
  Effect.gen(function* () {
    const clock = yield* Clock.Clock
    const failures: Array<Attempted> = []
    for (const index of list.order(clock.currentTimeMillisUnsafe())) {
      if (!candidates(index)) continue
      const outcome = yield* Effect.result(attempt(options.hosts[index]!))
      if (Result.isSuccess(outcome)) {
        list.succeeded(index)
        return Result.succeed(outcome.success)
      }
      if (isFatal(outcome.failure)) return yield* Effect.fail(outcome.failure)
      list.failed(index, clock.currentTimeMillisUnsafe())
      failures.push({ index, error: outcome.failure })
    }
    return Result.fail(failures)
  })

/** The error of a connect no host took: a lone host's own error, else every host's. */
const exhausted = (options: ResolvedOptions, failures: ReadonlyArray<Attempted>): MysqlError => {
  if (options.hosts.length === 1 && failures.length === 1) return failures[0]!.error
  const described = failures.map(({ index, error }) => ({
    host: Endpoint.format(options.hosts[index]!.endpoint),
    error
  }))
  return new HostsUnavailableError({
    failures: described,
    message: `no host took the connection: ${described.map(({ host, error }) => `${host}: ${error.message}`).join("; ")}`
  })
}

/** The first host, in the list's order, that takes the connection and meets the target. */
export const connectFirst = <A, R>(
  options: ResolvedOptions,
  list: HostList,
  attempt: (host: ResolvedHost, target: AttemptTarget) => Effect.Effect<A, MysqlError, R>
): Effect.Effect<A, MysqlError, R> =>
  Effect.gen(function* () {
    const target = options.targetSessionAttrs
    const all = () => true
    const first = yield* pass(
      options,
      list,
      (host) => attempt(host, target === "prefer-replica" ? "read-only" : target),
      all
    )
    if (Result.isSuccess(first)) return first.success
    const writable = new Set(
      first.failure.flatMap(({ index, error }) =>
        error._tag === "HostRoleError" && error.reason === "read-write" ? [index] : []
      )
    )
    if (target !== "prefer-replica" || writable.size === 0) return yield* Effect.fail(exhausted(options, first.failure))
    const second = yield* pass(
      options,
      list,
      (host) => attempt(host, "read-write"),
      (index) => writable.has(index)
    )
    if (Result.isSuccess(second)) return second.success
    const retried = new Set(second.failure.map(({ index }) => index))
    const failures = [...first.failure.filter(({ index }) => !retried.has(index)), ...second.failure]
    return yield* Effect.fail(exhausted(options, failures))
  })
