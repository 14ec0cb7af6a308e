/**
 * effect/sql on MySQL and MariaDB: one layer gives both our `MysqlClient` and effect's `SqlClient`
 * (driver "mysql"), over a pool of our connections.
 *
 * - Statements compile with `?` placeholders and backtick identifiers (`MysqlCompiler`).
 * - Transactions: `BEGIN` (or the `BeginTransaction` in effect), `COMMIT`, `ROLLBACK`, and for
 *   nested ones `SAVEPOINT`, `ROLLBACK TO SAVEPOINT`, `RELEASE SAVEPOINT`. A statement that ended
 *   the transaction implicitly (DDL) is noticed from the server's status flags, so no ROLLBACK is
 *   sent for a transaction that is no longer there.
 * - Errors arrive as `SqlError` with the reason classified from errno and SQLSTATE, and our error
 *   as the reason's `cause`.
 * - Spans carry `db.system.name` ("mysql" or "mariadb", as the server says), `db.namespace`,
 *   `server.address` and `server.port`; effect/sql adds the statement text, with placeholders and
 *   never the values; under the layer, `db.operation.name`, the host a statement ran on and the
 *   server's errno too (docs/observability.md).
 * - `multipleStatements` defaults to true here: effect's `SqlModel` and `unprepared` send
 *   `INSERT …; SELECT …` in one go.
 * - With a host list, a pool per host, host checks, one writer, reads on replicas inside
 *   `withReplicaReads` and `idempotent` retries (internal/Topology.ts, docs/clusters.md).
 */
import type { ComStmtExecute } from "@effect-mysql/protocol"
import type { Transport } from "@effect-mysql/transport"
import {
  Config,
  Context,
  Duration,
  Effect,
  Layer,
  Option,
  type Redacted,
  Result,
  Schedule,
  type Scope,
  Semaphore
} from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as SqlClient from "effect/sql/SqlClient"
import type { Borrower, Connection } from "effect/sql/SqlConnection"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import * as Statement from "effect/sql/Statement"
import { settings } from "./ClientConfig.ts"
import { type ConnectionOptions, type ResolvedOptions, resolve, timerDuration } from "./ConnectionOptions.ts"
import type { ConfigError, MysqlError, PoolTimeoutError } from "./Errors.ts"
import { CausalScope, WriteLog } from "./internal/CausalScope.ts"
import * as OperationMetrics from "./internal/OperationMetrics.ts"
import {
  type AdapterSettings,
  SqlConnectionAdapter,
  StatementTimeout,
  statementOptions
} from "./internal/SqlConnectionAdapter.ts"
import { toSqlError } from "./internal/SqlErrors.ts"
import { fromSqlMysql2 } from "./internal/SqlMysql2Options.ts"
import { readSslFiles } from "./internal/SslFiles.ts"
import { instrumentStatement, serverAttributes } from "./internal/Telemetry.ts"
import type { HostStats } from "./internal/Topology.ts"
import * as Topology from "./internal/Topology.ts"
import {
  type ExistingConnectionOptions,
  type MysqlClientOptions,
  type OptionsWithUser,
  redactOptions,
  split
} from "./MysqlClientOptions.ts"
import { makeCompiler } from "./MysqlCompiler.ts"
import type { BatchOptions, MysqlConnection } from "./MysqlConnection.ts"
import * as MysqlPool from "./MysqlPool.ts"
import type { Result as StatementResult } from "./Result.ts"
import { parse, type UrlSettings } from "./Url.ts"

export type { HostStats, HostStatus } from "./internal/Topology.ts"
// @effect/sql-mysql2's names for the same things, so that code written against it compiles here.
export type {
  ExistingConnectionOptions,
  MysqlClientOptions,
  MysqlClientOptions as MysqlClientConfig,
  ReplicaReadOptions
} from "./MysqlClientOptions.ts"
export { makeCompiler } from "./MysqlCompiler.ts"

type ParameterValue = ComStmtExecute.ParameterValue

export const TypeId = "~@effect-mysql/client/MysqlClient" as const

export interface MysqlClient extends SqlClient.SqlClient {
  readonly [TypeId]: typeof TypeId
  /** The options the client was made with, as given, with passwords and the URL Redacted. */
  readonly config: MysqlClientOptions
  /**
   * The pool's counters: open, idle, borrowed, waiting connections. With a host list, the sums
   * over the hosts' pools, and each host's state and pool in `hosts`.
   */
  readonly stats: Effect.Effect<ClientStats>
  /** What the first connection learned of the server. */
  readonly server: { readonly flavor: "mysql" | "mariadb"; readonly version: string }
  /**
   * Runs `sql` once for each row of `rows` (`MysqlConnection.batch`: COM_STMT_BULK_EXECUTE on
   * MariaDB, split at `max_allowed_packet`), on the transaction's connection inside one.
   */
  readonly batch: (
    sql: string,
    rows: ReadonlyArray<ReadonlyArray<ParameterValue>>,
    options?: BatchOptions
  ) => Effect.Effect<StatementResult, SqlError>
}

export interface ClientStats extends MysqlPool.PoolStats {
  /** With a host list: each host, in the list's order, with its role, health and pool. */
  readonly hosts?: ReadonlyArray<HostStats>
}

export const MysqlClient: Context.Service<MysqlClient, MysqlClient> = Context.Service<MysqlClient>(
  "@effect-mysql/client/MysqlClient"
)

/** The client over a pool; the scope closes the pool, waiting for borrowed connections. */
export const make: (
  options: MysqlClientOptions
) => Effect.Effect<MysqlClient, SqlError, Scope.Scope | Transport | Reactivity.Reactivity> = Effect.fn(
  "MysqlClient.make"
)(function* (
  given: MysqlClientOptions
): Effect.fn.Return<MysqlClient, SqlError, Scope.Scope | Transport | Reactivity.Reactivity> {
  // Refuse bad options before anything opens, with the option's name in the message.
  const options = yield* Effect.mapError(resolveOptions(given), (e) => toSqlError(e, "configure"))
  const checked = split({ multipleStatements: true, ...options })
  if (Result.isFailure(checked)) return yield* toSqlError(checked.failure, "configure")
  const parts = checked.success
  const resolved = resolve(parts.connection)
  if (Result.isFailure(resolved)) return yield* toSqlError(resolved.failure, "configure")
  const routes = yield* Effect.mapError(
    resolved.success.hosts.length > 1
      ? clusterRoutes(parts.connection, resolved.success, parts.pool, options)
      : Effect.map(MysqlPool.make(parts.connection, parts.pool), poolRoutes),
    (e) => toSqlError(e, "configure")
  )
  return yield* clientOver(routes, options, given)
})

/** The client over where its connections come from; `config` is what `MysqlClient.config` shows. */
const clientOver = Effect.fnUntraced(function* (
  routes: Routes,
  options: ExistingConnectionOptions,
  config: MysqlClientOptions
): Effect.fn.Return<MysqlClient, SqlError, Scope.Scope | Reactivity.Reactivity> {
  // The first connection proves the options work, and tells which server this is for the spans.
  const info = yield* Effect.scoped(Effect.map(routes.forTransaction, (connection) => connection.info)).pipe(
    Effect.mapError((e) => toSqlError(e, "connect"))
  )
  const adapterSettings: AdapterSettings = {
    statementOptions: statementOptions(options.types ?? {}),
    metrics: OperationMetrics.make(options.database),
    textOnly: options.disablePreparedStatements === true
  }
  const adapter = (connection: MysqlConnection) => new SqlConnectionAdapter(connection, adapterSettings)
  const acquire = (get: typeof routes.get): Effect.Effect<Connection, SqlError, Scope.Scope> =>
    Effect.map(
      Effect.mapError(get, (e) => toSqlError(e, "acquire")),
      adapter
    )
  const acquirer = acquire(routes.get)
  const transactionAcquirer = acquire(routes.forTransaction)
  // A statement outside a transaction borrows for its own run: no scope or finalizer of its own.
  // What fails here that is no SqlError yet is the pool's: the adapter's failures already are.
  const borrower: Borrower = (f) =>
    Effect.mapError(
      routes.use((connection) => f(adapter(connection))),
      (e) => (isSqlError(e) ? e : toSqlError(e, "acquire"))
    )
  // With a host list, the host the first connection took.
  const endpoint = info.endpoint
  const client = yield* SqlClient.make({
    acquirer,
    // Transactions and `reserve` take the writer, even inside `withReplicaReads`.
    transactionAcquirer,
    borrower,
    driver: "mysql",
    compiler: makeCompiler(options.transformQueryNames),
    transformRows:
      options.transformResultNames === undefined
        ? undefined
        : Statement.defaultTransforms(options.transformResultNames).array,
    spanAttributes: [
      ...Object.entries(options.spanAttributes ?? {}),
      ["db.system.name", info.flavor],
      ...(options.database === undefined ? [] : [["db.namespace", options.database] as const]),
      ...Object.entries(serverAttributes(endpoint))
    ],
    savepoint: (name) => `SAVEPOINT ${name}`,
    rollbackSavepoint: (name) => `ROLLBACK TO SAVEPOINT ${name}`,
    releaseSavepoint: (name) => `RELEASE SAVEPOINT ${name}`,
    isTransaction: (connection) => (connection as SqlConnectionAdapter).connection.inTransaction
  })
  const batchOn = (
    connection: Connection,
    sql: string,
    rows: ReadonlyArray<ReadonlyArray<ParameterValue>>,
    options?: BatchOptions
  ) => {
    const on = (connection as SqlConnectionAdapter).connection
    return Effect.withFiber((fiber) =>
      instrumentStatement(
        fiber,
        sql,
        on.info,
        adapterSettings.metrics,
        Effect.mapError(on.batch(sql, rows, options), (e) => toSqlError(e, "batch"))
      )
    )
  }
  return Object.assign(client, {
    [TypeId]: TypeId,
    config: redactOptions(config),
    stats: routes.stats,
    server: { flavor: info.flavor, version: info.serverVersion },
    batch: (sql: string, rows: ReadonlyArray<ReadonlyArray<ParameterValue>>, options?: BatchOptions) =>
      Effect.flatMap(
        Effect.serviceOption(client.transactionService),
        Option.match({
          onNone: () =>
            Effect.scoped(Effect.flatMap(transactionAcquirer, (connection) => batchOn(connection, sql, rows, options))),
          onSome: ([connection]) => batchOn(connection, sql, rows, options)
        })
      )
  })
})

/** Where a client's connections come from: one pool, or a pool per host of a host list. */
interface Routes {
  /** For a statement or stream: a replica inside `withReplicaReads`, else the writer. */
  readonly get: Effect.Effect<MysqlConnection, MysqlError | PoolTimeoutError, Scope.Scope>
  readonly use: <A, E, R>(
    f: (connection: MysqlConnection) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | MysqlError | PoolTimeoutError, R>
  /** For a transaction, a batch, `reserve`: always the writer. */
  readonly forTransaction: Effect.Effect<MysqlConnection, MysqlError | PoolTimeoutError, Scope.Scope>
  readonly stats: Effect.Effect<ClientStats>
}

const poolRoutes = (pool: MysqlPool.MysqlPool): Routes => ({
  get: pool.get,
  use: pool.use,
  forTransaction: pool.get,
  stats: pool.stats
})

/** One connection, lent to one borrower at a time: a transaction keeps it until it ends. */
const connectionRoutes = (connection: MysqlConnection, turn: Semaphore.Semaphore): Routes => {
  let borrowed = 0
  let waiting = 0
  const lent = Effect.acquireRelease(
    Effect.sync(() => {
      borrowed = 1
    }),
    () =>
      Effect.sync(() => {
        borrowed = 0
      })
  )
  // Waiting for the turn stays interruptible; taking it and registering its release do not.
  const take = Effect.uninterruptibleMask((restore) => {
    waiting++
    return Effect.andThen(
      Effect.ensuring(
        restore(turn.takeScoped(1)),
        Effect.sync(() => {
          waiting--
        })
      ),
      lent
    )
  })
  const get = Effect.as(take, connection)
  return {
    get,
    use: (f) => Effect.scoped(Effect.andThen(take, f(connection))),
    forTransaction: get,
    stats: Effect.sync(() => ({
      size: 1,
      idle: 1 - borrowed,
      borrowed,
      waiting,
      min: 1,
      max: 1,
      opened: 0,
      closed: 0
    }))
  }
}

/**
 * The client over a pool the application made and keeps: closing the client's scope leaves the
 * pool open.
 */
export const fromPool = (
  pool: MysqlPool.MysqlPool,
  options: ExistingConnectionOptions = {}
): Effect.Effect<MysqlClient, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  clientOver(poolRoutes(pool), options, options)

/**
 * The client over one connection the application keeps. A statement, a stream or a transaction
 * has the connection to itself while it runs; the others wait their turn, so transactions on it
 * take turns and a statement never lands inside another fiber's transaction.
 */
export const fromConnection = (
  connection: MysqlConnection,
  options: ExistingConnectionOptions = {}
): Effect.Effect<MysqlClient, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.flatMap(Semaphore.make(1), (turn) => clientOver(connectionRoutes(connection, turn), options, options))

const sumStats = (pools: ReadonlyArray<MysqlPool.PoolStats>): MysqlPool.PoolStats => {
  const sum = (key: keyof MysqlPool.PoolStats) => pools.reduce((total, stats) => total + stats[key], 0)
  return {
    size: sum("size"),
    idle: sum("idle"),
    borrowed: sum("borrowed"),
    waiting: sum("waiting"),
    min: sum("min"),
    max: sum("max"),
    opened: sum("opened"),
    closed: sum("closed")
  }
}

/** The durations of a host list's options, checked; a refusal names the option. */
const topologySettings = (options: MysqlClientOptions): Result.Result<Topology.TopologySettings, ConfigError> =>
  Result.gen(function* () {
    const replicas = options.replicaReads ?? {}
    const maxLag =
      replicas.maxLag === false
        ? undefined
        : yield* timerDuration("replicaReads.maxLag", replicas.maxLag ?? "30 seconds")
    return {
      interval: yield* timerDuration("hostCheckInterval", options.hostCheckInterval ?? "1 second"),
      timeout: yield* timerDuration("hostCheckTimeout", options.hostCheckTimeout ?? "2 seconds"),
      maxLagSeconds: maxLag === undefined ? undefined : Duration.toSeconds(maxLag),
      readYourWrites: replicas.readYourWrites ?? true,
      waitTimeout: yield* timerDuration("replicaReads.waitTimeout", replicas.waitTimeout ?? "1 second")
    }
  })

const clusterRoutes = (
  connection: ConnectionOptions,
  resolved: ResolvedOptions,
  pool: MysqlPool.PoolOptions,
  options: MysqlClientOptions
): Effect.Effect<Routes, MysqlError, Scope.Scope | Transport> =>
  Effect.gen(function* () {
    const settings = topologySettings(options)
    if (Result.isFailure(settings)) return yield* settings.failure
    const topology = yield* Topology.make(connection, resolved, pool, settings.success)
    return {
      get: Effect.withFiber((fiber) => (fiber.getRef(ReplicaReads) ? topology.getReplica : topology.getPrimary)),
      use: (f) =>
        Effect.withFiber((fiber) => (fiber.getRef(ReplicaReads) ? topology.useReplica(f) : topology.usePrimary(f))),
      forTransaction: topology.getPrimary,
      stats: Effect.map(topology.hosts, (hosts) => ({ ...sumStats(hosts.map((host) => host.pool)), hosts }))
    }
  })

/** Whether statements go to replicas: see `withReplicaReads`. */
const ReplicaReads: Context.Reference<boolean> = Context.Reference<boolean>("@effect-mysql/client/ReplicaReads", {
  defaultValue: () => false
})

/**
 * Runs `effect` with its reads on replicas: with a host list, each statement and stream in it that
 * is not inside a transaction goes to a replica that is up and within `replicaReads.maxLag`, after
 * the replica has applied this client's last commit (`replicaReads.readYourWrites`; inside
 * `withCausalScope`, the scope's last commit); when no replica can serve in time, to the writer.
 * Transactions, `reserve` and `batch` stay on the writer. Without a host list it changes nothing.
 */
export const withReplicaReads = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provideService(effect, ReplicaReads, true)

/**
 * Runs `effect` as a causal scope (a request, a job): with read-your-writes, its replica reads
 * wait only for the writes made inside it (and in the fibers it forks), not for every write of the
 * client. A read that follows no write of its own scope waits for nothing. Scopes nest: the inner
 * one starts empty. Its writes still count for reads outside any scope.
 */
export const withCausalScope = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => Effect.provideService(effect, CausalScope, new WriteLog()))

export interface IdempotentOptions {
  /** Further attempts after the first; default 5. */
  readonly retries?: number
}

/** Failures after which an idempotent unit of work may safely run again. */
const retryableReasons: ReadonlySet<string> = new Set(["ConnectionError", "DeadlockError", "SerializationError"])

const ER_ERROR_DURING_COMMIT = 1180

/**
 * Whether `error` left the work undone, or with an outcome unknown that running it again makes
 * right when it is idempotent: a lost connection (the server died, failover), a deadlock or a
 * Galera certification failure (1213), a node that left the cluster (1047), a failed commit (1180).
 */
export const isRetryableForIdempotent = (error: unknown): boolean => {
  if (!isSqlError(error)) return false
  if (retryableReasons.has(error.reason._tag)) return true
  const cause = error.reason.cause as { readonly errno?: unknown } | undefined
  return cause?.errno === ER_ERROR_DURING_COMMIT
}

/**
 * Marks `effect` (typically a whole `sql.withTransaction(…)`) as idempotent: safe to run again from
 * the start. When it fails with a deadlock, a Galera certification failure, a lost connection or
 * a node that left the cluster, it runs again, up to `retries` more times, after a short jittered
 * backoff (50 ms, doubling, at most 2 s). Never mark work that is not idempotent: after a lost
 * connection its commit may or may not have happened.
 */
export const idempotent = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options: IdempotentOptions = {}
): Effect.Effect<A, E, R> =>
  Effect.retry(effect, {
    while: (error: E) => isRetryableForIdempotent(error),
    times: options.retries ?? 5,
    schedule: Schedule.jittered(Schedule.min([Schedule.exponential("50 millis"), Schedule.spaced("2 seconds")]))
  })

export { StatementTimeout }

/**
 * Runs `effect` with its own statement timeout: each statement in it that runs longer is stopped
 * on the server (KILL QUERY) and fails with a `StatementTimeoutError` reason.
 */
export const withStatementTimeout =
  (timeout: Duration.Input) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.provideService(effect, StatementTimeout, timeout)

/**
 * Both services from an effect that makes the client. Where a tracer is installed around the
 * layer (an exporter's, or `Effect.withTracer`), the layer also turns on effect/sql's
 * `SpanPropagationEnabled`: each statement's span is then the parent of the pool's and the
 * connection's spans, and gets the attributes only the driver knows (`db.operation.name`, the host,
 * `db.response.status_code`); see docs/observability.md. Without one it stays off: propagation
 * costs every statement a change of context, for spans nobody exports.
 */
export const layerFrom = <E, R>(
  acquire: Effect.Effect<MysqlClient, E, R>
): Layer.Layer<MysqlClient | SqlClient.SqlClient, E, Exclude<Exclude<R, Scope.Scope>, Reactivity.Reactivity>> =>
  Layer.effectContext(
    Effect.withFiber((fiber) =>
      Effect.map(acquire, (client) => {
        const services = Context.make(MysqlClient, client).pipe(Context.add(SqlClient.SqlClient, client))
        return fiber.cache.tracer === undefined
          ? services
          : Context.add(services, Statement.SpanPropagationEnabled, true)
      })
    )
  ).pipe(Layer.provide(Reactivity.layer))

export const layer = (
  options: MysqlClientOptions
): Layer.Layer<MysqlClient | SqlClient.SqlClient, SqlError, Transport> => layerFrom(make(options))

/** Options from parsed settings: the certificate files they name are read first. */
const fromSettings = (settings: UrlSettings, overrides: Partial<MysqlClientOptions>) =>
  Effect.map(readSslFiles(settings.sslFiles), (pem): OptionsWithUser => {
    const ssl = { ...settings.options.ssl, ...pem, ...overrides.ssl }
    return { ...settings.options, ...overrides, ...(Object.keys(ssl).length > 0 ? { ssl } : {}) }
  })

/**
 * The options a `mysql://` URL stands for, with the certificate files it names read; for
 * `MysqlConnection.connect` as much as for the layers.
 */
export const optionsFromUrl = (
  url: string | Redacted.Redacted<string>,
  overrides: Partial<MysqlClientOptions> = {}
): Effect.Effect<OptionsWithUser, ConfigError> =>
  Effect.flatMap(Effect.fromResult(parse(url)), (settings) => fromSettings(settings, overrides))

/**
 * The options with @effect/sql-mysql2's names (`url`, `username`, `connectionTTL`, `poolConfig`)
 * mapped onto ours and the URL read: what the client connects with.
 */
export const resolveOptions = (given: MysqlClientOptions): Effect.Effect<MysqlClientOptions, ConfigError> =>
  Effect.flatMap(Effect.fromResult(fromSqlMysql2(given)), ({ options, url }) =>
    url === undefined ? Effect.succeed(options) : optionsFromUrl(url, options)
  )

/**
 * From `mysql://user:password@host:port/database?ssl-mode=VERIFY_IDENTITY&ssl-ca=/path/ca.pem…`;
 * `overrides` (options that have no URL form, such as `types`) win over the URL.
 */
export const layerFromUrl = (
  url: string | Redacted.Redacted<string>,
  overrides: Partial<MysqlClientOptions> = {}
): Layer.Layer<MysqlClient | SqlClient.SqlClient, SqlError, Transport> =>
  layerFrom(
    Effect.flatMap(
      Effect.mapError(optionsFromUrl(url, overrides), (e) => toSqlError(e, "configure")),
      make
    )
  )

/**
 * From effect's `Config`: by default the environment (`MYSQL_URL`, `MYSQL_SSL_MODE`, … see
 * `ClientConfig`), or options each given as a `Config`.
 */
export const layerConfig = (
  config?: Config.Wrap<MysqlClientOptions>
): Layer.Layer<MysqlClient | SqlClient.SqlClient, Config.ConfigError | SqlError, Transport> =>
  layerFrom(
    Effect.gen(function* () {
      const options =
        config === undefined
          ? yield* Effect.mapError(fromSettings(yield* settings(), {}), (e) => toSqlError(e, "configure"))
          : yield* Config.unwrap(config)
      return yield* make(options)
    })
  )
