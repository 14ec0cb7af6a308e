/**
 * One MySQL/MariaDB connection: the handshake (TLS as the ssl-mode says, authentication,
 * compression), then its commands; concurrent ones are pipelined (`internal/Pipeline.ts`).
 * `connect` is scoped: closing the scope sends COM_QUIT and releases the socket.
 *
 * A command that fails with the server's ERR leaves the connection as it was. Any other failure
 * (the network, a read deadline, a packet that makes no sense) closes the connection: its state is
 * no longer known, so every later command fails at once with the error that broke it.
 *
 * A command interrupted by its caller, or outliving its statement timeout, is stopped on the server
 * (KILL QUERY over a second connection) and the rest of its response is read, so the connection
 * stays usable; see `internal/Cancellation.ts`. A stream ended before its last row stops its
 * statement the same way.
 *
 * This module holds the public types, `connect` and the side connections (one KILL, one probe).
 * With a host list, `connect` tries the hosts as `internal/HostConnect.ts` says, each attempt in a
 * scope of its own so that a host turned away leaves nothing open.
 * The commands live by family in `internal/`: `TextCommands`, `PreparedCommands`, `RowStream`,
 * `SessionCommands`, `BatchCommands` and `BinlogCommands`, over `ConnectionCore`, which owns the
 * connection's state, its lock, pipeline and idle watch, and the response loop every command reads
 * through.
 */

import { type CompressedConnection, CompressionCodecs, nodeCodecs } from "@effect-mysql/compression"
import {
  type ColumnDefinition,
  type ComBinlogDump,
  type ComBinlogDumpGtid,
  type ComStmtExecute,
  capabilityNames,
  type ValueOptions
} from "@effect-mysql/protocol"
import { Endpoint, TimeoutError, type TlsInfo, type Transport } from "@effect-mysql/transport"
import { Clock, type Context, Duration, Effect, Exit, Result as R, Scope, Stream } from "effect"
import { type ConnectionOptions, type Password, type ResolvedOptions, resolve } from "./ConnectionOptions.ts"
import type { MysqlError } from "./Errors.ts"
import * as BatchCommands from "./internal/BatchCommands.ts"
import * as BinlogCommands from "./internal/BinlogCommands.ts"
import { argumentError, backslashesEscape, ConnectionCore } from "./internal/ConnectionCore.ts"
import { handshake } from "./internal/Handshake.ts"
import { type AttemptTarget, connectFirst } from "./internal/HostConnect.ts"
import { HostList } from "./internal/HostList.ts"
import * as HostRole from "./internal/HostRole.ts"
import type { Verdict } from "./internal/Liveness.ts"
import { type Parameters, positional } from "./internal/NamedPlaceholders.ts"
import * as PreparedCommands from "./internal/PreparedCommands.ts"
import * as RowStream from "./internal/RowStream.ts"
import * as SessionCommands from "./internal/SessionCommands.ts"
import { setUpSession } from "./internal/SessionSetup.ts"
import { connectionAttributes, errorAttributes, serverAttributes } from "./internal/Telemetry.ts"
import * as TextCommands from "./internal/TextCommands.ts"
import type { Result, Row, RowShape } from "./Result.ts"

export type { NamedParameters, Parameters } from "./internal/NamedPlaceholders.ts"

type ParameterValue = ComStmtExecute.ParameterValue

/** Which host of a host list to try next, and which hosts back off: see `hostList`. */
export type { HostList } from "./internal/HostList.ts"

export interface ConnectionInfo {
  /** As the server reports it, without MariaDB's `5.5.5-` prefix. */
  readonly serverVersion: string
  readonly flavor: "mysql" | "mariadb"
  readonly connectionId: number
  readonly endpoint: Endpoint.Endpoint
  /** The `CLIENT_*` capabilities the connection speaks. */
  readonly capabilities: ReadonlyArray<string>
  /** TLS version, cipher, peer certificate and verification; undefined for a plaintext connection. */
  readonly tls: TlsInfo | undefined
  readonly compression: CompressedConnection.CompressionInfo | undefined
  /**
   * What the server was found to be when `targetSessionAttrs` asked: `replica` when `read_only`
   * or `innodb_read_only` is on, else `primary`. Undefined when nothing was asked (`any`).
   */
  readonly role: HostRole.Role | undefined
}

export interface QueryOptions {
  /** Objects keyed by column name (default) or arrays in column order. */
  readonly rowShape?: RowShape
  /** Overrides the connection's `types` for this statement. */
  readonly types?: ValueOptions
  /** Overrides the connection's `statementTimeout` for this statement. */
  readonly timeout?: Duration.Input
}

export interface TextQueryOptions extends QueryOptions {
  /**
   * Values for the `?` placeholders (or by name, for `:name` placeholders), written into the text
   * with the escaping the session's sql_mode needs (see `internal/Interpolation.ts`): for text that
   * cannot be prepared, such as several statements at once.
   */
  readonly params?: Parameters
}

export interface BatchOptions {
  /** Overrides the connection's `statementTimeout` for the whole batch. */
  readonly timeout?: Duration.Input
}

/** What COM_REGISTER_SLAVE announces: the replica's id, and what `SHOW SLAVE HOSTS` shows of it. */
export interface ReplicaRegistration {
  /** Unique among the server's replicas (and different from the server's own `server_id`). */
  readonly serverId: number
  readonly hostname?: string
  readonly port?: number
  readonly user?: string
  readonly password?: string
}

export interface BinlogDumpOptions {
  /**
   * Silence from the server longer than this fails the stream with a `TimeoutError` and closes the
   * connection. A dump is idle by nature: ask the server for heartbeats more often than this
   * (`SET @master_heartbeat_period`, in nanoseconds, before the dump).
   */
  readonly idleTimeout?: Duration.Input
}

export interface ChangeUserOptions {
  readonly user: string
  readonly password?: Password
  readonly password2?: Password
  readonly password3?: Password
  readonly database?: string
}

/** A server-side prepared statement, closed when the scope that prepared it closes. */
export interface PreparedStatement {
  readonly sql: string
  readonly parameters: ReadonlyArray<ColumnDefinition>
  readonly columns: ReadonlyArray<ColumnDefinition>
  readonly execute: (
    params?: ReadonlyArray<ParameterValue>,
    options?: QueryOptions
  ) => Effect.Effect<Result, MysqlError>
}

export interface MysqlConnection {
  readonly info: ConnectionInfo
  /** Why the connection can no longer be used (every command fails at once); undefined while it can. */
  readonly failure: MysqlError | undefined
  /** The SERVER_STATUS_* flags of the last response (in a transaction, NO_BACKSLASH_ESCAPES, …). */
  readonly serverStatus: number
  /**
   * A transaction is open, as the last response said. Never on a failed connection: the server
   * dropped its transaction with it, and there is nothing left to roll back.
   */
  readonly inTransaction: boolean
  /**
   * The GTID of the last transaction this connection committed, when the server reports it (with
   * `trackGtids`, or session tracking set up by hand); undefined until then.
   */
  readonly lastGtid: string | undefined
  /**
   * Runs text SQL (COM_QUERY) and answers the first statement's result; `queryAll` answers every
   * statement's. Values go in `options.params` (written into the text); an array in place of the
   * options is refused with an `ArgumentError`.
   */
  readonly query: <R = Row>(sql: string, options?: TextQueryOptions) => Effect.Effect<Result<R>, MysqlError>
  /** Runs text SQL and answers every statement's result, in order (multi-statements, CALL). */
  readonly queryAll: (sql: string, options?: TextQueryOptions) => Effect.Effect<ReadonlyArray<Result>, MysqlError>
  /**
   * Runs SQL with `?` parameters as a prepared statement (binary protocol, cached per connection)
   * and answers the first result; `executeAll` answers every result (a CALL's). Values given as an
   * object fill `:name` placeholders instead (`WHERE id = :id`, `{ id: 7 }`). A value with no SQL
   * form, or a name with no value, is refused with an `ArgumentError` before anything is sent.
   */
  readonly execute: <R = Row>(
    sql: string,
    params?: Parameters,
    options?: QueryOptions
  ) => Effect.Effect<Result<R>, MysqlError>
  readonly executeAll: (
    sql: string,
    params?: Parameters,
    options?: QueryOptions
  ) => Effect.Effect<ReadonlyArray<Result>, MysqlError>
  /**
   * Runs `sql` once for each row of `rows` and answers one `Result`: affected rows summed, the
   * first insert id. MariaDB gets the rows in COM_STMT_BULK_EXECUTE packets; elsewhere a plain
   * `INSERT … VALUES (?, …)` goes as multi-row INSERTs and any other statement once per row; all
   * split at `max_allowed_packet` (see docs/batch.md). Rows of unequal length and values with no
   * SQL form are refused with an `ArgumentError` before anything is sent.
   */
  readonly batch: (
    sql: string,
    rows: ReadonlyArray<ReadonlyArray<ParameterValue>>,
    options?: BatchOptions
  ) => Effect.Effect<Result, MysqlError>
  /** Prepares a statement for explicit reuse; it is closed with the scope. */
  readonly prepare: (sql: string) => Effect.Effect<PreparedStatement, MysqlError, Scope.Scope>
  /**
   * The rows of a statement as they arrive: the socket is read only as fast as the stream is
   * pulled. With parameters the statement is prepared (binary protocol), without it is text SQL,
   * with the values of `options.params` written in as `query` does.
   * Ending the stream early stops the statement (KILL QUERY) and reads and drops the rest of its
   * response, keeping the connection; without `killQueryOnInterrupt`, or when that does not finish
   * within `cancelTimeout`, the connection is closed.
   */
  readonly stream: <R = Row>(
    sql: string,
    params?: Parameters,
    options?: TextQueryOptions
  ) => Stream.Stream<R, MysqlError>
  readonly ping: Effect.Effect<void, MysqlError>
  /** COM_PING that fails with a `TimeoutError`, and closes the connection, when no answer comes in time. */
  readonly pingWithin: (timeout: Duration.Input) => Effect.Effect<void, MysqlError>
  /** COM_INIT_DB: makes `database` the default. */
  readonly useDatabase: (database: string) => Effect.Effect<void, MysqlError>
  /**
   * COM_RESET_CONNECTION: session variables, temporary tables and prepared statements are dropped;
   * then `sessionVariables` and `initSql` run again.
   */
  readonly resetConnection: Effect.Effect<void, MysqlError>
  /**
   * COM_CHANGE_USER: logs in as another user on the same connection (TLS and compression stay);
   * session state and prepared statements are dropped, and `sessionVariables` and `initSql` run
   * again. A refused login closes the connection.
   */
  readonly changeUser: (login: ChangeUserOptions) => Effect.Effect<void, MysqlError>
  /** COM_SET_OPTION: allow or forbid several statements in one `query`. */
  readonly setMultipleStatements: (enabled: boolean) => Effect.Effect<void, MysqlError>
  /**
   * Until the next command, watches the idle connection: when the server closes it or sends
   * anything (it says goodbye on shutdown, KILL and idle timeout), the connection fails at once and
   * `onClosed` runs. The next command stops the watch first. A pool watches its idle connections.
   */
  readonly watchWhileIdle: (onClosed: Effect.Effect<void>) => Effect.Effect<void>
  /** COM_REGISTER_SLAVE: announces the connection as a replica, before `binlogDump`. */
  readonly registerReplica: (replica: ReplicaRegistration) => Effect.Effect<void, MysqlError>
  /**
   * COM_BINLOG_DUMP or COM_BINLOG_DUMP_GTID: the binlog's events, each the bytes of one whole event
   * (header, body, checksum), read only as fast as the stream is pulled. The connection serves
   * nothing else: it is closed when the stream ends (a server ends the session after a dump).
   * `@effect-mysql/replication` decodes the events into a change stream.
   */
  readonly binlogDump: (
    command: ComBinlogDump | ComBinlogDumpGtid,
    options?: BinlogDumpOptions
  ) => Stream.Stream<Uint8Array, MysqlError>
}

/** The public connection: each command is its family's, over the connection's `ConnectionCore`. */
class Connection implements MysqlConnection {
  readonly info: ConnectionInfo
  private readonly core: ConnectionCore
  readonly ping: Effect.Effect<void, MysqlError>
  readonly resetConnection: Effect.Effect<void, MysqlError>
  readonly watchWhileIdle: (onClosed: Effect.Effect<void>) => Effect.Effect<void>

  constructor(core: ConnectionCore, role: HostRole.Role | undefined) {
    const { session, options } = core
    this.core = core
    this.info = {
      serverVersion: session.serverVersion.version,
      flavor: session.serverVersion.flavor,
      connectionId: session.connectionId,
      endpoint: options.endpoint,
      capabilities: capabilityNames(session.capabilities.capabilities),
      tls: session.tls,
      compression: session.compression,
      role
    }
    this.ping = SessionCommands.ping(core)
    this.resetConnection = Effect.andThen(SessionCommands.resetConnection(core), setUpSession(core))
    this.watchWhileIdle = core.watchWhileIdle
  }

  get failure(): MysqlError | undefined {
    return this.core.broken
  }

  get serverStatus(): number {
    return this.core.statusFlags
  }

  get inTransaction(): boolean {
    return this.core.inTransaction
  }

  get lastGtid(): string | undefined {
    return this.core.lastGtid
  }

  readonly query = <R = Row>(sql: string, options?: TextQueryOptions) =>
    Effect.map(this.queryAll(sql, options), (results) => results[0] as Result<R>)

  readonly queryAll = (sql: string, options?: TextQueryOptions) => TextCommands.textCommand(this.core, sql, options)

  readonly execute = <R = Row>(sql: string, params: Parameters = [], options?: QueryOptions) =>
    Effect.map(this.executeAll(sql, params, options), (results) => results[0] as Result<R>)

  readonly executeAll = (sql: string, params: Parameters = [], options?: QueryOptions) =>
    this.byPosition(sql, params, (text, values) => PreparedCommands.executeCommand(this.core, text, values, options))

  /** Runs `run` with the statement's values by position, `:name` placeholders turned into `?`. */
  private byPosition<A>(
    sql: string,
    params: Parameters,
    run: (sql: string, params: ReadonlyArray<ParameterValue>) => Effect.Effect<A, MysqlError>
  ): Effect.Effect<A, MysqlError> {
    if (Array.isArray(params)) return run(sql, params)
    const found = positional(sql, params, backslashesEscape(this.core))
    return typeof found === "string" ? argumentError(found, sql) : run(found.sql, found.params)
  }

  readonly prepare = (sql: string) => PreparedCommands.prepare(this.core, sql)

  readonly batch = (sql: string, rows: ReadonlyArray<ReadonlyArray<ParameterValue>>, options?: BatchOptions) =>
    BatchCommands.batch(this.core, sql, rows, options)

  readonly stream = <R = Row>(sql: string, params?: Parameters, options?: TextQueryOptions) =>
    params === undefined || Array.isArray(params)
      ? RowStream.stream<R>(this.core, sql, params, options)
      : Stream.unwrap(
          this.byPosition(sql, params, (text, values) =>
            Effect.succeed(RowStream.stream<R>(this.core, text, values, options))
          )
        )

  readonly pingWithin = (timeout: Duration.Input) => SessionCommands.pingWithin(this.core, timeout)

  readonly useDatabase = (database: string) => SessionCommands.useDatabase(this.core, database)

  readonly changeUser = (login: ChangeUserOptions) =>
    Effect.andThen(SessionCommands.changeUser(this.core, login), setUpSession(this.core))

  readonly setMultipleStatements = (enabled: boolean) => SessionCommands.setMultipleStatements(this.core, enabled)

  readonly registerReplica = (replica: ReplicaRegistration) => SessionCommands.registerReplica(this.core, replica)

  readonly binlogDump = (command: ComBinlogDump | ComBinlogDumpGtid, options?: BinlogDumpOptions) =>
    BinlogCommands.dump(this.core, command, options)
}

/**
 * Opens a connection for the life of the scope. With a host list, the first host that takes it
 * (see docs/clusters.md); connects given the same `hosts` state share the hosts' backoff (a pool
 * keeps one), otherwise each connect starts with every host healthy.
 */
export const connect = (
  options: ConnectionOptions,
  hosts?: HostList
): Effect.Effect<MysqlConnection, MysqlError, Transport | Scope.Scope> =>
  // A span without a stack trace: capturing one cost more than the rest of the span.
  Effect.withSpan(
    open(options, hosts).pipe(
      Effect.tap((connection) => {
        const attributes = connectionAttributes(connection.info)
        return Effect.andThen(Effect.annotateCurrentSpan(attributes), logLifecycle(connection.info))
      }),
      Effect.tapError((error) => Effect.annotateCurrentSpan(connectFailureAttributes(options, error)))
    ),
    "MysqlConnection.connect",
    { kind: "client", captureStackTrace: false }
  )

/** Where a failed connect went (the first host of a list), and how it failed. */
const connectFailureAttributes = (options: ConnectionOptions, error: MysqlError) => {
  const resolved = resolve(options)
  return {
    ...(R.isSuccess(resolved) ? serverAttributes(resolved.success.endpoint) : {}),
    ...errorAttributes(error)
  }
}

/** A debug line when the connection opens, and another when its scope closes it. */
const logLifecycle = (info: ConnectionInfo) => {
  const annotate = Effect.annotateLogs({
    "db.client.connection.id": info.connectionId,
    server: Endpoint.format(info.endpoint)
  })
  return Effect.andThen(
    annotate(Effect.logDebug("MySQL connection opened")),
    Effect.addFinalizer(() => annotate(Effect.logDebug("MySQL connection closed")))
  )
}

/** `connect` without a span, for the side connections (one KILL, one probe). */
const open = Effect.fnUntraced(function* (
  options: ConnectionOptions,
  hosts?: HostList
): Effect.fn.Return<MysqlConnection, MysqlError, Transport | Scope.Scope> {
  const resolved = resolve(options)
  if (R.isFailure(resolved)) return yield* resolved.failure
  const list = hosts ?? hostList(resolved.success)
  return yield* connectFirst(resolved.success, list, (host, target) =>
    inOwnScope(openOn(options, { ...resolved.success, endpoint: host.endpoint, ssl: host.ssl }, target))
  )
})

/** The backoff state of the hosts of `options`, for connects that should share it. */
export const hostList = (options: ResolvedOptions): HostList => new HostList(options.hosts.length, options.hostOrder)

/** Runs one attempt in a scope of its own, closed at once when the attempt fails. */
const inOwnScope = <A, E, R>(
  attempt: Effect.Effect<A, E, R | Scope.Scope>
): Effect.Effect<A, E, Exclude<R, Scope.Scope> | Scope.Scope> =>
  Effect.flatMap(Effect.scope, (parent) =>
    Effect.flatMap(Scope.fork(parent), (child) =>
      attempt.pipe(
        Scope.provide(child),
        Effect.onError((cause) => Scope.close(child, Exit.failCause(cause)))
      )
    )
  )

/** One connection to the host `resolved.endpoint`, checked against `target`. */
const openOn = Effect.fnUntraced(function* (
  options: ConnectionOptions,
  resolved: ResolvedOptions,
  target: AttemptTarget
): Effect.fn.Return<MysqlConnection, MysqlError, Transport | Scope.Scope> {
  const started = yield* Clock.currentTimeMillis
  const session = yield* handshake(resolved).pipe(Effect.provideService(CompressionCodecs, nodeCodecs))
  const transport = yield* Effect.context<Transport>()
  const side = sideOptions(options, resolved.endpoint)
  // The side connections' Effects are made when first needed: most connections never need them.
  const killQuery = resolved.killQueryOnInterrupt
    ? Effect.suspend(() => killQueryVia(side, session.connectionId, transport))
    : undefined
  const core = new ConnectionCore(session, resolved, killQuery)
  yield* Effect.addFinalizer(() => SessionCommands.quit(core))
  // The role query shares the attempt's connectTimeout with the handshake.
  const left = Duration.subtract(resolved.connectTimeout, Duration.millis((yield* Clock.currentTimeMillis) - started))
  const role = target === "any" ? undefined : yield* checkRole(core, target, resolved, left)
  yield* setUpSession(core)
  const connection = new Connection(core, role)
  const stallCheckAfter = resolved.stallCheckAfter
  if (stallCheckAfter !== undefined) {
    const within = resolved.connectTimeout
    const probe = Effect.suspend(() => probeVia(side, session.connectionId, within, transport))
    yield* Effect.forkScoped(core.watchLiveness(stallCheckAfter, probe))
  }
  return connection
})

/** The server's role, or a `HostRoleError` when it does not meet `target`; a `TimeoutError` after `within`. */
const checkRole = (
  core: ConnectionCore,
  target: Exclude<AttemptTarget, "any">,
  resolved: ResolvedOptions,
  within: Duration.Duration
): Effect.Effect<HostRole.Role, MysqlError> =>
  Effect.flatMap(
    TextCommands.textCommand(core, HostRole.roleQuery(core.session.serverVersion.flavor), { rowShape: "array" }).pipe(
      Effect.timeoutOrElse({
        duration: Duration.max(within, Duration.millis(1)),
        orElse: () =>
          Effect.fail(
            new TimeoutError({
              operation: "connect",
              timeoutMillis: Duration.toMillis(resolved.connectTimeout),
              message: `the server did not answer the role query (targetSessionAttrs ${target}) within connectTimeout`
            })
          )
      })
    ),
    ([result]) => {
      const found = HostRole.report((result?.rows[0] ?? []) as unknown as ReadonlyArray<unknown>)
      const refused = HostRole.refusal(found, target, resolved.endpoint)
      return refused === undefined ? Effect.succeed(found.role) : Effect.fail(refused)
    }
  )

/**
 * The options of a side connection (one KILL, one probe): the same server as the connection it
 * serves, no compression, no timeouts or checks of its own.
 */
const sideOptions = (
  {
    compression: _compression,
    localInfile: _localInfile,
    statementTimeout: _statementTimeout,
    host: _host,
    port: _port,
    socketPath: _socketPath,
    hosts: _hosts,
    hostOrder: _hostOrder,
    targetSessionAttrs: _targetSessionAttrs,
    sessionVariables: _sessionVariables,
    initSql: _initSql,
    trackGtids: _trackGtids,
    ...options
  }: ConnectionOptions,
  endpoint: Endpoint.Endpoint
): ConnectionOptions => ({
  ...options,
  ...(endpoint._tag === "Unix" ? { socketPath: endpoint.path } : { host: endpoint.host, port: endpoint.port }),
  killQueryOnInterrupt: false,
  multipleStatements: false,
  stallCheckAfter: false
})

/**
 * `KILL QUERY <id>` over a second connection with the same account (which may always stop its own
 * statements), opened for the purpose and closed after.
 */
const killQueryVia = (
  pinned: ConnectionOptions,
  connectionId: number,
  context: Context.Context<Transport>
): Effect.Effect<void, MysqlError> =>
  Effect.scoped(Effect.flatMap(open(pinned), (killer) => killer.query(`KILL QUERY ${connectionId}`))).pipe(
    Effect.asVoid,
    Effect.provideContext(context)
  )

/**
 * What the server says of connection `connectionId`, asked over a second connection with the same
 * account (which sees its own threads in the process list without the PROCESS privilege). Behind a
 * proxy (ProxySQL, MaxScale) the greeting's id names the proxy's session, not a server thread: the
 * side connection's own `CONNECTION_ID()` then differs from its greeting's, and the answer is no
 * judgement of ours.
 */
const probeVia = (
  pinned: ConnectionOptions,
  connectionId: number,
  within: Duration.Input,
  context: Context.Context<Transport>
): Effect.Effect<Verdict> =>
  Effect.scoped(
    Effect.flatMap(open(pinned), (side) =>
      Effect.map(
        side.query<{ SELF: unknown; COMMAND: string | null }>(
          `SELECT CONNECTION_ID() AS SELF, (SELECT COMMAND FROM information_schema.PROCESSLIST WHERE ID = ${connectionId}) AS COMMAND`
        ),
        (result): Verdict => {
          const row = result.rows[0]
          if (row === undefined || String(row.SELF) !== String(side.info.connectionId)) return "inconclusive"
          if (row.COMMAND === null || row.COMMAND === "Killed") return "gone"
          return row.COMMAND === "Sleep" ? "idle" : "running"
        }
      )
    )
  ).pipe(
    Effect.provideContext(context),
    Effect.timeoutOption(within),
    Effect.map((answer): Verdict => (answer._tag === "None" ? "unreachable" : answer.value)),
    // Refused logins and full servers say nothing about our connection; an unreachable server does.
    Effect.catch((error) =>
      Effect.succeed<Verdict>(
        error._tag === "TimeoutError" || error._tag === "TransportError" ? "unreachable" : "inconclusive"
      )
    )
  )
