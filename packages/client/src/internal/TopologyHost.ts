/**
 * One host of a `MysqlClient`'s host list: its pool, what its checks found, and the check that
 * keeps that up to date.
 *
 * The check has a connection of its own to the host. Every interval it reads the host's role (the
 * role query of `targetSessionAttrs`) and, on a replica, its lag (`SHOW REPLICA STATUS`), each
 * check bounded by the check timeout. A check that fails (refused, reset, silent past the timeout)
 * marks the host down at once; the host is tried again after a backoff (the interval, doubling, at
 * most 5 s) and is up again with its first good check. Between checks the connection is watched,
 * so a server that closes it (a crash, a restart) wakes the check at once.
 */
import { TimeoutError, type Transport } from "@effect-mysql/transport"
import { Cause, Clock, Duration, Effect, Exit, Option } from "effect"
import type { ConnectionOptions } from "../ConnectionOptions.ts"
import type { MysqlError } from "../Errors.ts"
import * as MysqlConnection from "../MysqlConnection.ts"
import type * as MysqlPool from "../MysqlPool.ts"
import type { GtidPosition } from "./GtidPosition.ts"
import type { AttemptTarget } from "./HostConnect.ts"
import * as HostRole from "./HostRole.ts"

export type HostStatus = "unknown" | "up" | "down"

export interface CheckSettings {
  readonly interval: Duration.Duration
  readonly timeout: Duration.Duration
}

const maxRecheckMillis = 5_000

export class Host {
  readonly index: number
  readonly label: string
  readonly pool: MysqlPool.MysqlPool
  status: HostStatus = "unknown"
  role: HostRole.Role | undefined = undefined
  galeraProblem: string | undefined = undefined
  /** Seconds a replica is behind; null when it is not replicating. */
  lag: number | null | undefined = undefined
  error: MysqlError | undefined = undefined
  /** When the status last changed (clock milliseconds). */
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

  serves(target: AttemptTarget): boolean {
    if (this.status !== "up" || this.galeraProblem !== undefined) return false
    return target === "any" || this.role === (target === "read-write" ? "primary" : "replica")
  }

  /** The host serves nothing more; the borrowers waiting on its pool go on to another host. */
  markDown(error: MysqlError, now: number): Effect.Effect<void> {
    const was = this.status
    this.error = error
    this.setStatus("down", now)
    const failed = this.pool.failWaiters(error)
    if (was === "down") return failed
    return Effect.andThen(this.log(`host ${this.label} is down (${error._tag}): ${error.message}`), failed)
  }

  private markUp(found: HostRole.RoleReport, lag: number | null | undefined, now: number): Effect.Effect<void> {
    const was = this.status
    this.role = found.role
    this.galeraProblem = found.galeraProblem
    this.lag = lag
    this.error = undefined
    this.setStatus("up", now)
    return was === "down" ? this.log(`host ${this.label} is up again, as ${found.role}`) : Effect.void
  }

  private log(message: string): Effect.Effect<void> {
    return Effect.annotateLogs(Effect.logWarning(message), { server: this.label })
  }

  private setStatus(status: HostStatus, now: number): void {
    if (this.status !== status) this.since = now
    this.status = status
  }

  /** Ends the check's wait now (or the next one, when it is not waiting). */
  wake(): void {
    this.woken = true
    this.resume?.()
  }

  /** Waits `millis`, or until woken. */
  private sleep(millis: number): Effect.Effect<void> {
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

  /**
   * Checks the host for as long as the scope lasts; `onChecked` runs after every check, good or
   * not. `options` are the client's connection options narrowed to this host.
   */
  check(
    options: ConnectionOptions,
    settings: CheckSettings,
    onChecked: () => void
  ): Effect.Effect<never, never, Transport> {
    const host = this
    const interval = Duration.toMillis(settings.interval)
    return Effect.gen(function* () {
      const clock = yield* Clock.Clock
      let failures = 0
      // Checks on one connection for as long as it answers; fails with why it stopped.
      const session = Effect.gen(function* () {
        const connection = yield* MysqlConnection.connect(checkOptions(options))
        while (true) {
          const { found, lag } = yield* checkOnce(host, connection, settings.timeout)
          yield* host.markUp(found, lag, clock.currentTimeMillisUnsafe())
          failures = 0
          onChecked()
          yield* connection.watchWhileIdle(Effect.sync(() => host.wake()))
          yield* host.sleep(interval)
          if (connection.failure !== undefined) return yield* Effect.fail(connection.failure)
        }
      })
      while (true) {
        const exit = yield* Effect.exit(Effect.scoped(session))
        const error = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
        if (Option.isSome(error)) yield* host.markDown(error.value, clock.currentTimeMillisUnsafe())
        onChecked()
        failures++
        yield* host.sleep(Math.min(interval * 2 ** Math.min(failures - 1, 16), Math.max(interval, maxRecheckMillis)))
      }
    })
  }
}

/** The check connection's options: no timeouts or side connections of its own; the check bounds itself. */
const checkOptions = ({
  compression: _compression,
  statementTimeout: _statementTimeout,
  readTimeout: _readTimeout,
  ...options
}: ConnectionOptions): ConnectionOptions => ({ ...options, stallCheckAfter: false, killQueryOnInterrupt: false })

/** Columns of SHOW SLAVE STATUS / SHOW REPLICA STATUS that hold the lag. */
const lagColumns = ["Seconds_Behind_Master", "Seconds_Behind_Source"] as const

/** SHOW REPLICA STATUS where the server knows it (MariaDB 10.5, MySQL 8.0.22; MySQL 8.4 knows no other). */
const replicaStatusSql = (info: MysqlConnection.ConnectionInfo): string => {
  const [major = 0, minor = 0, patch = 0] = info.serverVersion.split(/[.-]/).map(Number)
  const version = major * 10_000 + minor * 100 + patch
  const modern = info.flavor === "mariadb" ? version >= 100_500 : version >= 80_022
  return modern ? "SHOW REPLICA STATUS" : "SHOW SLAVE STATUS"
}

/** One check: the role, and a replica's lag; fails when the host does not answer in time. */
const checkOnce = (host: Host, connection: MysqlConnection.MysqlConnection, timeout: Duration.Duration) => {
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
    duration: timeout,
    orElse: () =>
      Effect.fail(
        new TimeoutError({
          operation: "read",
          timeoutMillis: Duration.toMillis(timeout),
          message: `${host.label} did not answer its host check within ${Duration.format(timeout)}`
        })
      )
  })
}
