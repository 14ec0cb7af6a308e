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
 *   never the values.
 * - `multipleStatements` defaults to true here: effect's `SqlModel` and `unprepared` send
 *   `INSERT …; SELECT …` in one go.
 */
import type { ComStmtExecute } from "@effect-mysql/protocol"
import type { Transport } from "@effect-mysql/transport"
import { Config, Context, type Duration, Effect, Layer, Option, type Redacted, Result, type Scope } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as SqlClient from "effect/sql/SqlClient"
import type { Borrower, Connection } from "effect/sql/SqlConnection"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import * as Statement from "effect/sql/Statement"
import { settings } from "./ClientConfig.ts"
import { resolve } from "./ConnectionOptions.ts"
import type { ConfigError } from "./Errors.ts"
import { SqlConnectionAdapter, StatementTimeout, statementOptions } from "./internal/SqlConnectionAdapter.ts"
import { toSqlError } from "./internal/SqlErrors.ts"
import { readSslFiles } from "./internal/SslFiles.ts"
import { type MysqlClientOptions, split } from "./MysqlClientOptions.ts"
import { makeCompiler } from "./MysqlCompiler.ts"
import type { BatchOptions, MysqlConnection } from "./MysqlConnection.ts"
import * as MysqlPool from "./MysqlPool.ts"
import type { Result as StatementResult } from "./Result.ts"
import { parse, type UrlSettings } from "./Url.ts"

export type { MysqlClientOptions } from "./MysqlClientOptions.ts"

type ParameterValue = ComStmtExecute.ParameterValue

export const TypeId = "~@effect-mysql/client/MysqlClient" as const

export interface MysqlClient extends SqlClient.SqlClient {
  readonly [TypeId]: typeof TypeId
  /** The pool's counters: open, idle, borrowed, waiting connections. */
  readonly stats: Effect.Effect<MysqlPool.PoolStats>
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

export const MysqlClient: Context.Service<MysqlClient, MysqlClient> = Context.Service<MysqlClient>(
  "@effect-mysql/client/MysqlClient"
)

/** The client over a pool; the scope closes the pool, waiting for borrowed connections. */
export const make: (
  options: MysqlClientOptions
) => Effect.Effect<MysqlClient, SqlError, Scope.Scope | Transport | Reactivity.Reactivity> = Effect.fn(
  "MysqlClient.make"
)(function* (
  options: MysqlClientOptions
): Effect.fn.Return<MysqlClient, SqlError, Scope.Scope | Transport | Reactivity.Reactivity> {
  // Refuse bad options before anything opens, with the option's name in the message.
  const checked = split({ multipleStatements: true, ...options })
  if (Result.isFailure(checked)) return yield* toSqlError(checked.failure, "configure")
  const parts = checked.success
  const resolved = resolve(parts.connection)
  if (Result.isFailure(resolved)) return yield* toSqlError(resolved.failure, "configure")
  const pool = yield* Effect.mapError(MysqlPool.make(parts.connection, parts.pool), (e) => toSqlError(e, "configure"))
  // The first connection proves the options work, and tells which server this is for the spans.
  const info = yield* Effect.scoped(Effect.map(pool.get, (connection) => connection.info)).pipe(
    Effect.mapError((e) => toSqlError(e, "connect"))
  )
  const statements = statementOptions(options.types ?? {})
  const adapter = (connection: MysqlConnection) => new SqlConnectionAdapter(connection, statements)
  const acquirer: Effect.Effect<Connection, SqlError, Scope.Scope> = Effect.map(
    Effect.mapError(pool.get, (e) => toSqlError(e, "acquire")),
    adapter
  )
  // A statement outside a transaction borrows for its own run: no scope or finalizer of its own.
  // What fails here that is no SqlError yet is the pool's: the adapter's failures already are.
  const borrower: Borrower = (f) =>
    Effect.mapError(
      pool.use((connection) => f(adapter(connection))),
      (e) => (isSqlError(e) ? e : toSqlError(e, "acquire"))
    )
  // With a host list, the host the first connection took.
  const endpoint = info.endpoint
  const client = yield* SqlClient.make({
    acquirer,
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
      ...(endpoint._tag === "Tcp"
        ? [["server.address", endpoint.host] as const, ["server.port", endpoint.port] as const]
        : [["server.address", endpoint.path] as const])
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
  ) =>
    Effect.mapError((connection as SqlConnectionAdapter).connection.batch(sql, rows, options), (e) =>
      toSqlError(e, "batch")
    )
  return Object.assign(client, {
    [TypeId]: TypeId,
    stats: pool.stats,
    server: { flavor: info.flavor, version: info.serverVersion },
    batch: (sql: string, rows: ReadonlyArray<ReadonlyArray<ParameterValue>>, options?: BatchOptions) =>
      Effect.flatMap(
        Effect.serviceOption(client.transactionService),
        Option.match({
          onNone: () =>
            Effect.scoped(Effect.flatMap(acquirer, (connection) => batchOn(connection, sql, rows, options))),
          onSome: ([connection]) => batchOn(connection, sql, rows, options)
        })
      )
  })
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

/** Both services from an effect that makes the client. */
export const layerFrom = <E, R>(
  acquire: Effect.Effect<MysqlClient, E, R>
): Layer.Layer<MysqlClient | SqlClient.SqlClient, E, Exclude<Exclude<R, Scope.Scope>, Reactivity.Reactivity>> =>
  Layer.effectContext(
    Effect.map(acquire, (client) => Context.make(MysqlClient, client).pipe(Context.add(SqlClient.SqlClient, client)))
  ).pipe(Layer.provide(Reactivity.layer))

export const layer = (
  options: MysqlClientOptions
): Layer.Layer<MysqlClient | SqlClient.SqlClient, SqlError, Transport> => layerFrom(make(options))

/** Options from parsed settings: the certificate files they name are read first. */
const fromSettings = (settings: UrlSettings, overrides: Partial<MysqlClientOptions>) =>
  Effect.map(readSslFiles(settings.sslFiles), (pem): MysqlClientOptions => {
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
): Effect.Effect<MysqlClientOptions, ConfigError> =>
  Effect.flatMap(Effect.fromResult(parse(url)), (settings) => fromSettings(settings, overrides))

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
