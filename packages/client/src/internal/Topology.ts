/**
 * The hosts of a host list as a `MysqlClient` uses them: a pool for each host, a check of each
 * host in the background, and the choice of the host for every borrow.
 *
 * - **Checks** keep each host's status, role and lag up to date (`TopologyHost.ts`).
 * - **Writes** (and transactions, and every statement outside `withReplicaReads`) go to one host
 *   at a time: the first host in the list's order (or a random one, with `hostOrder: random`)
 *   that is up and meets `targetSessionAttrs`, kept for as long as it stays so. Galera's nodes all
 *   take writes, and writing to one node at a time spares the certification conflicts of
 *   concurrent writes to several; the writer moves only when its host fails.
 * - **Replica reads** go to the least busy replica that is up and within `maxLag`; with
 *   read-your-writes the read first waits, on the replica, until it has applied the last
 *   transaction this client (or, in a causal scope, the scope) committed, and goes to the writer
 *   when the wait times out or no replica qualifies.
 * - **Failing over.** A borrow whose host fails to give a connection (the pool could not open one)
 *   marks the host down and goes on to the next host; so do the borrows waiting on the pool of a
 *   host found down. A statement whose connection broke under it fails as it is (its outcome may
 *   be unknown), and wakes the host's check.
 */
import { Endpoint, TimeoutError } from "@effect-mysql/transport"
import { Clock, Duration, Effect, type Fiber, Latch, type Scope } from "effect"
import type { ConnectionOptions, ResolvedOptions, TargetSessionAttrs } from "../ConnectionOptions.ts"
import { HostsUnavailableError, type MysqlError, type PoolTimeoutError } from "../Errors.ts"
import type * as MysqlConnection from "../MysqlConnection.ts"
import * as MysqlPool from "../MysqlPool.ts"
import { CausalScope, WriteLog } from "./CausalScope.ts"
import type { GtidPosition } from "./GtidPosition.ts"
import { type AttemptTarget, isFatal } from "./HostConnect.ts"
import { HostList } from "./HostList.ts"
import * as HostRole from "./HostRole.ts"
import { type CheckSettings, Host, type HostStatus } from "./TopologyHost.ts"

export type { HostStatus }

export interface TopologySettings extends CheckSettings {
  /** undefined: no bound. */
  readonly maxLagSeconds: number | undefined
  readonly readYourWrites: boolean
  readonly waitTimeout: Duration.Duration
}

/** What the client's `stats` shows of one host. */
export interface HostStats {
  readonly host: string
  readonly status: HostStatus
  readonly role: HostRole.Role | undefined
  /** Whether this host takes the client's writes now. */
  readonly writer: boolean
  /** Seconds a replica is behind its primary; null when it is not replicating. */
  readonly lagSeconds: number | null | undefined
  /** Why a Galera node cannot serve. */
  readonly galeraProblem: string | undefined
  /** Why the host is down. */
  readonly error: string | undefined
  /** When the status last changed (clock milliseconds). */
  readonly since: number
  readonly pool: MysqlPool.PoolStats
}

export interface Topology {
  readonly usePrimary: <A, E, R>(
    f: (connection: MysqlConnection.MysqlConnection) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | MysqlError | PoolTimeoutError, R>
  readonly getPrimary: Effect.Effect<MysqlConnection.MysqlConnection, MysqlError | PoolTimeoutError, Scope.Scope>
  readonly useReplica: <A, E, R>(
    f: (connection: MysqlConnection.MysqlConnection) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | MysqlError | PoolTimeoutError, R>
  readonly getReplica: Effect.Effect<MysqlConnection.MysqlConnection, MysqlError | PoolTimeoutError, Scope.Scope>
  readonly hosts: Effect.Effect<ReadonlyArray<HostStats>>
}

/** One host's options: the list narrowed to it, with no target (the topology judges roles). */
const hostOptions = (options: ConnectionOptions, index: number): ConnectionOptions => ({
  ...options,
  hosts: [options.hosts![index]!],
  targetSessionAttrs: "any"
})

/** A borrow's hosts that failed it: none yet. */
const noFailures: ReadonlyMap<Host, MysqlError> = new Map()

const gtidWaitSql = {
  mariadb: "SELECT MASTER_GTID_WAIT(?, ?)",
  mysql: "SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)"
} as const

export const make = Effect.fnUntraced(function* (
  options: ConnectionOptions,
  resolved: ResolvedOptions,
  poolOptions: MysqlPool.PoolOptions,
  settings: TopologySettings
) {
  const clock = yield* Clock.Clock
  const now = () => clock.currentTimeMillisUnsafe()
  const target: TargetSessionAttrs = resolved.targetSessionAttrs
  // What the client's writes have committed, for read-your-writes outside a causal scope.
  const written = new WriteLog()
  // Read-your-writes needs each commit's GTID from the writer's connections.
  const tracking = settings.readYourWrites ? { trackGtids: true } : {}
  const hosts: Array<Host> = []
  for (let index = 0; index < resolved.hosts.length; index++) {
    const pool = yield* MysqlPool.make({ ...hostOptions(options, index), ...tracking }, poolOptions)
    hosts.push(new Host(index, Endpoint.format(resolved.hosts[index]!.endpoint), pool))
  }
  let writer: Host | undefined
  let rotation = 0

  // The writer is picked in the list's order, or shuffled for `random`; a host list with no
  // backoff of its own (a down host is not picked at all) gives that order.
  const order = new HostList(hosts.length, resolved.hostOrder)
  const ordered = (): ReadonlyArray<Host> => order.order(0).map((index) => hosts[index]!)

  const writerTargets: ReadonlyArray<AttemptTarget> =
    target === "prefer-replica" ? ["read-only", "read-write"] : [target]

  const servesWrites = (host: Host) => writerTargets.some((t) => host.serves(t))

  const pickWriter = (skip: ReadonlyMap<Host, MysqlError>): Host | undefined => {
    if (writer !== undefined && !skip.has(writer) && servesWrites(writer)) return writer
    for (const t of writerTargets) {
      const found = ordered().find((host) => !skip.has(host) && host.serves(t))
      if (found !== undefined) {
        writer = found
        return found
      }
    }
    return undefined
  }

  const withinLag = (host: Host) =>
    settings.maxLagSeconds === undefined ||
    (typeof host.lag === "number" && !Number.isNaN(host.lag) && host.lag <= settings.maxLagSeconds)

  const pickReplica = (skip: ReadonlyMap<Host, MysqlError>): Host | undefined => {
    let best: Host | undefined
    const start = rotation++
    for (let i = 0; i < hosts.length; i++) {
      const host = hosts[(start + i) % hosts.length]!
      if (skip.has(host) || !host.serves("read-only") || !withinLag(host)) continue
      if (best === undefined || host.borrowed < best.borrowed) best = host
    }
    return best
  }

  /**
   * Why no host serves: each host's reason (what it failed with in this borrow, else what its check
   * found), or the reason every host would give (a refused login).
   */
  const unavailable = (wanted: AttemptTarget, failed: ReadonlyMap<Host, MysqlError> = noFailures): MysqlError => {
    const failures = hosts.map((host) => ({ host: host.label, error: failed.get(host) ?? reasonOf(host, wanted) }))
    const fatal = failures.find(({ error }) => isFatal(error))
    if (fatal !== undefined) return fatal.error
    return new HostsUnavailableError({
      failures,
      message: `no host can serve (${wanted === "any" ? "any role" : wanted}): ${failures.map(({ host, error }) => `${host}: ${error.message}`).join("; ")}`
    })
  }

  const reasonOf = (host: Host, wanted: AttemptTarget): MysqlError => {
    if (host.status !== "up" && host.error !== undefined) return host.error
    if (host.status === "up" && host.role !== undefined) {
      const refused =
        wanted === "any"
          ? undefined
          : HostRole.refusal(
              { role: host.role, galeraProblem: host.galeraProblem },
              wanted,
              resolved.hosts[host.index]!.endpoint
            )
      if (refused !== undefined) return refused
    }
    return new TimeoutError({
      operation: "connect",
      timeoutMillis: Duration.toMillis(resolved.connectTimeout),
      message: `${host.label} has not answered its first host check yet`
    })
  }

  /**
   * Takes `connection` from `host` for the borrower running on `fiber`. What it answers gives the
   * connection back, noting the commit the borrower made on it (if any: the connection's last GTID
   * changed) for the client and for the borrower's causal scope.
   */
  const lend = (host: Host, connection: MysqlConnection.MysqlConnection, fiber: Fiber.Fiber<unknown, unknown>) => {
    host.borrowed++
    const before = connection.lastGtid
    const scope = fiber.getRef(CausalScope)
    return Effect.sync(() => {
      host.borrowed--
      const gtid = connection.lastGtid
      if (gtid !== undefined && gtid !== before) {
        written.note(connection, gtid)
        scope?.note(connection, gtid)
      }
      if (connection.failure !== undefined) host.wake()
    })
  }

  /**
   * Runs `f` on a connection of the host `pick` chooses; a host that cannot give one is marked
   * down and the next one chosen. `f`'s own failures are its own.
   */
  const useOn = <A, E, R>(
    pick: (skip: ReadonlyMap<Host, MysqlError>) => Host | undefined,
    wanted: AttemptTarget,
    f: (connection: MysqlConnection.MysqlConnection, host: Host) => Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | MysqlError | PoolTimeoutError, R> =>
    Effect.suspend(() => {
      const skip = new Map<Host, MysqlError>()
      const attempt = (): Effect.Effect<A, E | MysqlError | PoolTimeoutError, R> => {
        const host = pick(skip)
        if (host === undefined) return Effect.fail(unavailable(wanted, skip))
        let entered = false
        return Effect.catch(
          host.pool.use((connection) =>
            Effect.withFiber((fiber) => {
              entered = true
              return Effect.ensuring(f(connection, host), lend(host, connection, fiber))
            })
          ),
          (error) => {
            if (entered || !isHostFailure(error)) return Effect.fail(error)
            host.wake()
            skip.set(host, error as MysqlError)
            return Effect.andThen(host.markDown(error as MysqlError, now()), () => attempt())
          }
        )
      }
      return attempt()
    })

  const getOn = (
    pick: (skip: ReadonlyMap<Host, MysqlError>) => Host | undefined,
    wanted: AttemptTarget
  ): Effect.Effect<readonly [MysqlConnection.MysqlConnection, Host], MysqlError | PoolTimeoutError, Scope.Scope> =>
    Effect.suspend(() => {
      const skip = new Map<Host, MysqlError>()
      const attempt = (): Effect.Effect<
        readonly [MysqlConnection.MysqlConnection, Host],
        MysqlError | PoolTimeoutError,
        Scope.Scope
      > => {
        const host = pick(skip)
        if (host === undefined) return Effect.fail(unavailable(wanted, skip))
        return host.pool.get.pipe(
          Effect.tap((connection) =>
            Effect.withFiber((fiber) => {
              const giveBack = lend(host, connection, fiber)
              return Effect.addFinalizer(() => giveBack)
            })
          ),
          Effect.map((connection) => [connection, host] as const),
          Effect.catch((error) => {
            if (!isHostFailure(error)) return Effect.fail(error)
            host.wake()
            skip.set(host, error as MysqlError)
            return Effect.andThen(host.markDown(error as MysqlError, now()), () => attempt())
          })
        )
      }
      return attempt()
    })

  const writerWanted: AttemptTarget = target === "prefer-replica" ? "read-only" : target

  const usePrimary = <A, E, R>(f: (connection: MysqlConnection.MysqlConnection) => Effect.Effect<A, E, R>) =>
    useOn(pickWriter, writerWanted, f)

  const getPrimary = Effect.map(getOn(pickWriter, writerWanted), ([connection]) => connection)

  /** What a replica read on `fiber` must wait for: undefined when there is nothing to wait for. */
  const required = (fiber: Fiber.Fiber<unknown, unknown>): GtidPosition | undefined =>
    settings.readYourWrites ? (fiber.getRef(CausalScope) ?? written).required() : undefined

  /** Whether `host` has applied `position`, waiting on `connection` for at most `waitTimeout`. */
  const caughtUp = (host: Host, connection: MysqlConnection.MysqlConnection, position: GtidPosition) => {
    if (host.applied !== undefined && position.coveredBy(host.applied)) return Effect.succeed(true)
    const seconds = Duration.toMillis(settings.waitTimeout) / 1000
    return connection
      .execute<ReadonlyArray<unknown>>(gtidWaitSql[connection.info.flavor], [position.toString(), seconds], {
        rowShape: "array",
        timeout: Duration.sum(settings.waitTimeout, settings.timeout)
      })
      .pipe(
        Effect.map((result) => {
          // MASTER_GTID_WAIT answers 0 when applied and -1 on timeout; WAIT_FOR_EXECUTED_GTID_SET 0 and 1.
          const applied = Number(result.rows[0]?.[0]) === 0
          // A scope's position may be behind what the host was already seen to have.
          if (applied && (host.applied === undefined || host.applied.coveredBy(position))) host.applied = position
          return applied
        }),
        Effect.orElseSucceed(() => false)
      )
  }

  const lagging = Symbol("lagging")

  const useReplica = <A, E, R>(
    f: (connection: MysqlConnection.MysqlConnection) => Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | MysqlError | PoolTimeoutError, R> =>
    Effect.withFiber((fiber) => {
      if (pickReplica(noFailures) === undefined) return usePrimary(f)
      const position = required(fiber)
      const onReplica = useOn(
        pickReplica,
        "read-only",
        (connection, host): Effect.Effect<A | typeof lagging, E, R> =>
          position === undefined
            ? f(connection)
            : Effect.flatMap(
                caughtUp(host, connection, position),
                (applied): Effect.Effect<A | typeof lagging, E, R> =>
                  applied ? f(connection) : Effect.succeed(lagging)
              )
      )
      // No replica gave a connection: the writer serves the read.
      const orWriter = Effect.catchIf(
        onReplica,
        (error) => (error as { _tag?: unknown })._tag === "HostsUnavailableError",
        () => usePrimary(f)
      )
      return Effect.flatMap(orWriter, (result) => (result === lagging ? usePrimary(f) : Effect.succeed(result as A)))
    })

  const getReplica: Effect.Effect<MysqlConnection.MysqlConnection, MysqlError | PoolTimeoutError, Scope.Scope> =
    Effect.withFiber((fiber) => {
      if (pickReplica(noFailures) === undefined) return getPrimary
      const position = required(fiber)
      return Effect.flatMap(getOn(pickReplica, "read-only"), ([connection, host]) =>
        position === undefined
          ? Effect.succeed(connection)
          : Effect.flatMap(caughtUp(host, connection, position), (applied) =>
              applied ? Effect.succeed(connection) : getPrimary
            )
      )
    })

  // The writer is chosen again here, as the next statement would: a check may have just turned it away.
  const hostStats = Effect.suspend(() => {
    const current = pickWriter(noFailures)
    return Effect.forEach(hosts, (host) => statsOf(host, host === current))
  })

  const statsOf = (host: Host, isWriter: boolean) =>
    Effect.map(
      host.pool.stats,
      (pool): HostStats => ({
        host: host.label,
        status: host.status,
        role: host.role,
        writer: isWriter,
        lagSeconds: host.lag,
        galeraProblem: host.galeraProblem,
        error: host.status === "up" ? undefined : host.error?.message,
        since: host.since,
        pool
      })
    )

  // Ready when the host that should take the writes is known: in list order, the first that
  // serves them once every host before it has been checked; in random order, any. Or when every
  // host has been checked once, whatever they answered.
  const ready = yield* Latch.make()
  const settled = () => {
    if (resolved.hostOrder === "random" && hosts.some(servesWrites)) return true
    for (const host of hosts) {
      if (host.status === "unknown") return false
      if (servesWrites(host)) return true
    }
    return true
  }
  const settle = () => {
    if (settled()) ready.openUnsafe()
  }
  for (const host of hosts) yield* Effect.forkScoped(host.check(hostOptions(options, host.index), settings, settle))
  yield* ready.await
  if (pickWriter(noFailures) === undefined) return yield* Effect.fail(unavailable(writerWanted))

  return {
    usePrimary,
    getPrimary,
    useReplica,
    getReplica,
    hosts: hostStats
  } satisfies Topology
})

/** A borrow's failure that says the host could not give a connection, not that borrowing is wrong. */
const isHostFailure = (error: unknown): error is MysqlError =>
  typeof error === "object" &&
  error !== null &&
  "_tag" in error &&
  error._tag !== "PoolTimeoutError" &&
  !isFatal(error as MysqlError)
