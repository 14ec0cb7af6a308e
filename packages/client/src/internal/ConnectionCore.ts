/**
 * A connection's state and the machinery every command shares: the lock and the pipeline, the idle
 * watch, `run` (a command alone on the connection) and `pipelined`, the failure handling that keeps
 * or closes the connection, and the response loop (`drive`). The commands themselves live by family
 * over it (`TextCommands`, `PreparedCommands`, `RowStream`, `SessionCommands`, `BatchCommands`),
 * and `MysqlConnection.ts` joins them into the public connection.
 *
 * Internal: its members are open to the command families; users see only `MysqlConnection`.
 */

import {
  type FramedPacket,
  ServerErrorCode,
  type SessionStateChange,
  StatusFlag,
  timeZoneProblem
} from "@effect-mysql/protocol"
import { TransportError } from "@effect-mysql/transport"
import { Duration, Effect, type Fiber, Scope, Semaphore } from "effect"
import * as Cause from "effect/Cause"
import { positiveDuration, type ResolvedOptions } from "../ConnectionOptions.ts"
import { ArgumentError, ConfigError, type LocalInfileError, type MysqlError, StatementTimeoutError } from "../Errors.ts"
import type { QueryOptions } from "../MysqlConnection.ts"
import type { Result } from "../Result.ts"
import { Cancellation, type Restore } from "./Cancellation.ts"
import type { Session } from "./Handshake.ts"
import { Liveness, type Verdict } from "./Liveness.ts"
import { sendLocalInfile } from "./LocalInfileSender.ts"
import { Pipeline } from "./Pipeline.ts"
import { ResponseReader } from "./ResponseReader.ts"
import { StatementShapes } from "./ResultShapes.ts"
import { closesConnection, endsTransaction } from "./ServerErrors.ts"
import { type Statement, StatementCache } from "./StatementCache.ts"
import type { Wire } from "./Wire.ts"

const newShapes = (sql: string) => new StatementShapes(sql)

/** Arguments refused before anything was sent. */
export const argumentError = (message: string, sql: string, position?: number): Effect.Effect<never, ArgumentError> =>
  Effect.fail(new ArgumentError({ message, sql, ...(position === undefined ? {} : { position }) }))

/** A statement's own `types.timeZone` that cannot be used (the connection's was checked at connect). */
export const zoneProblem = (options: QueryOptions | undefined): string | undefined =>
  options?.types?.timeZone === undefined ? undefined : timeZoneProblem(options.types.timeZone)

/**
 * Failures after which the connection's state is known (the server said no): it stays usable,
 * unless the server closes the connection after that error, or refuses every command on it. A
 * Galera node outside the primary component answers every statement, ROLLBACK included, with
 * errno 1047 (SQLSTATE 08S01, "WSREP has not yet prepared node for application use"): a
 * transaction on it can be ended only by closing the connection, which the server takes as a
 * rollback.
 */
const keepsConnection = (error: MysqlError): boolean =>
  (error._tag === "ServerError" && !closesConnection(error) && error.errno !== ServerErrorCode.ER_UNKNOWN_COM_ERROR) ||
  error._tag === "ConfigError" ||
  error._tag === "ArgumentError" ||
  (error._tag === "LocalInfileError" && error.reason === "refused")

/** Whether a backslash escapes in string literals: not under NO_BACKSLASH_ESCAPES, as the last answer says. */
export const backslashesEscape = (core: ConnectionCore): boolean =>
  (core.statusFlags & StatusFlag.SERVER_STATUS_NO_BACKSLASH_ESCAPES) === 0

/** One connection's state, and what every command family uses of it. */
export class ConnectionCore {
  readonly session: Session
  readonly wire: Wire
  readonly options: ResolvedOptions
  /** Held while a command is written, and by a command that must be alone on the connection for all of it. */
  readonly lock = Semaphore.makeUnsafe(1)
  /** The answers of pipelined commands still to be read, in the order the commands were written. */
  readonly pipeline = new Pipeline()
  /**
   * Whether text queries and executions of prepared statements may be pipelined. Not under
   * compression (the server numbers each answer from a compressed sequence id that runs across
   * commands), and text not when LOCAL INFILE is allowed: the server would read the commands
   * written after a `LOAD DATA LOCAL` as the file's contents.
   */
  readonly pipelinesExecute: boolean
  readonly pipelinesText: boolean
  readonly statements: StatementCache
  private readonly textShapes: StatementCache<StatementShapes>
  readonly cancellation: Cancellation
  broken: MysqlError | undefined
  statusFlags: number
  /**
   * The GTID of the last transaction this session committed, when the server reports it in the OK
   * packet (MariaDB's `last_gtid` in session_track_system_variables, MySQL's session_track_gtids).
   */
  lastGtid: string | undefined
  /** The idle watch (see `watchWhileIdle`), and the count that retires it. */
  private watcher: Fiber.Fiber<void> | undefined
  private watchGeneration = 0

  /** The server's max_allowed_packet, read by the first batch (a global: sessions cannot change it). */
  maxAllowedPacket: number | undefined

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
  }

  get inTransaction(): boolean {
    return this.broken === undefined && (this.statusFlags & StatusFlag.SERVER_STATUS_IN_TRANS) !== 0
  }

  // --- watching an idle connection ---------------------------------------------------------------

  /** `effect` alone on the connection, once the idle watch has stopped reading and every pipelined answer has been read. */
  locked<A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> {
    return Effect.suspend(() => {
      this.stopWatchingNow()
      return this.lock.withPermit(this.pipeline.idle ? effect : Effect.andThen(this.pipeline.drained, effect))
    })
  }

  /**
   * The connection alone for the life of a stream's `scope` (the idle watch stopped, the lock held),
   * once every pipelined answer has been read; fails at once when the connection is broken.
   */
  holdFor(scope: Scope.Scope): Effect.Effect<void, MysqlError> {
    return Scope.provide(
      Effect.acquireRelease(Effect.andThen(this.stopWatching, this.lock.take(1)), () => this.lock.release(1)),
      scope
    ).pipe(
      Effect.andThen(this.pipeline.drained),
      Effect.andThen(Effect.suspend(() => (this.broken === undefined ? Effect.void : Effect.fail(this.closedError))))
    )
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

  readonly stopWatching: Effect.Effect<void> = Effect.sync(() => this.stopWatchingNow())

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
  breakWith(error: MysqlError): Effect.Effect<void> {
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

  get closedError(): TransportError {
    return new TransportError({
      reason: "closed",
      message: `the connection is closed: it failed earlier (${this.broken?._tag}: ${this.broken?.message})`
    })
  }

  /** A statement's time limit: its own `timeout`, else the connection's `statementTimeout`. */
  private statementLimit(timeout: Duration.Input | undefined): Duration.Duration | undefined | ConfigError {
    if (timeout === undefined) return this.options.statementTimeout
    return (
      positiveDuration(timeout) ??
      new ConfigError({ option: "timeout", message: "timeout: must be a positive duration" })
    )
  }

  /**
   * Runs a command alone on the connection. A failure that leaves its state unknown closes it; an
   * interruption or a timeout stops the statement on the server and keeps the connection when it can.
   */
  run<A>(command: Effect.Effect<A, MysqlError>, timeout?: Duration.Input, sql?: string): Effect.Effect<A, MysqlError> {
    return this.locked(
      Effect.suspend(() => {
        if (this.broken !== undefined) return Effect.fail(this.closedError)
        const limit = this.statementLimit(timeout)
        if (limit instanceof ConfigError) return Effect.fail(limit)
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

  /** Like `run`'s failure handling, for the steps of a stream (which holds the lock itself). */
  guard<A, E extends MysqlError | Cause.Done<void>>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> {
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
  pipelined<A>(
    frame: () => FramedPacket | undefined,
    read: Effect.Effect<A, MysqlError>,
    otherwise: () => Effect.Effect<A, MysqlError>,
    timeout: Duration.Input | undefined,
    sql: string
  ): Effect.Effect<A, MysqlError> {
    return Effect.suspend(() => {
      const limit = this.statementLimit(timeout)
      if (limit instanceof ConfigError) return Effect.fail(limit)
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
  drive(reader: ResponseReader, sql: string, forRows: boolean): Effect.Effect<void, MysqlError> {
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
      for (const result of reader.results) {
        if (result.sessionStateChanges.length > 0) this.noteSessionState(result.sessionStateChanges)
      }
      return refused === undefined ? Effect.void : Effect.fail(refused)
    }
    return Effect.suspend(step)
  }

  private noteSessionState(changes: ReadonlyArray<SessionStateChange>): void {
    for (const change of changes) {
      if (change._tag === "Gtids") this.lastGtid = change.gtids
      else if (change._tag === "SystemVariables") {
        for (const [name, value] of change.variables) if (name === "last_gtid" && value !== "") this.lastGtid = value
      }
    }
  }

  /** Reads the response of a statement to its end. */
  readResponse(reader: ResponseReader, sql: string): Effect.Effect<ReadonlyArray<Result>, MysqlError> {
    return Effect.as(this.drive(reader, sql, false), reader.results as ReadonlyArray<Result>)
  }

  /** The reader of a text statement's response, or of a prepared `statement`'s. */
  reader(
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
}
