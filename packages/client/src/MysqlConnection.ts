/**
 * One MySQL/MariaDB connection: the handshake (TLS as the ssl-mode says, authentication,
 * compression), then commands one at a time. `connect` is scoped: closing the scope sends COM_QUIT
 * and releases the socket.
 *
 * A command that fails with the server's ERR leaves the connection as it was. Any other failure
 * (the network, a read deadline, a packet that makes no sense) closes the connection: its state is
 * no longer known, so every later command fails at once with the error that broke it.
 *
 * A command interrupted by its caller, or outliving its statement timeout, is stopped on the server
 * (KILL QUERY over a second connection) and the rest of its response is read, so the connection
 * stays usable; see `internal/Cancellation.ts`. A stream ended before its last row stops its
 * statement the same way.
 */

import { type CompressedConnection, CompressionCodecs, nodeCodecs } from "@effect-mysql/compression"
import {
  type ColumnDefinition,
  ComChangeUser,
  ComInitDb,
  ComPing,
  ComQuit,
  ComResetConnection,
  ComSetOption,
  ComStmtClose,
  ComStmtExecute,
  ComStmtPrepare,
  capabilityNames,
  decodePrepareResponse,
  decodeStatusResponse,
  decodeStmtPrepareResponse,
  type FramedPacket,
  frameQuery,
  hasMariaDb,
  MariaDbCapability,
  packetsAfterPrepareOk,
  SetOption,
  StatusFlag,
  timeZoneProblem,
  type ValueOptions
} from "@effect-mysql/protocol"
import { type Endpoint, type TlsInfo, type Transport, TransportError } from "@effect-mysql/transport"
import { Channel, type Context, Duration, Effect, type Fiber, Result as R, Scope, Semaphore, Stream } from "effect"
import * as Cause from "effect/Cause"
import {
  type ConnectionOptions,
  type Password,
  passwordText,
  positiveDuration,
  type ResolvedOptions,
  resolve
} from "./ConnectionOptions.ts"
import { ArgumentError, ConfigError, type LocalInfileError, type MysqlError, StatementTimeoutError } from "./Errors.ts"
import { type BatchSteps, runBatch } from "./internal/Batch.ts"
import { Cancellation, type Restore } from "./internal/Cancellation.ts"
import { authenticate, connectAttributes, firstPlugin, handshake, type Session } from "./internal/Handshake.ts"
import { InterpolationError, interpolate } from "./internal/Interpolation.ts"
import { Liveness, type Verdict } from "./internal/Liveness.ts"
import { sendLocalInfile } from "./internal/LocalInfileSender.ts"
import { Pipeline } from "./internal/Pipeline.ts"
import { ResponseReader } from "./internal/ResponseReader.ts"
import { StatementShapes } from "./internal/ResultShapes.ts"
import { closesConnection, endsTransaction, serverError, toServerError } from "./internal/ServerErrors.ts"
import { type Statement, StatementCache } from "./internal/StatementCache.ts"
import type { Wire } from "./internal/Wire.ts"
import type { Result, Row, RowShape } from "./Result.ts"

type ParameterValue = ComStmtExecute.ParameterValue

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
   * Values for the `?` placeholders, written into the text with the escaping the session's
   * sql_mode needs (see `internal/Interpolation.ts`): for text that cannot be prepared, such as
   * several statements at once.
   */
  readonly params?: ReadonlyArray<ParameterValue>
}

export interface BatchOptions {
  /** Overrides the connection's `statementTimeout` for the whole batch. */
  readonly timeout?: Duration.Input
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
   * Runs text SQL (COM_QUERY) and answers the first statement's result; `queryAll` answers every
   * statement's. Values go in `options.params` (written into the text); an array in place of the
   * options is refused with an `ArgumentError`.
   */
  readonly query: <R = Row>(sql: string, options?: TextQueryOptions) => Effect.Effect<Result<R>, MysqlError>
  /** Runs text SQL and answers every statement's result, in order (multi-statements, CALL). */
  readonly queryAll: (sql: string, options?: TextQueryOptions) => Effect.Effect<ReadonlyArray<Result>, MysqlError>
  /**
   * Runs SQL with `?` parameters as a prepared statement (binary protocol, cached per connection)
   * and answers the first result; `executeAll` answers every result (a CALL's). A value with no SQL
   * form is refused with an `ArgumentError` before anything is sent.
   */
  readonly execute: <R = Row>(
    sql: string,
    params?: ReadonlyArray<ParameterValue>,
    options?: QueryOptions
  ) => Effect.Effect<Result<R>, MysqlError>
  readonly executeAll: (
    sql: string,
    params?: ReadonlyArray<ParameterValue>,
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
   * pulled. With parameters the statement is prepared (binary protocol), without it is text SQL.
   * Ending the stream early stops the statement (KILL QUERY) and reads and drops the rest of its
   * response, keeping the connection; without `killQueryOnInterrupt`, or when that does not finish
   * within `cancelTimeout`, the connection is closed.
   */
  readonly stream: <R = Row>(
    sql: string,
    params?: ReadonlyArray<ParameterValue>,
    options?: QueryOptions
  ) => Stream.Stream<R, MysqlError>
  readonly ping: Effect.Effect<void, MysqlError>
  /** COM_PING that fails with a `TimeoutError`, and closes the connection, when no answer comes in time. */
  readonly pingWithin: (timeout: Duration.Input) => Effect.Effect<void, MysqlError>
  /** COM_INIT_DB: makes `database` the default. */
  readonly useDatabase: (database: string) => Effect.Effect<void, MysqlError>
  /** COM_RESET_CONNECTION: session variables, temporary tables and prepared statements are dropped. */
  readonly resetConnection: Effect.Effect<void, MysqlError>
  /**
   * COM_CHANGE_USER: logs in as another user on the same connection (TLS and compression stay);
   * session state and prepared statements are dropped. A refused login closes the connection.
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
}

const newShapes = (sql: string) => new StatementShapes(sql)

/** Arguments refused before anything was sent. */
const argumentError = (message: string, sql: string, position?: number): Effect.Effect<never, ArgumentError> =>
  Effect.fail(new ArgumentError({ message, sql, ...(position === undefined ? {} : { position }) }))

/** A statement's own `types.timeZone` that cannot be used (the connection's was checked at connect). */
const zoneProblem = (options: QueryOptions | undefined): string | undefined =>
  options?.types?.timeZone === undefined ? undefined : timeZoneProblem(options.types.timeZone)

/**
 * Failures after which the connection's state is known (the server said no): it stays usable,
 * unless the server closes the connection after that error.
 */
const keepsConnection = (error: MysqlError): boolean =>
  (error._tag === "ServerError" && !closesConnection(error)) ||
  error._tag === "ConfigError" ||
  error._tag === "ArgumentError" ||
  (error._tag === "LocalInfileError" && error.reason === "refused")

class Connection implements MysqlConnection {
  readonly info: ConnectionInfo
  private readonly session: Session
  private readonly wire: Wire
  private readonly options: ResolvedOptions
  /** Held while a command is written, and by a command that must be alone on the connection for all of it. */
  private readonly lock = Semaphore.makeUnsafe(1)
  /** The answers of pipelined commands still to be read, in the order the commands were written. */
  private readonly pipeline = new Pipeline()
  /**
   * Whether text queries and executions of prepared statements may be pipelined. Not under
   * compression (the server numbers each answer from a compressed sequence id that runs across
   * commands), and text not when LOCAL INFILE is allowed: the server would read the commands
   * written after a `LOAD DATA LOCAL` as the file's contents.
   */
  private readonly pipelinesExecute: boolean
  private readonly pipelinesText: boolean
  private readonly statements: StatementCache
  private readonly textShapes: StatementCache<StatementShapes>
  private readonly cancellation: Cancellation
  private broken: MysqlError | undefined
  private statusFlags: number
  /** The idle watch (see `watchWhileIdle`), and the count that retires it. */
  private watcher: Fiber.Fiber<void> | undefined
  private watchGeneration = 0

  constructor(session: Session, options: ResolvedOptions, killQuery: Effect.Effect<void, MysqlError> | undefined) {
    this.session = session
    this.wire = session.wire
    this.options = options
    this.statements = new StatementCache(options.statementCacheSize)
    this.textShapes = new StatementCache(options.statementCacheSize)
    this.statusFlags = session.statusFlags
    this.pipelinesExecute = session.compression === undefined
    this.pipelinesText = this.pipelinesExecute && options.localInfile === undefined
    this.cancellation = new Cancellation({
      killQuery,
      cancelTimeout: options.cancelTimeout,
      close: Effect.suspend(() => this.breakWith(this.interruptedError)),
      closedError: () => this.interruptedError
    })
    this.wire.waits = this.cancellation
    this.info = {
      serverVersion: session.serverVersion.version,
      flavor: session.serverVersion.flavor,
      connectionId: session.connectionId,
      endpoint: options.endpoint,
      capabilities: capabilityNames(session.capabilities.capabilities),
      tls: session.tls,
      compression: session.compression
    }
  }

  get failure(): MysqlError | undefined {
    return this.broken
  }

  get serverStatus(): number {
    return this.statusFlags
  }

  get inTransaction(): boolean {
    return this.broken === undefined && (this.statusFlags & StatusFlag.SERVER_STATUS_IN_TRANS) !== 0
  }

  // --- watching an idle connection ---------------------------------------------------------------

  /** `effect` alone on the connection, once the idle watch has stopped reading and every pipelined answer has been read. */
  private locked<A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> {
    return Effect.suspend(() => {
      this.stopWatchingNow()
      return this.lock.withPermit(this.pipeline.idle ? effect : Effect.andThen(this.pipeline.drained, effect))
    })
  }

  /**
   * Stops the idle watch before anything else uses the connection. Not waited for, as there is no
   * need: the caller then waits for the lock, which the watch gives back only once its read is
   * cancelled, and a watch that has not yet taken the lock finds its generation gone and leaves
   * without reading.
   */
  private stopWatchingNow(): void {
    this.watchGeneration++
    const watcher = this.watcher
    if (watcher === undefined) return
    this.watcher = undefined
    watcher.interruptUnsafe()
  }

  private readonly stopWatching: Effect.Effect<void> = Effect.sync(() => this.stopWatchingNow())

  readonly watchWhileIdle = (onClosed: Effect.Effect<void>): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (this.watcher !== undefined || this.broken !== undefined) return Effect.void
      const generation = ++this.watchGeneration
      const watch = Effect.flatMap(this.lock.withPermit(this.idleRead(generation)), (closed) => {
        if (!closed) return Effect.void
        // No longer a watch to stop: what `onClosed` sets off (closing this connection) must not
        // interrupt it.
        if (generation === this.watchGeneration) this.watcher = undefined
        return onClosed
      })
      return Effect.map(Effect.forkDetach(watch), (fiber) => {
        this.watcher = fiber
      })
    })

  /**
   * Reads while no command runs: nothing is due from the server, so whatever comes (end of stream,
   * a reset, an ERR sent on shutdown, KILL or an idle timeout) means the connection is gone. Answers
   * whether it is.
   */
  private idleRead(generation: number): Effect.Effect<boolean> {
    const read: Effect.Effect<boolean> = Effect.suspend(() => {
      if (generation !== this.watchGeneration || this.broken !== undefined || !this.pipeline.idle) {
        return Effect.succeed(false)
      }
      return Effect.matchEffect(this.wire.connection.read(), {
        // The connection's readTimeout bounds a command's wait, not an idle connection's.
        onFailure: (error) => (error._tag === "TimeoutError" ? read : Effect.as(this.breakWith(error), true)),
        onSuccess: (bytes) =>
          Effect.as(
            this.breakWith(
              new TransportError({
                reason: "closed-by-peer",
                message: `the server sent ${bytes.length} bytes while the connection was idle: a server says goodbye this way when it shuts down, kills the connection or ends it after its idle timeout`
              })
            ),
            true
          )
      })
    })
    return read
  }

  // --- running commands -------------------------------------------------------------------------

  /** Marks the connection unusable and drops its socket (its state is unknown: nothing to flush). */
  private breakWith(error: MysqlError): Effect.Effect<void> {
    if (this.broken !== undefined) return Effect.void
    this.broken = error
    return this.session.transport.abort
  }

  /** Watches the connection's waits for a silent drop (internal/Liveness.ts) until it fails. */
  watchLiveness(after: Duration.Duration, probe: Effect.Effect<Verdict>): Effect.Effect<void> {
    const liveness = new Liveness()
    this.wire.liveness = liveness
    return liveness.watch({
      after,
      probe,
      grace: Duration.seconds(1),
      usable: () => this.broken === undefined,
      lose: (message) =>
        Effect.suspend(() => {
          const error = new TransportError({ reason: "io-error", message })
          this.wire.lost = error
          return this.breakWith(error)
        })
    })
  }

  /** After a failure that keeps the connection: what the server changed without saying so. */
  private kept(error: MysqlError): Effect.Effect<void> {
    if (error._tag === "ServerError" && endsTransaction(error)) {
      this.statusFlags &= ~StatusFlag.SERVER_STATUS_IN_TRANS
    }
    return Effect.void
  }

  private get closedError(): TransportError {
    return new TransportError({
      reason: "closed",
      message: `the connection is closed: it failed earlier (${this.broken?._tag}: ${this.broken?.message})`
    })
  }

  /**
   * Runs a command alone on the connection. A failure that leaves its state unknown closes it; an
   * interruption or a timeout stops the statement on the server and keeps the connection when it can.
   */
  private run<A>(
    command: Effect.Effect<A, MysqlError>,
    timeout?: Duration.Input,
    sql?: string
  ): Effect.Effect<A, MysqlError> {
    return this.locked(
      Effect.suspend(() => {
        if (this.broken !== undefined) return Effect.fail(this.closedError)
        const limit = timeout === undefined ? this.options.statementTimeout : positiveDuration(timeout)
        if (timeout !== undefined && limit === undefined) {
          return Effect.fail(new ConfigError({ option: "timeout", message: "timeout: must be a positive duration" }))
        }
        return this.cancellation.run(command, limit, sql, this.settle)
      })
    )
  }

  /** After a failed command: one that leaves the state unknown closes the connection. */
  private readonly settle = (cause: Cause.Cause<MysqlError>): Effect.Effect<void> => {
    const failure = Cause.findErrorOption(cause)
    if (failure._tag === "Some" && keepsConnection(failure.value)) return this.kept(failure.value)
    return this.breakWith(failure._tag === "Some" ? failure.value : this.interruptedError)
  }

  /**
   * Runs a command pipelined (see `internal/Pipeline.ts`): written as soon as no other write is
   * under way, its answer read once the answers written before it have been. `frame` gives its
   * packet, under the lock, or undefined when it cannot go this way now; then it runs as
   * `otherwise`.
   *
   * The first in line runs as a command alone does (its write and its answer under the connection's
   * `Cancellation`), except that others may be written behind it once its own write is done. One
   * written behind others can be interrupted, or run out of time, only while it waits for the lock
   * or is being written (which closes the connection: half a command went out); once written, its
   * answer is read whatever happens to its caller, when its turn comes, under the `Cancellation`.
   * A statement with others queued behind it is never killed (a late KILL would stop one of them):
   * the rest of its answer is read within `cancelTimeout` instead.
   */
  private pipelined<A>(
    frame: () => FramedPacket | undefined,
    read: Effect.Effect<A, MysqlError>,
    otherwise: () => Effect.Effect<A, MysqlError>,
    timeout: Duration.Input | undefined,
    sql: string
  ): Effect.Effect<A, MysqlError> {
    return Effect.suspend(() => {
      const limit = timeout === undefined ? this.options.statementTimeout : positiveDuration(timeout)
      if (timeout !== undefined && limit === undefined) {
        return Effect.fail(new ConfigError({ option: "timeout", message: "timeout: must be a positive duration" }))
      }
      return Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(restore(this.takeLock), () => {
          const framed = this.broken === undefined ? frame() : undefined
          if (framed === undefined) {
            return Effect.andThen(
              this.lock.release(1),
              this.broken === undefined ? restore(otherwise()) : Effect.fail(this.closedError)
            )
          }
          const { turn, after } = this.pipeline.enter(framed.nextSequenceId)
          const killable = () => !this.pipeline.hasLater(turn)
          const answer = Effect.suspend(() => {
            if (this.broken !== undefined) return Effect.fail(this.closedError)
            this.wire.expectAnswer(turn.answerSequenceId)
            return read
          })
          // Given back once the command is written, or when it ends if it never was.
          let released = false
          const release = Effect.suspend(() => {
            if (released) return Effect.void
            released = true
            return this.lock.release(1)
          })
          const command =
            after === undefined
              ? this.cancellation.run(
                  Effect.andThen(
                    // Made once the command runs: only then are its waits the Cancellation's.
                    Effect.ensuring(
                      Effect.suspend(() => this.wire.writePipelined(framed, true)),
                      release
                    ),
                    answer
                  ),
                  limit,
                  sql,
                  this.settle,
                  killable,
                  restore
                )
              : Effect.andThen(
                  Effect.ensuring(this.writeBehind(framed, restore, limit, sql), release),
                  Effect.andThen(
                    Pipeline.wait(after),
                    this.cancellation.run(answer, limit, sql, this.settle, killable, restore)
                  )
                )
          return Effect.ensuring(
            command,
            Effect.andThen(
              release,
              Effect.sync(() => this.pipeline.leave(turn))
            )
          )
        })
      )
    })
  }

  private readonly takeLock: Effect.Effect<void> = Effect.suspend(() => {
    this.stopWatchingNow()
    return this.lock.take(1)
  })

  /**
   * The write of a command queued behind others. Cut short by an interruption or by its deadline,
   * it leaves half a command on the wire, and so closes the connection, as any failed write does.
   */
  private writeBehind(
    framed: FramedPacket,
    restore: Restore,
    limit: Duration.Duration | undefined,
    sql: string
  ): Effect.Effect<void, MysqlError> {
    const write = restore(this.wire.writePipelined(framed, false))
    const bounded: Effect.Effect<void, MysqlError> =
      limit === undefined
        ? write
        : Effect.flatMap(Effect.timeoutOption(write, limit), (written) =>
            written._tag === "Some"
              ? Effect.void
              : Effect.andThen(
                  this.breakWith(this.interruptedError),
                  Effect.fail(
                    new StatementTimeoutError({
                      timeoutMillis: Duration.toMillis(limit),
                      sql,
                      message: `the statement could not be sent within its ${Duration.toMillis(limit)} ms timeout`
                    })
                  )
                )
          )
    return Effect.onError(bounded, (cause) =>
      this.breakWith(Cause.hasInterruptsOnly(cause) ? this.interruptedError : (Cause.squash(cause) as MysqlError))
    )
  }

  private get interruptedError(): TransportError {
    return new TransportError({
      reason: "closed",
      message: "a command was interrupted and the connection could not be brought back to a known state"
    })
  }

  /**
   * Feeds a response's packets to `reader`, answering LOCAL INFILE requests on the way, until the
   * response ends, or, for a stream (`forRows`), until the packets read so far are used up and
   * rows are waiting. Plain code over the packets a read brought, with an Effect only where it must
   * wait: this is the path of every statement, and a generator step per wait showed in the profile
   * of `SELECT 1`. A refused LOCAL INFILE is reported once the response has ended.
   */
  private drive(reader: ResponseReader, sql: string, forRows: boolean): Effect.Effect<void, MysqlError> {
    const wire = this.wire
    const packets = wire.packets
    let refused: LocalInfileError | undefined
    const step = (): Effect.Effect<void, MysqlError> => {
      while (!reader.finished) {
        if (!wire.next()) {
          const error = wire.error
          if (error !== undefined) return Effect.fail(error)
          if (forRows && reader.rows.length > 0) return Effect.void
          return Effect.flatMap(wire.fill, step)
        }
        const outcome = reader.onPacket(packets.bytes, packets.start, packets.end)
        if (outcome === undefined || outcome._tag === "Done") continue
        if (outcome._tag === "Failed") return Effect.fail(refused ?? outcome.error)
        return Effect.flatMap(sendLocalInfile(wire, this.options.localInfile, outcome.fileName, sql), (answer) => {
          refused = answer
          return step()
        })
      }
      this.statusFlags = reader.results.at(-1)?.statusFlags ?? this.statusFlags
      return refused === undefined ? Effect.void : Effect.fail(refused)
    }
    return Effect.suspend(step)
  }

  /** Reads the response of a statement to its end. */
  private readResponse(reader: ResponseReader, sql: string): Effect.Effect<ReadonlyArray<Result>, MysqlError> {
    return Effect.as(this.drive(reader, sql, false), reader.results as ReadonlyArray<Result>)
  }

  /** The reader of a text statement's response, or of a prepared `statement`'s. */
  private reader(
    sql: string,
    options: QueryOptions | undefined,
    statement: Statement | undefined,
    streaming = false
  ): ResponseReader {
    const types = options?.types ?? this.options.types
    // Decoders are remembered per type options, by identity: only for options that cannot change.
    const shapes =
      types === this.options.types || Object.isFrozen(types)
        ? (statement?.shapes ?? this.textShapes.getOrAdd(sql, newShapes)).for(types)
        : undefined
    return new ResponseReader({
      streaming,
      capabilities: this.session.capabilities,
      flavor: this.session.serverVersion.flavor,
      binary: statement !== undefined,
      rowShape: options?.rowShape ?? "object",
      types,
      sql,
      shapes,
      maxResults: this.options.maxResults,
      maxResponseSize: this.options.maxResponseSize
    })
  }

  /** A command whose whole answer is one OK (or ERR), not yet run. */
  private simpleCommand(payload: Uint8Array): Effect.Effect<void, MysqlError> {
    const self = this
    const wire = this.wire
    const { capabilities, serverVersion } = this.session
    return Effect.gen(function* () {
      yield* wire.sendCommand(payload)
      const response = yield* Effect.fromResult(decodeStatusResponse(yield* wire.nextPayload, capabilities))
      // COM_SET_OPTION answers with an EOF where other commands answer with an OK.
      if (response._tag === "ErrPacket") return yield* serverError(response, serverVersion.flavor, undefined, undefined)
      self.statusFlags = response.statusFlags
    })
  }

  private simple(payload: Uint8Array): Effect.Effect<void, MysqlError> {
    return this.run(this.simpleCommand(payload))
  }

  // --- text protocol ------------------------------------------------------------------------------

  private queryResults(sql: string, options: TextQueryOptions | undefined) {
    return Effect.suspend(() => {
      if (Array.isArray(options)) {
        return argumentError(
          "query takes options, not values, as its second argument: pass values with execute(sql, params) " +
            "(a prepared statement) or query(sql, { params }) (written into the text)",
          sql
        )
      }
      const zone = zoneProblem(options)
      if (zone !== undefined) return argumentError(zone, sql)
      const text = options?.params === undefined ? sql : this.interpolated(sql, options.params)
      if (text instanceof InterpolationError) return argumentError(text.message, sql, text.position)
      const framed = frameQuery(text, this.session.capabilities)
      if (R.isFailure(framed)) return Effect.fail(framed.failure)
      return Effect.andThen(
        this.wire.write(framed.success),
        this.readResponse(this.reader(sql, options, undefined), sql)
      )
    })
  }

  /** The text with its parameters written in, escaped for the session's current sql_mode. */
  private interpolated(sql: string, params: ReadonlyArray<ParameterValue>): string | InterpolationError {
    return interpolate(sql, params, {
      noBackslashEscapes: (this.statusFlags & StatusFlag.SERVER_STATUS_NO_BACKSLASH_ESCAPES) !== 0,
      timeZone: this.options.types.timeZone
    })
  }

  readonly query = <R = Row>(sql: string, options?: TextQueryOptions) =>
    Effect.map(this.textCommand(sql, options), (results) => results[0] as Result<R>)

  readonly queryAll = (sql: string, options?: TextQueryOptions) => this.textCommand(sql, options)

  /**
   * Text SQL, pipelined when it can be. Text with parameters never is: its escaping depends on the
   * sql_mode that the commands before it leave, so it waits for their answers.
   */
  private textCommand(sql: string, options: TextQueryOptions | undefined) {
    const alone = () => this.run(this.queryResults(sql, options), options?.timeout, sql)
    if (!this.pipelinesText || options?.params !== undefined || Array.isArray(options)) return alone()
    return Effect.suspend(() => {
      const zone = zoneProblem(options)
      if (zone !== undefined) return argumentError(zone, sql)
      const framed = frameQuery(sql, this.session.capabilities)
      if (R.isFailure(framed)) return Effect.fail(framed.failure)
      return this.pipelined(
        () => framed.success,
        Effect.suspend(() => this.readResponse(this.reader(sql, options, undefined), sql)),
        alone,
        options?.timeout,
        sql
      )
    })
  }

  // --- prepared statements ------------------------------------------------------------------------

  /** COM_STMT_PREPARE and its response: the OK, then parameter and column definitions. */
  private prepareStatement(sql: string): Effect.Effect<Statement, MysqlError> {
    return Effect.gen({ self: this }, function* () {
      const caps = this.session.capabilities
      yield* this.wire.sendCommand(yield* Effect.fromResult(ComStmtPrepare.encode({ query: sql }, caps)))
      const first = yield* this.wire.nextPayload
      const ok = yield* Effect.fromResult(decodePrepareResponse(first, caps))
      if (ok._tag === "ErrPacket") return yield* Effect.fail(toServerError(ok, this.session.serverVersion.flavor, sql))
      const payloads = [first]
      for (let n = packetsAfterPrepareOk(ok, caps); n > 0; n--) payloads.push(yield* this.wire.nextPayload)
      const response = yield* Effect.fromResult(decodeStmtPrepareResponse(payloads, caps))
      return {
        id: ok.statementId,
        sql,
        params: response.params,
        columns: response.columns,
        shapes: new StatementShapes(sql)
      }
    })
  }

  private closeStatement(statement: Statement): Effect.Effect<void, MysqlError> {
    // COM_STMT_CLOSE has no response.
    return Effect.flatMap(Effect.fromResult(ComStmtClose.encode({ statementId: statement.id })), (payload) =>
      this.wire.sendCommand(payload)
    )
  }

  /** The cached statement for `sql`, prepared on first use; evicted statements are closed. */
  private cachedStatement(sql: string): Effect.Effect<Statement, MysqlError> {
    return Effect.suspend(() => {
      const cached = this.statements.get(sql)
      if (cached !== undefined) return Effect.succeed(cached)
      return Effect.tap(this.prepareStatement(sql), (statement) =>
        Effect.forEach(this.statements.set(statement), (evicted) =>
          evicted === statement ? Effect.void : this.closeStatement(evicted)
        )
      )
    })
  }

  /** The COM_STMT_EXECUTE of `params`, or the ArgumentError that refuses them; nothing is sent. */
  private executePacket(
    statement: Statement,
    params: ReadonlyArray<ParameterValue>
  ): Effect.Effect<FramedPacket, ArgumentError> {
    return Effect.suspend((): Effect.Effect<FramedPacket, ArgumentError> => {
      if (params.length !== statement.params.length) {
        return argumentError(
          `the statement has ${statement.params.length} parameter(s), ${params.length} given`,
          statement.sql
        )
      }
      for (let i = 0; i < params.length; i++) {
        const problem = ComStmtExecute.parameterProblem(params[i])
        if (problem !== undefined) return argumentError(`parameter ${i + 1}: ${problem}`, statement.sql, i + 1)
      }
      const timeZone = this.options.types.timeZone
      const framed = ComStmtExecute.frame(
        { statementId: statement.id, parameters: params },
        timeZone === undefined ? {} : { timeZone }
      )
      // A value the encoder refuses (a typed parameter out of its type's range) is the caller's
      // argument, not a broken connection.
      if (R.isFailure(framed)) return argumentError(framed.failure.message, statement.sql)
      return Effect.succeed(framed.success)
    })
  }

  private sendExecute(statement: Statement, params: ReadonlyArray<ParameterValue>): Effect.Effect<void, MysqlError> {
    return Effect.flatMap(this.executePacket(statement, params), (packet) => this.wire.write(packet))
  }

  private executeResults(sql: string, params: ReadonlyArray<ParameterValue>, options: QueryOptions | undefined) {
    if (!Array.isArray(params)) {
      return argumentError("execute takes its values as an array: execute(sql, [value, …], options)", sql)
    }
    const zone = zoneProblem(options)
    if (zone !== undefined) return argumentError(zone, sql)
    return Effect.flatMap(this.cachedStatement(sql), (statement) =>
      this.closingUncached(
        statement,
        Effect.andThen(
          this.sendExecute(statement, params),
          this.readResponse(this.reader(sql, options, statement), sql)
        )
      )
    )
  }

  /**
   * Runs `execution` of a statement the cache did not keep (`statementCacheSize: 0`), then closes
   * it, whether it succeeded or the server refused it; a broken connection took it with it.
   */
  private closingUncached<A>(
    statement: Statement,
    execution: Effect.Effect<A, MysqlError>
  ): Effect.Effect<A, MysqlError> {
    if (this.statements.holds(statement)) return execution
    return Effect.onExit(execution, () => this.closeUncached(statement))
  }

  private closeUncached(statement: Statement): Effect.Effect<void> {
    return Effect.suspend(() =>
      this.broken !== undefined || this.statements.holds(statement)
        ? Effect.void
        : Effect.ignore(this.guard(this.closeStatement(statement)))
    )
  }

  readonly execute = <R = Row>(sql: string, params: ReadonlyArray<ParameterValue> = [], options?: QueryOptions) =>
    Effect.map(this.executeCommand(sql, params, options), (results) => results[0] as Result<R>)

  readonly executeAll = (sql: string, params: ReadonlyArray<ParameterValue> = [], options?: QueryOptions) =>
    this.executeCommand(sql, params, options)

  /**
   * A prepared statement's execution, pipelined when the statement is prepared already; a first
   * execution prepares it alone on the connection (the prepare's answer names the statement).
   */
  private executeCommand(sql: string, params: ReadonlyArray<ParameterValue>, options: QueryOptions | undefined) {
    const alone = () => this.run(this.executeResults(sql, params, options), options?.timeout, sql)
    return Effect.suspend(() => {
      const cached = this.pipelinesExecute ? this.statements.get(sql) : undefined
      if (cached === undefined || !Array.isArray(params) || zoneProblem(options) !== undefined) return alone()
      return Effect.flatMap(this.executePacket(cached, params), (framed) =>
        this.pipelined(
          // Evicted meanwhile (and closed by the command that evicted it): prepared again, alone.
          () => (this.statements.holds(cached) ? framed : undefined),
          Effect.suspend(() => this.readResponse(this.reader(sql, options, cached), sql)),
          alone,
          options?.timeout,
          sql
        )
      )
    })
  }

  readonly prepare = (sql: string): Effect.Effect<PreparedStatement, MysqlError, Scope.Scope> =>
    Effect.acquireRelease(this.run(this.prepareStatement(sql)), (statement) =>
      this.broken === undefined ? Effect.ignore(this.run(this.closeStatement(statement))) : Effect.void
    ).pipe(
      Effect.map(
        (statement): PreparedStatement => ({
          sql,
          parameters: statement.params,
          columns: statement.columns,
          execute: (params = [], options) =>
            this.run(
              Effect.gen({ self: this }, function* () {
                yield* this.sendExecute(statement, params)
                const results = yield* this.readResponse(this.reader(sql, options, statement), sql)
                return results[0]!
              }),
              options?.timeout,
              sql
            )
        })
      )
    )

  // --- batches ------------------------------------------------------------------------------------

  readonly batch = (sql: string, rows: ReadonlyArray<ReadonlyArray<ParameterValue>>, options?: BatchOptions) =>
    this.run(runBatch(this.batchSteps(), sql, rows), options?.timeout, sql)

  /** The server's max_allowed_packet, read by the first batch (a global: sessions cannot change it). */
  private maxAllowedPacket: number | undefined

  private batchSteps(): BatchSteps {
    const command = (framed: FramedPacket, statement: Statement) =>
      Effect.andThen(
        this.wire.write(framed),
        Effect.map(this.readResponse(this.reader(statement.sql, undefined, statement), statement.sql), (r) => r[0]!)
      )
    return {
      bulk: hasMariaDb(this.session.capabilities, MariaDbCapability.MARIADB_CLIENT_STMT_BULK_OPERATIONS),
      maxAllowedPacket: Effect.suspend(() =>
        this.maxAllowedPacket !== undefined
          ? Effect.succeed(this.maxAllowedPacket)
          : Effect.map(this.queryResults("SELECT @@max_allowed_packet AS m", undefined), (results) => {
              this.maxAllowedPacket = Number(results[0]!.rows[0]!.m)
              return this.maxAllowedPacket
            })
      ),
      withStatement: (sql, use) =>
        Effect.flatMap(this.cachedStatement(sql), (statement) => this.closingUncached(statement, use(statement))),
      command,
      execute: (statement, params) =>
        Effect.flatMap(this.executePacket(statement, params), (framed) => command(framed, statement)),
      // Types of its own keep each text, used once, out of the cache of result shapes.
      query: (text) => Effect.map(this.queryResults(text, { types: this.options.types }), (results) => results[0]!),
      atomically: (commands) =>
        Effect.suspend(() => {
          if (this.inTransaction) return commands
          const text = (sql: string) => this.queryResults(sql, undefined)
          return Effect.andThen(
            text("BEGIN"),
            Effect.matchCauseEffect(commands, {
              onSuccess: (value) => Effect.as(text("COMMIT"), value),
              onFailure: (cause) => Effect.andThen(Effect.ignore(text("ROLLBACK")), Effect.failCause(cause))
            })
          )
        }),
      literals: () => ({
        noBackslashEscapes: (this.statusFlags & StatusFlag.SERVER_STATUS_NO_BACKSLASH_ESCAPES) !== 0,
        timeZone: this.options.types.timeZone
      }),
      timeZone: this.options.types.timeZone
    }
  }

  // --- streaming ----------------------------------------------------------------------------------

  readonly stream = <R = Row>(sql: string, params?: ReadonlyArray<ParameterValue>, options?: QueryOptions) => {
    const self = this
    return Stream.fromChannel(
      Channel.fromTransform((_, scope) =>
        Effect.gen(function* () {
          yield* Scope.provide(
            Effect.acquireRelease(Effect.andThen(self.stopWatching, self.lock.take(1)), () => self.lock.release(1)),
            scope
          )
          yield* self.pipeline.drained
          if (self.broken !== undefined) return yield* Effect.fail(self.closedError)
          // Set just before the statement goes out: ending the stream before its end leaves unread rows.
          let reader: ResponseReader | undefined
          let statement: Statement | undefined
          yield* Scope.addFinalizer(
            scope,
            Effect.suspend(() =>
              reader === undefined || reader.finished || self.broken !== undefined
                ? Effect.void
                : self.abandonStream(reader, sql)
            ).pipe(
              Effect.andThen(
                Effect.suspend(() => (statement === undefined ? Effect.void : self.closeUncached(statement)))
              )
            )
          )
          if (params === undefined) {
            reader = self.reader(sql, options, undefined, true)
            yield* self.guard(
              Effect.flatMap(Effect.fromResult(frameQuery(sql, self.session.capabilities)), (framed) =>
                self.wire.write(framed)
              )
            )
          } else {
            // A whole command of its own (possibly a prepare), stopped like any other when interrupted.
            statement = yield* self.guard(
              self.cancellation.run(self.cachedStatement(sql), undefined, sql, () => Effect.void)
            )
            // Refused arguments end the stream before the statement goes out, with nothing to abandon.
            const packet = yield* self.executePacket(statement, params)
            reader = self.reader(sql, options, statement, true)
            yield* self.guard(self.wire.write(packet))
          }
          return self.guard(self.pullRows(reader, sql)) as Effect.Effect<
            readonly [R, ...Array<R>],
            MysqlError | Cause.Done<void>
          >
        })
      )
    )
  }

  /** Like `run`'s failure handling, for the steps of a stream (which holds the lock itself). */
  private guard<A, E extends MysqlError | Cause.Done<void>>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> {
    return effect.pipe(
      Effect.tapError((error) =>
        Cause.isDone(error)
          ? Effect.void
          : keepsConnection(error as MysqlError)
            ? this.kept(error as MysqlError)
            : this.breakWith(error as MysqlError)
      )
    )
  }

  /** Stops a stream's statement and drops the rest of its response (see `Cancellation.abandon`). */
  private abandonStream(reader: ResponseReader, sql: string): Effect.Effect<void> {
    const rest = (): Effect.Effect<void, MysqlError> =>
      Effect.matchEffect(this.pullRows(reader, sql), {
        onSuccess: rest,
        // The end of the response, or the ERR of the killed statement: the connection is ready.
        onFailure: (error) =>
          Cause.isDone(error) || (error as MysqlError)._tag === "ServerError"
            ? Effect.void
            : Effect.fail(error as MysqlError)
      })
    return this.cancellation.abandon(Effect.suspend(rest))
  }

  /** The rows of the packets read so far, or of the next read; ends the stream after the last result. */
  private pullRows(
    reader: ResponseReader,
    sql: string
  ): Effect.Effect<readonly [unknown, ...Array<unknown>], MysqlError | Cause.Done<void>> {
    return Effect.flatMap(this.drive(reader, sql, true), () => {
      if (reader.rows.length === 0) return Cause.done()
      const rows = reader.rows as unknown as readonly [unknown, ...Array<unknown>]
      reader.rows = []
      return Effect.succeed(rows)
    })
  }

  // --- the rest -----------------------------------------------------------------------------------

  readonly ping = Effect.suspend(() =>
    Effect.flatMap(Effect.fromResult(ComPing.encode({})), (payload) => this.simple(payload))
  )

  readonly pingWithin = (timeout: Duration.Input) =>
    Effect.flatMap(Effect.fromResult(ComPing.encode({})), (payload) =>
      this.run(this.wire.withReadTimeout(timeout, this.simpleCommand(payload)))
    )

  readonly useDatabase = (database: string) =>
    Effect.flatMap(Effect.fromResult(ComInitDb.encode({ schema: database })), (payload) => this.simple(payload))

  readonly resetConnection = Effect.suspend(() =>
    Effect.flatMap(Effect.fromResult(ComResetConnection.encode({})), (payload) =>
      Effect.tap(this.simple(payload), () => Effect.sync(() => this.statements.clear()))
    )
  )

  // The password is taken before the command, once for the first answer and any auth switch after
  // it, as in the handshake: a password Effect that fails leaves the connection as it was.
  readonly changeUser = (login: ChangeUserOptions) =>
    Effect.flatMap(passwordText(login.password, login.user), (password) => this.changeUserWith(login, password))

  private changeUserWith(login: ChangeUserOptions, password: string): Effect.Effect<void, MysqlError> {
    return this.run(
      Effect.gen({ self: this }, function* () {
        const { capabilities, serverVersion, scramble, serverPlugin, authContext } = this.session
        const context = { ...authContext, user: login.user }
        const plugin = yield* firstPlugin(context, serverPlugin, password, scramble)
        const payload = yield* Effect.fromResult(
          ComChangeUser.encode(
            {
              username: login.user,
              authResponse: yield* plugin.initial,
              database: login.database ?? "",
              characterSet: this.options.collation,
              authPluginName: plugin.plugin,
              connectAttributes: connectAttributes(this.options)
            },
            capabilities
          )
        )
        yield* this.wire.sendCommand(payload)
        this.statements.clear()
        yield* authenticate(
          this.wire,
          { password2: undefined, password3: undefined, ...login, password },
          context,
          capabilities,
          plugin,
          serverVersion.flavor
        )
      })
    )
  }

  readonly setMultipleStatements = (enabled: boolean) =>
    Effect.flatMap(
      Effect.fromResult(
        ComSetOption.encode({
          option: enabled ? SetOption.MYSQL_OPTION_MULTI_STATEMENTS_ON : SetOption.MYSQL_OPTION_MULTI_STATEMENTS_OFF
        })
      ),
      (payload) => this.simple(payload)
    )

  /**
   * COM_QUIT, when the connection is still in a known state; the transport's scope closes the socket.
   * Bounded without a timeout of its own (which cost a seventh of a connect and close): a connection
   * in a known state has no write waiting, so COM_QUIT goes out at once, and the transport's close
   * destroys a socket whose peer takes nothing within a second.
   */
  readonly quit: Effect.Effect<void> = Effect.suspend(() => {
    if (this.broken !== undefined) return this.stopWatching
    return this.locked(
      Effect.flatMap(Effect.fromResult(ComQuit.encode({})), (payload) => this.wire.sendCommand(payload)).pipe(
        Effect.andThen(this.session.transport.close),
        Effect.ignore
      )
    )
  })
}

/** Opens a connection for the life of the scope. */
export const connect = (
  options: ConnectionOptions
): Effect.Effect<MysqlConnection, MysqlError, Transport | Scope.Scope> =>
  // A span without a stack trace: capturing one cost more than the rest of the span.
  Effect.withSpan(open(options), "MysqlConnection.connect", { captureStackTrace: false })

/** `connect` without a span, for the side connections (one KILL, one probe). */
const open = Effect.fnUntraced(function* (
  options: ConnectionOptions
): Effect.fn.Return<MysqlConnection, MysqlError, Transport | Scope.Scope> {
  const resolved = resolve(options)
  if (R.isFailure(resolved)) return yield* resolved.failure
  const session = yield* handshake(resolved.success).pipe(Effect.provideService(CompressionCodecs, nodeCodecs))
  const transport = yield* Effect.context<Transport>()
  // The side connections' Effects are made when first needed: most connections never need them.
  const killQuery = resolved.success.killQueryOnInterrupt
    ? Effect.suspend(() => killQueryVia(options, session.connectionId, transport))
    : undefined
  const connection = new Connection(session, resolved.success, killQuery)
  yield* Effect.addFinalizer(() => connection.quit)
  const stallCheckAfter = resolved.success.stallCheckAfter
  if (stallCheckAfter !== undefined) {
    const within = resolved.success.connectTimeout
    const probe = Effect.suspend(() => probeVia(options, session.connectionId, within, transport))
    yield* Effect.forkScoped(connection.watchLiveness(stallCheckAfter, probe))
  }
  return connection
})

/** The options of a side connection (one KILL, one probe): no compression, no timeouts or checks of its own. */
const sideOptions = ({
  compression: _compression,
  localInfile: _localInfile,
  statementTimeout: _statementTimeout,
  ...options
}: ConnectionOptions): ConnectionOptions => ({
  ...options,
  killQueryOnInterrupt: false,
  multipleStatements: false,
  stallCheckAfter: false
})

/**
 * `KILL QUERY <id>` over a second connection with the same account (which may always stop its own
 * statements), opened for the purpose and closed after.
 */
const killQueryVia = (
  options: ConnectionOptions,
  connectionId: number,
  context: Context.Context<Transport>
): Effect.Effect<void, MysqlError> =>
  Effect.scoped(
    Effect.flatMap(open(sideOptions(options)), (killer) => killer.query(`KILL QUERY ${connectionId}`))
  ).pipe(Effect.asVoid, Effect.provideContext(context))

/**
 * What the server says of connection `connectionId`, asked over a second connection with the same
 * account (which sees its own threads in the process list without the PROCESS privilege). Behind a
 * proxy (ProxySQL, MaxScale) the greeting's id names the proxy's session, not a server thread: the
 * side connection's own `CONNECTION_ID()` then differs from its greeting's, and the answer is no
 * judgement of ours.
 */
const probeVia = (
  options: ConnectionOptions,
  connectionId: number,
  within: Duration.Input,
  context: Context.Context<Transport>
): Effect.Effect<Verdict> =>
  Effect.scoped(
    Effect.flatMap(open(sideOptions(options)), (side) =>
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
