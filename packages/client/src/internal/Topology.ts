/**
 * The hosts of a host list as a `MysqlClient` uses them: a pool for each host, a check of each
 * host in the background, and the choice of the host for every borrow.
 *
 * - **Checks.** Each host has a check connection of its own that reads the host's role (the role
 *   query of `targetSessionAttrs`) and, on a replica, its replication lag, every `interval`, each
 *   read bounded by `timeout`. A host whose check fails (refused, reset, silent past the timeout)
 *   is down at once; it is tried again after a backoff (the interval, doubling, at most 5 s), and
 *   rejoins with its first successful check. Between checks the connection is watched, so a server
 *   that closes it (a crash, a restart) is noticed at once, not at the next tick.
 * - **Writes** (and transactions, and every statement outside `withReplicaReads`) go to one host
 *   at a time: the first host in the list's order (or a random one, with `hostOrder: random`)
 *   that is up and meets `targetSessionAttrs`, kept for as long as it stays so. Galera's nodes all
 *   take writes, and writing to one node at a time spares the certification conflicts of
 *   concurrent writes to several; the writer moves only when its host fails.
 * - **Replica reads** go to the least busy replica that is up and within `maxLag`; with
 *   read-your-writes the read first waits, on the replica, until it has applied the last
 *   transaction this client committed, and goes to the writer when the wait times out or no
 *   replica qualifies.
 * - **Failing over.** A borrow whose host fails to give a connection (the pool could not open one)
 *   marks the host down and goes on to the next host. A statement whose connection broke under it
 *   fails as it is (its outcome may be unknown), and wakes the host's check.
 */
import { Endpoint, TimeoutError } from "@effect-mysql/transport"
import { Cause, Clock, Duration, Effect, Exit, Latch, Option, type Scope } from "effect"
import type { ConnectionOptions, ResolvedOptions, TargetSessionAttrs } from "../ConnectionOptions.ts"
import { HostsUnavailableError, type MysqlError, type PoolTimeoutError } from "../Errors.ts"
import * as MysqlConnection from "../MysqlConnection.ts"
import * as MysqlPool from "../MysqlPool.ts"
import { GtidPosition } from "./GtidPosition.ts"
import { type AttemptTarget, isFatal } from "./HostConnect.ts"
import * as HostRole from "./HostRole.ts"

export type HostStatus = "unknown" | "up" | "down"

export interface TopologySettings {
  readonly interval: Duration.Duration
  readonly timeout: Duration.Duration
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
  readonly flavor: "mysql" | "mariadb"
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

const maxRecheckMillis = 5_000

class Host {
  readonly index: number
  readonly label: string
  readonly pool: MysqlPool.MysqlPool
  status: HostStatus = "unknown"
  role: HostRole.Role | undefined = undefined
  galeraProblem: string | undefined = undefined
  lag: number | null | undefined = undefined
  error: MysqlError | undefined = undefined
  since = 0
  /** Borrows running on this host, to send a replica read to the least busy replica. */
  borrowed = 0
  /** What this replica was last seen to have applied of the client's writes. */
  applied: GtidPosition | undefined = undefined
  private resume: (() => void) | undefined = undefined
  private woken = false

  constructor(index: number, label: string, pool: MysqlPool.MysqlPool) {
    this.index = index
    this.label = label
    this.pool = pool
  }

  /** Ends the check's wait now (or the next one, when it is not waiting). */
  wake(): void {
    this.woken = true
    this.resume?.()
  }

  /** Waits `millis`, or until woken. */
  sleep(millis: number): Effect.Effect<void> {
    const woken = Effect.callback<void>((resume) => {
      if (this.woken) return resume(Effect.void)
      this.resume = () => resume(Effect.void)
      return Effect.sync(() => (this.resume = undefined))
    })
    return Effect.ensuring(
      Effect.raceFirst(Effect.sleep(millis), woken),
      Effect.sync(() => {
        this.woken = false
        this.resume = undefined
      })
    )
  }

  serves(target: AttemptTarget): boolean {
    if (this.status !== "up" || this.galeraProblem !== undefined) return false
    return target === "any" || this.role === (target === "read-write" ? "primary" : "replica")
  }
}

/** A borrow's hosts that failed it: none yet. */
const noFailures: ReadonlyMap<Host, MysqlError> = new Map()

/** Columns of SHOW SLAVE STATUS / SHOW REPLICA STATUS that hold the lag. */
const lagColumns = ["Seconds_Behind_Master", "Seconds_Behind_Source"] as const

/** SHOW REPLICA STATUS where the server knows it (MariaDB 10.5, MySQL 8.0.22; MySQL 8.4 knows no other). */
const replicaStatusSql = (info: MysqlConnection.ConnectionInfo): string => {
  const [major = 0, minor = 0, patch = 0] = info.serverVersion.split(/[.-]/).map(Number)
  const version = major * 10_000 + minor * 100 + patch
  const modern = info.flavor === "mariadb" ? version >= 100_500 : version >= 80_022
  return modern ? "SHOW REPLICA STATUS" : "SHOW SLAVE STATUS"
}

const gtidWaitSql = {
  mariadb: "SELECT MASTER_GTID_WAIT(?, ?)",
  mysql: "SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)"
} as const

/** Session tracking that makes the server report each commit's GTID in its OK packet. */
const gtidTrackingSql = {
  mariadb:
    "SET SESSION session_track_system_variables = CONCAT_WS(',', NULLIF(@@session.session_track_system_variables, ''), 'last_gtid')",
  mysql: "SET SESSION session_track_gtids = OWN_GTID"
} as const

/** One host's options: the list narrowed to it, with no target (the topology judges roles). */
const hostOptions = (options: ConnectionOptions, index: number): ConnectionOptions => ({
  ...options,
  hosts: [options.hosts![index]!],
  targetSessionAttrs: "any"
})

/** The check connection's: no timeouts or side connections of its own; the check bounds itself. */
const checkOptions = ({
  compression: _compression,
  statementTimeout: _statementTimeout,
  readTimeout: _readTimeout,
  ...options
}: ConnectionOptions): ConnectionOptions => ({ ...options, stallCheckAfter: false, killQueryOnInterrupt: false })

export const make = Effect.fnUntraced(function* (
  options: ConnectionOptions,
  resolved: ResolvedOptions,
  poolOptions: MysqlPool.PoolOptions,
  settings: TopologySettings
) {
  const clock = yield* Clock.Clock
  const now = () => clock.currentTimeMillisUnsafe()
  const target: TargetSessionAttrs = resolved.targetSessionAttrs
  // What the client's writes have committed, for read-your-writes; its flavor is set by the first check.
  let written: GtidPosition | undefined
  let lastNoted: string | undefined
  const setup: MysqlPool.Setup | undefined = settings.readYourWrites
    ? (connection) => Effect.asVoid(connection.query(gtidTrackingSql[connection.info.flavor]))
    : undefined
  const hosts: Array<Host> = []
  for (let index = 0; index < resolved.hosts.length; index++) {
    const pool = yield* MysqlPool.make(hostOptions(options, index), poolOptions, setup)
    hosts.push(new Host(index, Endpoint.format(resolved.hosts[index]!.endpoint), pool))
  }
  let writer: Host | undefined
  let flavor: "mysql" | "mariadb" | undefined
  let rotation = 0

  const setStatus = (host: Host, status: HostStatus) => {
    if (host.status !== status) host.since = now()
    host.status = status
    if (status !== "up" && writer === host) writer = undefined
  }

  /** The host serves nothing more; borrowers waiting on its pool go on to another host. */
  const markDown = (host: Host, error: MysqlError) =>
    Effect.suspend(() => {
      host.error = error
      setStatus(host, "down")
      return host.pool.failWaiters(error)
    })

  /** One check: the role, and a replica's lag; fails when the host does not answer in time. */
  const check = (host: Host, connection: MysqlConnection.MysqlConnection) => {
    const info = connection.info
    const read = Effect.gen(function* () {
      const result = yield* connection.query<ReadonlyArray<unknown>>(HostRole.roleQuery(info.flavor), {
        rowShape: "array"
      })
      const found = HostRole.report(result.rows[0] ?? [])
      let lag: number | null | undefined
      if (found.role === "replica") {
        const status = yield* connection.query(replicaStatusSql(info))
        const row = status.rows[0]
        const value = row === undefined ? null : lagColumns.map((name) => row[name]).find((v) => v !== undefined)
        lag = value === null || value === undefined ? null : Number(value)
      }
      return { found, lag }
    })
    return Effect.timeoutOrElse(read, {
      duration: settings.timeout,
      orElse: () =>
        Effect.fail(
          new TimeoutError({
            operation: "read",
            timeoutMillis: Duration.toMillis(settings.timeout),
            message: `${host.label} did not answer its host check within ${Duration.format(settings.timeout)}`
          })
        )
    })
  }

  /** Checks a host for as long as its check connection works; fails with why it stopped. */
  const watchHost = (host: Host, onChecked: () => void) =>
    Effect.gen(function* () {
      const connection = yield* MysqlConnection.connect(checkOptions(hostOptions(options, host.index)))
      flavor ??= connection.info.flavor
      written ??= new GtidPosition(connection.info.flavor)
      while (true) {
        const { found, lag } = yield* check(host, connection)
        host.role = found.role
        host.galeraProblem = found.galeraProblem
        host.lag = lag
        host.error = undefined
        setStatus(host, "up")
        onChecked()
        yield* connection.watchWhileIdle(Effect.sync(() => host.wake()))
        yield* host.sleep(Duration.toMillis(settings.interval))
        if (connection.failure !== undefined) return yield* Effect.fail(connection.failure)
      }
    })

  const monitor = (host: Host, onChecked: () => void) =>
    Effect.gen(function* () {
      let failures = 0
      while (true) {
        const exit = yield* Effect.exit(
          Effect.scoped(
            watchHost(host, () => {
              failures = 0
              onChecked()
            })
          )
        )
        if (Exit.isFailure(exit)) {
          const error = Cause.findErrorOption(exit.cause)
          if (Option.isSome(error)) yield* markDown(host, error.value)
        }
        onChecked()
        failures++
        const interval = Duration.toMillis(settings.interval)
        yield* host.sleep(Math.min(interval * 2 ** Math.min(failures - 1, 16), Math.max(interval, maxRecheckMillis)))
      }
    })

  /** The hosts in the order to pick a writer from. */
  const ordered = (): ReadonlyArray<Host> => {
    if (resolved.hostOrder === "sequential") return hosts
    const shuffled = [...hosts]
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
    }
    return shuffled
  }

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

  /** The client's last commit seen on `connection`, for read-your-writes. */
  const noteWrite = (connection: MysqlConnection.MysqlConnection) => {
    const gtid = connection.lastGtid
    if (gtid === undefined || gtid === lastNoted || written === undefined) return
    lastNoted = gtid
    written.add(gtid)
  }

  const afterBorrow = (host: Host, connection: MysqlConnection.MysqlConnection) =>
    Effect.sync(() => {
      host.borrowed--
      noteWrite(connection)
      if (connection.failure !== undefined) host.wake()
    })

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
          host.pool.use((connection) => {
            entered = true
            host.borrowed++
            return Effect.ensuring(f(connection, host), afterBorrow(host, connection))
          }),
          (error) => {
            if (entered || !isHostFailure(error)) return Effect.fail(error)
            host.wake()
            skip.set(host, error as MysqlError)
            return Effect.andThen(markDown(host, error), () => attempt())
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
          Effect.tap((connection) => {
            host.borrowed++
            return Effect.addFinalizer(() => afterBorrow(host, connection))
          }),
          Effect.map((connection) => [connection, host] as const),
          Effect.catch((error) => {
            if (!isHostFailure(error)) return Effect.fail(error)
            host.wake()
            skip.set(host, error as MysqlError)
            return Effect.andThen(markDown(host, error), () => attempt())
          })
        )
      }
      return attempt()
    })

  const writerWanted: AttemptTarget = target === "prefer-replica" ? "read-only" : target

  const usePrimary = <A, E, R>(f: (connection: MysqlConnection.MysqlConnection) => Effect.Effect<A, E, R>) =>
    useOn(pickWriter, writerWanted, f)

  const getPrimary = Effect.map(getOn(pickWriter, writerWanted), ([connection]) => connection)

  /** What a replica read must wait for: undefined when there is nothing to wait for. */
  const required = (): GtidPosition | undefined =>
    settings.readYourWrites && written !== undefined && !written.isEmpty ? written.snapshot() : undefined

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
          if (applied) host.applied = position
          return applied
        }),
        Effect.orElseSucceed(() => false)
      )
  }

  const lagging = Symbol("lagging")

  const useReplica = <A, E, R>(
    f: (connection: MysqlConnection.MysqlConnection) => Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | MysqlError | PoolTimeoutError, R> =>
    Effect.suspend(() => {
      if (pickReplica(noFailures) === undefined) return usePrimary(f)
      const position = required()
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
    Effect.suspend(() => {
      if (pickReplica(noFailures) === undefined) return getPrimary
      const position = required()
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
  for (const host of hosts) yield* Effect.forkScoped(monitor(host, settle))
  yield* ready.await
  if (pickWriter(noFailures) === undefined) return yield* Effect.fail(unavailable(writerWanted))

  return {
    flavor: flavor!,
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
