/**
 * Stopping a command without losing the connection. A command runs uninterruptibly except where it
 * waits for the server: every read and write of the wire goes through `waitRead` or
 * `waitWrite`, and only those waits can be interrupted, so a command is never cut between two
 * packets. A wait is exactly as interruptible as the caller was: SQL run in a finalizer or another
 * uninterruptible region (the ROLLBACK after an interruption) runs to its end. When the caller is
 * interrupted during a read, or the statement's deadline passes, the server is asked to stop the
 * statement (`KILL QUERY <connection id>` on another connection) and the command goes on reading
 * what the server still sends — the rest of the rows, or the ERR 1317 of the killed statement — so
 * the connection ends in a known state; the caller's interruption takes effect once the command has
 * ended. When that cannot be made certain in time (the KILL fails, or the server does not answer),
 * the connection is closed instead. A write that is still waiting cannot be settled by a KILL:
 * interrupting it closes the connection.
 *
 * The command runs in the caller's fiber. Forking a fiber per command so that the caller could
 * stop waiting for it cost about 6 µs of a `SELECT 1`; marking the waits interruptible costs a
 * fraction of that, and the common path (no deadline, no interruption) does nothing else.
 */

import type { TransportError } from "@effect-mysql/transport"
import { Cause, Duration, Effect, Exit, Option } from "effect"
import { identity } from "effect/Function"
import { type MysqlError, StatementTimeoutError } from "../Errors.ts"

export interface CancelPolicy {
  /** Asks the server to stop the running statement; undefined when only closing is allowed. */
  readonly killQuery: Effect.Effect<void, MysqlError> | undefined
  /** How long the KILL and the reading of the rest of the response may take together. */
  readonly cancelTimeout: Duration.Duration
  /** Closes the connection; a pending or later read then fails at once. */
  readonly close: Effect.Effect<void>
  /** What a wait fails with once the connection was closed to stop a command. */
  readonly closedError: () => TransportError
}

type StopReason = "interrupted" | "timeout"

/** Gives an effect the interruptibility of a region outside an uninterruptible one. */
export type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

const always = () => true

const killMessages: Record<StopReason, string> = {
  interrupted: "a running statement was interrupted: sending KILL QUERY to stop it on the server",
  timeout: "a statement ran past its timeout: sending KILL QUERY to stop it on the server"
}

/**
 * The cancellation state of one connection: of the command whose answer is being read. Pipelined
 * commands written behind it come under it one at a time, as their turns to read come.
 */
export class Cancellation {
  private readonly policy: CancelPolicy
  private running = false
  /** When the running statement's timeout ends, in the clock's milliseconds. */
  private deadline: number | undefined
  private stopping: StopReason | undefined
  /** When the KILL and the rest of the response must be done, once stopping. */
  private stopDeadline = 0
  /** Whether a KILL would reach the running statement and no other (see `run`). */
  private killable: () => boolean = always
  /** Gives a wait the interruptibility of the running command's caller. */
  private restore: Restore = identity

  constructor(policy: CancelPolicy) {
    this.policy = policy
  }

  /**
   * Runs `command` so that neither interruption nor `timeout` cuts it between two packets. On a
   * timeout it fails with a `StatementTimeoutError` whose cause is how the statement ended. A
   * failure is first given to `settle`, in the same step that ends the command. While `killable`
   * says no (pipelined commands wait behind this one, and a KILL arriving late would stop one of
   * them), a stopped statement is not killed: the rest of its answer is read within `cancelTimeout`.
   * A command entered from an uninterruptible region (a pipelined command's answer, which must be
   * read once written) passes its `caller`'s interruptibility, which its waits then have.
   */
  run<A>(
    command: Effect.Effect<A, MysqlError>,
    timeout: Duration.Duration | undefined,
    sql: string | undefined,
    settle: (cause: Cause.Cause<MysqlError>) => Effect.Effect<void>,
    killable: () => boolean = always,
    caller?: Restore
  ): Effect.Effect<A, MysqlError> {
    const finish = (exit: Exit.Exit<A, MysqlError>): Effect.Effect<A, MysqlError> => {
      const stopped = this.stopping
      this.running = false
      this.stopping = undefined
      this.deadline = undefined
      this.killable = always
      if (stopped !== "timeout") return Exit.isSuccess(exit) ? exit : Effect.andThen(settle(exit.cause), exit)
      const millis = Duration.toMillis(timeout!)
      const timedOut = Effect.fail(
        new StatementTimeoutError({
          timeoutMillis: millis,
          ...(sql === undefined ? {} : { sql }),
          message: `the statement ran longer than its ${millis} ms timeout and was stopped`,
          cause: Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
        })
      )
      return Exit.isSuccess(exit) ? timedOut : Effect.andThen(settle(exit.cause), timedOut)
    }
    const guarded = Effect.flatMap(Effect.exit(command), finish)
    const start = (restore: Restore) => {
      this.running = true
      this.restore = restore
      this.killable = killable
      if (timeout === undefined) return guarded
      return Effect.clockWith((clock) => {
        this.deadline = clock.currentTimeMillisUnsafe() + Duration.toMillis(timeout)
        return guarded
      })
    }
    return caller === undefined ? Effect.uninterruptibleMask(start) : Effect.suspend(() => start(caller))
  }

  /**
   * Stops a statement whose response the caller no longer wants (a stream ended early): KILL QUERY,
   * then `drain` reads and drops the rest, within the cancel budget; the connection is closed when
   * either fails.
   */
  abandon(drain: Effect.Effect<void, MysqlError>): Effect.Effect<void> {
    const killQuery = this.policy.killQuery
    if (killQuery === undefined) return this.policy.close
    return Effect.flatMap(
      Effect.exit(Effect.timeoutOption(Effect.andThen(killQuery, drain), this.policy.cancelTimeout)),
      (drained) => (Exit.isSuccess(drained) && Option.isSome(drained.value) ? Effect.void : this.policy.close)
    )
  }

  /** A read of the running command: where an interruption or the deadline starts stopping it. */
  waitRead<E>(read: Effect.Effect<void, E>): Effect.Effect<void, E | TransportError> {
    if (!this.running) return read
    if (this.stopping !== undefined) return this.bounded(read, this.stopDeadline)
    return this.wait(read, (reason) => this.stop(reason, read))
  }

  /** A write of the running command: interrupted or out of time, it leaves a closed connection. */
  waitWrite<E>(write: Effect.Effect<void, E>): Effect.Effect<void, E | TransportError> {
    if (!this.running) return write
    if (this.stopping !== undefined) return this.bounded(write, this.stopDeadline)
    return this.wait(write, (reason) => this.closeAndFail(reason))
  }

  /** `effect`, as interruptible as the caller, within the deadline; `onStop` takes over when either cuts it short. */
  private wait<E>(
    effect: Effect.Effect<void, E>,
    onStop: (reason: StopReason) => Effect.Effect<void, E | TransportError>
  ): Effect.Effect<void, E | TransportError> {
    const onFailure = (cause: Cause.Cause<E>): Effect.Effect<void, E | TransportError> =>
      Cause.hasInterruptsOnly(cause) ? onStop("interrupted") : Effect.failCause(cause)
    const deadline = this.deadline
    if (deadline === undefined) return Effect.catchCause(this.restore(effect), onFailure)
    const waited = Effect.clockWith((clock) =>
      Effect.timeoutOption(this.restore(effect), Math.max(0, deadline - clock.currentTimeMillisUnsafe()))
    )
    return Effect.matchCauseEffect(waited, {
      onSuccess: (inTime) => (Option.isSome(inTime) ? Effect.void : onStop("timeout")),
      onFailure
    })
  }

  /** KILL QUERY within the cancel budget, then the rest of the response; closing when either fails. */
  private stop<E>(reason: StopReason, read: Effect.Effect<void, E>): Effect.Effect<void, E | TransportError> {
    return Effect.clockWith((clock) => {
      this.stopping = reason
      this.stopDeadline = clock.currentTimeMillisUnsafe() + Duration.toMillis(this.policy.cancelTimeout)
      const killQuery = this.policy.killQuery
      if (killQuery === undefined) return this.closeAndFail(reason)
      if (!this.killable()) return this.bounded(read, this.stopDeadline)
      const killing = Effect.andThen(
        Effect.logWarning(killMessages[reason]),
        this.bounded(killQuery, this.stopDeadline)
      )
      return Effect.flatMap(Effect.exit(killing), (killed) =>
        Exit.isSuccess(killed) ? this.bounded(read, this.stopDeadline) : this.closeAndFail(reason)
      )
    })
  }

  /** `effect` until `deadline`; past it, the connection is closed. */
  private bounded<E>(effect: Effect.Effect<void, E>, deadline: number): Effect.Effect<void, E | TransportError> {
    return Effect.clockWith((clock) =>
      Effect.flatMap(Effect.timeoutOption(effect, Math.max(0, deadline - clock.currentTimeMillisUnsafe())), (done) =>
        Option.isSome(done) ? Effect.void : this.closeAndFail(this.stopping ?? "interrupted")
      )
    )
  }

  private closeAndFail(reason: StopReason): Effect.Effect<never, TransportError> {
    this.stopping = reason
    return Effect.andThen(this.policy.close, Effect.fail(this.policy.closedError()))
  }
}
