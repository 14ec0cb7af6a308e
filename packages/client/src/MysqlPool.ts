/**
 * A pool of connections on `effect/Pool`. Connections are opened as borrowers need them, up to
 * `maxConnections`, and kept down to `minConnections` when idle. Around the pool's own bookkeeping
 * it keeps every connection trustworthy:
 *
 * - an idle connection is watched: when the server closes it (restart, KILL, idle timeout) it
 *   leaves the pool at once, and the pool opens connections again up to `minConnections`, retrying
 *   until the server is back;
 * - a connection idle longer than `validateAfter` is pinged (COM_PING) before it is handed out;
 * - a broken connection (network failure, read deadline, a statement that could not be stopped
 *   cleanly) is invalidated when it comes back, and the pool opens another;
 * - a connection older than `maxLifetime` is retired instead of handed out or taken back;
 * - idle connections are pinged every `heartbeatInterval`, so a connection that a firewall dropped
 *   silently is found and replaced before a borrower gets it;
 * - a connection returned inside a transaction, or always with `resetOnRelease`, is reset
 *   (COM_RESET_CONNECTION) before anyone else gets it;
 * - closing the pool's scope waits for borrowed connections to come back, then closes them all.
 */
import type { Transport } from "@effect-mysql/transport"
import { Clock, Deferred, Duration, Effect, Exit, Pool, Result, Schedule, Scope, type Tracer } from "effect"
import { type ConnectionOptions, resolve, timerDuration } from "./ConnectionOptions.ts"
import { ConfigError, type MysqlError, PoolTimeoutError } from "./Errors.ts"
import { decodeOptions, PoolOptionsSchema } from "./internal/OptionsSchema.ts"
import * as PoolMetrics from "./internal/PoolMetrics.ts"
import * as MysqlConnection from "./MysqlConnection.ts"

export interface PoolOptions {
  /** Connections kept open even when idle; default 0. */
  readonly minConnections?: number
  /** Most connections open at once; default 10. */
  readonly maxConnections?: number
  /** Longest wait for a connection before failing with a `PoolTimeoutError`; default 30 seconds. */
  readonly acquireTimeout?: Duration.Input
  /** A connection idle this long is closed, down to `minConnections`; default 60 seconds. */
  readonly idleTimeout?: Duration.Input
  /** A connection older than this is closed instead of reused; default none. */
  readonly maxLifetime?: Duration.Input
  /** A connection idle longer than this is pinged before it is handed out; default 30 seconds. */
  readonly validateAfter?: Duration.Input
  /** How long the validation and heartbeat pings may take; default 5 seconds. */
  readonly validationTimeout?: Duration.Input
  /** How often idle connections are pinged, or `false`; default 30 seconds. */
  readonly heartbeatInterval?: Duration.Input | false
  /** COM_RESET_CONNECTION on every return (session variables, temporary tables dropped); default false. */
  readonly resetOnRelease?: boolean
}

export interface PoolStats {
  /** Connections open (idle and borrowed). */
  readonly size: number
  readonly idle: number
  readonly borrowed: number
  /** Borrowers waiting for a connection. */
  readonly waiting: number
  readonly min: number
  readonly max: number
  /** Connections opened and closed since the pool started. */
  readonly opened: number
  readonly closed: number
}

export interface MysqlPool {
  /** A connection for the life of the scope, checked as the options say. */
  readonly get: Effect.Effect<MysqlConnection.MysqlConnection, MysqlError | PoolTimeoutError, Scope.Scope>
  /**
   * Runs `f` with a connection, given back when `f` ends. A free idle connection that needs no
   * check is lent at once, without the scope and timer of `get`.
   */
  readonly use: <A, E, R>(
    f: (connection: MysqlConnection.MysqlConnection) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | MysqlError | PoolTimeoutError, R>
  readonly stats: Effect.Effect<PoolStats>
  /**
   * Fails the borrowers waiting for a connection now with `error`, instead of letting them wait
   * on a server that stopped answering (its connections all stuck); later borrowers wait as usual.
   */
  readonly failWaiters: (error: MysqlError) => Effect.Effect<void>
}

interface ResolvedPoolOptions {
  readonly min: number
  readonly max: number
  readonly acquireTimeout: Duration.Duration
  readonly idleTimeout: Duration.Duration
  readonly maxLifetime: number | undefined
  readonly validateAfter: number
  readonly validationTimeout: Duration.Duration
  readonly heartbeatInterval: Duration.Duration | undefined
  readonly resetOnRelease: boolean
}

const durationOption = (
  name: keyof PoolOptions,
  input: Duration.Input | undefined,
  fallback: Duration.Input
): Duration.Duration | ConfigError => Result.merge(timerDuration(name, input ?? fallback))

/** Checks the pool options; a refusal names the option. */
export const resolvePoolOptions = (options: PoolOptions): ResolvedPoolOptions | ConfigError => {
  const decoded = decodeOptions(PoolOptionsSchema, options)
  if (Result.isFailure(decoded)) return decoded.failure
  const min = options.minConnections ?? 0
  const max = options.maxConnections ?? 10
  if (!Number.isInteger(max) || max < 1)
    return new ConfigError({ option: "maxConnections", message: "maxConnections: must be an integer ≥ 1" })
  if (!Number.isInteger(min) || min < 0 || min > max)
    return new ConfigError({
      option: "minConnections",
      message: `minConnections: must be an integer from 0 to maxConnections (${max})`
    })
  const acquireTimeout = durationOption("acquireTimeout", options.acquireTimeout, "30 seconds")
  const idleTimeout = durationOption("idleTimeout", options.idleTimeout, "60 seconds")
  const validateAfter = durationOption("validateAfter", options.validateAfter, "30 seconds")
  const validationTimeout = durationOption("validationTimeout", options.validationTimeout, "5 seconds")
  const maxLifetime =
    options.maxLifetime === undefined ? undefined : durationOption("maxLifetime", options.maxLifetime, 0)
  const heartbeat =
    options.heartbeatInterval === false
      ? undefined
      : durationOption("heartbeatInterval", options.heartbeatInterval, "30 seconds")
  for (const checked of [acquireTimeout, idleTimeout, validateAfter, validationTimeout, maxLifetime, heartbeat]) {
    if (checked instanceof ConfigError) return checked
  }
  return {
    min,
    max,
    acquireTimeout: acquireTimeout as Duration.Duration,
    idleTimeout: idleTimeout as Duration.Duration,
    maxLifetime: maxLifetime === undefined ? undefined : Duration.toMillis(maxLifetime as Duration.Duration),
    validateAfter: Duration.toMillis(validateAfter as Duration.Duration),
    validationTimeout: validationTimeout as Duration.Duration,
    heartbeatInterval: heartbeat as Duration.Duration | undefined,
    resetOnRelease: options.resetOnRelease ?? false
  }
}

/** One pooled connection and what the pool knows of it. */
interface Member {
  readonly connection: MysqlConnection.MysqlConnection
  readonly openedAt: number
  /** When it last came back (or was opened). */
  idleSince: number
  borrowed: boolean
}

/** Opens a pool for the life of the scope. */
export const make: (
  connectionOptions: ConnectionOptions,
  poolOptions?: PoolOptions
) => Effect.Effect<MysqlPool, ConfigError, Scope.Scope | Transport> = Effect.fn("MysqlPool.make")(function* (
  connectionOptions: ConnectionOptions,
  poolOptions: PoolOptions = {}
): Effect.fn.Return<MysqlPool, ConfigError, Scope.Scope | Transport> {
  const options = resolvePoolOptions(poolOptions)
  if (options instanceof ConfigError) return yield* options
  const resolved = resolve(connectionOptions)
  if (Result.isFailure(resolved)) return yield* resolved.failure
  // One backoff state for the pool: a host that failed one connect is tried last by the next.
  const hosts = MysqlConnection.hostList(resolved.success)
  const clock = yield* Clock.Clock
  const now = () => clock.currentTimeMillisUnsafe()
  const members = new Set<Member>()
  const scope = yield* Effect.scope
  let opened = 0
  let closed = 0
  // Borrowers inside `get` that have no connection yet (the pool's own count leaves out a borrower
  // whose wait just ended, which is the one a PoolTimeoutError is about).
  let waiting = 0
  const metrics = PoolMetrics.make(
    yield* Effect.context<never>(),
    PoolMetrics.poolName(resolved.success.endpoint, resolved.success.database),
    resolved.success.endpoint,
    {
      idle: () => members.size - borrowedCount(),
      used: borrowedCount,
      pending: () => waiting,
      opened: () => opened,
      closed: () => closed,
      min: options.min,
      max: options.max
    }
  )
  yield* Effect.addFinalizer(() => Effect.sync(metrics.remove))
  const name = metrics.name

  /**
   * The `MysqlPool.acquire` spans of borrowers waiting without a connection opened for them yet.
   * effect's Pool opens connections in a fiber of its own, so the span of a connect opened while
   * someone waits is made a child of the oldest waiter's: the trace shows what the wait was for.
   */
  const waitingSpans = new Set<Tracer.AnySpan>()

  const open = Effect.gen(function* () {
    const started = now()
    const waiter = waitingSpans.values().next().value
    if (waiter !== undefined) waitingSpans.delete(waiter)
    const connect = MysqlConnection.connect(connectionOptions, hosts)
    const connection = yield* (waiter === undefined ? connect : Effect.withParentSpan(connect, waiter)).pipe(
      Effect.tapError(() => Effect.sync(metrics.openFailed))
    )
    const member: Member = { connection, openedAt: now(), idleSince: now(), borrowed: false }
    metrics.connectionOpened((member.openedAt - started) / 1000)
    opened++
    members.add(member)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed++
        members.delete(member)
      })
    )
    yield* watch(member)
    return member
  })

  /** Watches an idle connection; one the server closes leaves the pool at once. */
  const watch = (member: Member): Effect.Effect<void> =>
    member.connection.watchWhileIdle(Effect.suspend(() => drop(member)))

  /** Takes a connection out of the pool, and brings the pool back to its minimum. */
  const drop = (member: Member): Effect.Effect<void> =>
    Effect.andThen(logDrop(member), Effect.andThen(Pool.invalidate(pool, member), refill))

  /** A failed connection is worth a warning; one retired for its age or a failed check, a debug line. */
  const logDrop = (member: Member): Effect.Effect<void> => {
    const failure = member.connection.failure
    const line =
      failure === undefined
        ? Effect.logDebug("the pool closes a connection: past maxLifetime, or a ping or reset failed")
        : Effect.logWarning(`the pool replaces a failed connection (${failure._tag}): ${failure.message}`)
    return Effect.annotateLogs(line, {
      "db.client.connection.pool.name": name,
      "db.client.connection.id": member.connection.info.connectionId
    })
  }

  function borrowedCount(): number {
    let count = 0
    for (const member of members) if (member.borrowed) count++
    return count
  }

  /** Connections open and not failed (a failed one may wait for its borrower to leave the pool). */
  const healthy = (): number => {
    let count = 0
    for (const member of members) if (member.connection.failure === undefined) count++
    return count
  }

  /**
   * Opens connections up to `minConnections` after some were lost, retrying while the server is
   * away. The pool opens connections only for borrowers, so this borrows the minimum all at once:
   * each borrow that finds no open connection opens one.
   */
  let refilling = false
  const refill: Effect.Effect<void> = Effect.suspend(() => {
    if (refilling || options.min === 0) return Effect.void
    refilling = true
    const borrowAll = Effect.suspend(() =>
      healthy() >= options.min
        ? Effect.void
        : Effect.scoped(
            Effect.all(
              Array.from({ length: options.min }, () => Pool.get(pool)),
              { concurrency: "unbounded" }
            )
          )
    )
    const untilFull = Effect.flatMap(borrowAll, () =>
      healthy() >= options.min ? Effect.void : Effect.fail("below minConnections" as const)
    )
    return untilFull.pipe(
      // Quick at first (a restart takes seconds), then every few seconds while the server stays away.
      Effect.retry(Schedule.min([Schedule.exponential("100 millis"), Schedule.spaced("5 seconds")])),
      Effect.ignore,
      Effect.ensuring(Effect.sync(() => (refilling = false))),
      Effect.forkIn(scope),
      Effect.asVoid
    )
  })

  const pool = yield* Pool.makeWithTTL({
    acquire: open,
    min: options.min,
    max: options.max,
    timeToLive: options.idleTimeout,
    timeToLiveStrategy: "usage"
  })

  const tooOld = (member: Member) => options.maxLifetime !== undefined && now() - member.openedAt >= options.maxLifetime

  /** Whether a connection should be handed out, pinging it if it sat idle for long. */
  const usable = (member: Member): Effect.Effect<boolean> => {
    // Its watch stops with the borrower's first command, or with the ping here.
    if (member.connection.failure !== undefined || tooOld(member)) return Effect.succeed(false)
    if (now() - member.idleSince < options.validateAfter) return Effect.succeed(true)
    return Effect.map(Effect.exit(member.connection.pingWithin(options.validationTimeout)), Exit.isSuccess)
  }

  /** Taking a connection back: broken or old ones leave, ones with session state are reset. */
  const takeBack = (member: Member): Effect.Effect<void> =>
    Effect.gen(function* () {
      member.borrowed = false
      member.idleSince = now()
      const connection = member.connection
      let keep = connection.failure === undefined && !tooOld(member)
      if (keep && (options.resetOnRelease || connection.inTransaction)) {
        keep = Exit.isSuccess(yield* Effect.exit(connection.resetConnection))
      }
      if (!keep) return yield* drop(member)
      yield* watch(member)
    })

  const timedOut = Effect.suspend(() =>
    Effect.flatMap(Pool.stats(pool), (stats) =>
      Effect.fail(
        new PoolTimeoutError({
          timeoutMillis: Duration.toMillis(options.acquireTimeout),
          size: stats.idle + stats.used,
          borrowed: stats.used,
          waiting,
          message: `no connection became free within ${Duration.format(options.acquireTimeout)} (${stats.used} of ${stats.max} borrowed, ${waiting} waiting): raise maxConnections or acquireTimeout, or hold connections for shorter`
        })
      )
    )
  )

  // What borrowers waiting now are failed with, by `failWaiters`; a new one for later borrowers.
  let abandoned = Deferred.makeUnsafe<never, MysqlError>()
  const failWaiters = (error: MysqlError) =>
    Effect.sync(() => {
      const waiters = abandoned
      abandoned = Deferred.makeUnsafe()
      Deferred.doneUnsafe(waiters, Effect.fail(error))
    })

  // Every attempt either hands out a connection or invalidates one, and the pool opens at most
  // `max` at a time, so a handful of attempts covers a pool whose connections all went bad at once.
  const attempts = options.max + 2

  const borrow: Effect.Effect<MysqlConnection.MysqlConnection, MysqlError | PoolTimeoutError, Scope.Scope> = Effect.gen(
    function* () {
      const outer = yield* Effect.scope
      const deadline = now() + Duration.toMillis(options.acquireTimeout)
      const given = Deferred.await(abandoned)
      for (let attempt = 0; attempt < attempts; attempt++) {
        const lease = yield* Scope.fork(outer)
        const member = yield* Effect.raceFirst(Scope.provide(Pool.get(pool), lease), given).pipe(
          Effect.timeoutOrElse({ duration: Math.max(0, deadline - now()), orElse: () => timedOut }),
          Effect.onError((cause) => Scope.close(lease, Exit.failCause(cause)))
        )
        if (yield* usable(member)) {
          member.borrowed = true
          yield* Scope.addFinalizer(lease, takeBack(member))
          return member.connection
        }
        yield* drop(member)
        yield* Scope.close(lease, Exit.void)
      }
      return yield* timedOut
    }
  )

  /** A borrow that may wait, open or check a connection: the slow path, so it has a span and a metric. */
  const waitedBorrow = Effect.suspend(() => {
    waiting++
    const started = now()
    let span: Tracer.AnySpan | undefined
    return Effect.withFiber((fiber) => {
      span = fiber.cache.span
      if (span !== undefined) waitingSpans.add(span)
      return borrow
    }).pipe(
      Effect.tapErrorTag("PoolTimeoutError", () => Effect.sync(metrics.timedOut)),
      Effect.ensuring(
        Effect.sync(() => {
          waiting--
          if (span !== undefined) waitingSpans.delete(span)
          metrics.waited((now() - started) / 1000)
        })
      ),
      Effect.withSpan(
        "MysqlPool.acquire",
        { attributes: { "db.client.connection.pool.name": name } },
        { captureStackTrace: false }
      )
    )
  })

  /** Whether `member` may be handed out as it is: not failed, not too old, idle too briefly to need a ping. */
  const ready = (member: Member): boolean =>
    member.connection.failure === undefined && !tooOld(member) && now() - member.idleSince < options.validateAfter

  /**
   * Whether the pool would hand out a ready idle connection at once: no borrower waits before us,
   * and the pool's next free connection (the one `Pool.get` takes) needs no check.
   */
  const readyIdle = (): boolean => {
    const state = pool.state
    const next = state.availableHead
    return state.waiters.size === 0 && next !== undefined && Exit.isSuccess(next.exit) && ready(next.exit.value)
  }

  /** The ready idle connection, taken back when the scope closes; a borrow with checks should it have changed. */
  const getIdle: Effect.Effect<MysqlConnection.MysqlConnection, MysqlError | PoolTimeoutError, Scope.Scope> =
    Effect.flatMap(Pool.get(pool), (member) => {
      if (!ready(member)) return Effect.andThen(drop(member), waitedBorrow)
      return Effect.flatMap(Effect.scope, (scope) => {
        member.borrowed = true
        return Effect.as(Scope.addFinalizer(scope, takeBack(member)), member.connection)
      })
    })

  const get = Effect.suspend(() => (readyIdle() ? getIdle : waitedBorrow))

  const use = <A, E, R>(
    f: (connection: MysqlConnection.MysqlConnection) => Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | MysqlError | PoolTimeoutError, R> =>
    Effect.suspend(() => {
      const withGet = Effect.scoped(Effect.flatMap(waitedBorrow, f))
      if (!readyIdle()) return withGet
      return Pool.use(pool, (member) => {
        if (!ready(member)) return Effect.andThen(drop(member), withGet)
        return Effect.onExit(
          Effect.suspend(() => {
            member.borrowed = true
            return f(member.connection)
          }),
          () => takeBack(member)
        )
      })
    })

  /** Pings connections idle for a heartbeat interval; a silent one is replaced. */
  const heartbeat = (interval: Duration.Duration) =>
    Effect.suspend(() => {
      const due = Array.from(members).filter(
        (member) => !member.borrowed && now() - member.idleSince >= Duration.toMillis(interval)
      )
      return Effect.forEach(
        due,
        (member) =>
          Effect.gen(function* () {
            if (tooOld(member)) return yield* drop(member)
            const pinged = yield* Effect.exit(member.connection.pingWithin(options.validationTimeout))
            if (Exit.isFailure(pinged)) return yield* drop(member)
            // A borrower may have taken it during the ping; its commands keep the watch off.
            if (!member.borrowed) yield* watch(member)
          }),
        { concurrency: "unbounded", discard: true }
      )
    })

  if (options.heartbeatInterval !== undefined) {
    const interval = options.heartbeatInterval
    yield* Effect.forkScoped(Effect.repeat(heartbeat(interval), Schedule.spaced(interval)))
  }

  const stats = Effect.map(
    Pool.stats(pool),
    (stats): PoolStats => ({
      size: stats.idle + stats.used,
      idle: stats.idle,
      borrowed: stats.used,
      waiting,
      min: stats.min,
      max: stats.max,
      opened,
      closed
    })
  )

  return { get, use, stats, failWaiters }
})
