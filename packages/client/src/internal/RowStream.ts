/**
 * A statement's rows as a `Stream`, read from the socket only as fast as the stream is pulled. The
 * stream holds the connection for its whole life; ended before its last row, it stops the statement
 * and drops the rest of the response (`Cancellation.abandon`).
 */
import { type ComStmtExecute, frameQuery } from "@effect-mysql/protocol"
import { Channel, Effect, Scope, Stream } from "effect"
import * as Cause from "effect/Cause"
import type { MysqlError } from "../Errors.ts"
import type { TextQueryOptions } from "../MysqlConnection.ts"
import type { Row } from "../Result.ts"
import { argumentError, type ConnectionCore } from "./ConnectionCore.ts"
import { InterpolationError } from "./Interpolation.ts"
import { cachedStatement, closeUncached, executePacket } from "./PreparedCommands.ts"
import type { ResponseReader } from "./ResponseReader.ts"
import type { Statement } from "./StatementCache.ts"
import { interpolated } from "./TextCommands.ts"

type ParameterValue = ComStmtExecute.ParameterValue

/**
 * The rows of `sql`: prepared (binary protocol) with `params`, text SQL without, with the values of
 * `options.params` written in.
 */
export const stream = <R = Row>(
  core: ConnectionCore,
  sql: string,
  params: ReadonlyArray<ParameterValue> | undefined,
  options: TextQueryOptions | undefined
): Stream.Stream<R, MysqlError> =>
  Stream.fromChannel(
    Channel.fromTransform((_, scope) =>
      Effect.gen(function* () {
        yield* core.holdFor(scope)
        // Set just before the statement goes out: ending the stream before its end leaves unread rows.
        let reader: ResponseReader | undefined
        let statement: Statement | undefined
        yield* Scope.addFinalizer(
          scope,
          Effect.suspend(() =>
            reader === undefined || reader.finished || core.broken !== undefined
              ? Effect.void
              : abandonStream(core, reader, sql)
          ).pipe(
            Effect.andThen(
              Effect.suspend(() => (statement === undefined ? Effect.void : closeUncached(core, statement)))
            )
          )
        )
        if (params === undefined) {
          const text = options?.params === undefined ? sql : interpolated(core, sql, options.params)
          if (text instanceof InterpolationError) return yield* argumentError(text.message, sql, text.position)
          reader = core.reader(sql, options, undefined, true)
          yield* core.guard(
            Effect.flatMap(Effect.fromResult(frameQuery(text, core.session.capabilities)), (framed) =>
              core.wire.write(framed)
            )
          )
        } else {
          // A whole command of its own (possibly a prepare), stopped like any other when interrupted.
          statement = yield* core.guard(
            core.cancellation.run(cachedStatement(core, sql), undefined, sql, () => Effect.void)
          )
          // Refused arguments end the stream before the statement goes out, with nothing to abandon.
          const packet = yield* executePacket(core, statement, params)
          reader = core.reader(sql, options, statement, true)
          yield* core.guard(core.wire.write(packet))
        }
        return core.guard(pullRows(core, reader, sql)) as Effect.Effect<
          readonly [R, ...Array<R>],
          MysqlError | Cause.Done<void>
        >
      })
    )
  )

/** Stops a stream's statement and drops the rest of its response (see `Cancellation.abandon`). */
const abandonStream = (core: ConnectionCore, reader: ResponseReader, sql: string): Effect.Effect<void> => {
  const rest = (): Effect.Effect<void, MysqlError> =>
    Effect.matchEffect(pullRows(core, reader, sql), {
      onSuccess: rest,
      // The end of the response, or the ERR of the killed statement: the connection is ready.
      onFailure: (error) =>
        Cause.isDone(error) || (error as MysqlError)._tag === "ServerError"
          ? Effect.void
          : Effect.fail(error as MysqlError)
    })
  return core.cancellation.abandon(Effect.suspend(rest))
}

/** The rows of the packets read so far, or of the next read; ends the stream after the last result. */
const pullRows = (
  core: ConnectionCore,
  reader: ResponseReader,
  sql: string
): Effect.Effect<readonly [unknown, ...Array<unknown>], MysqlError | Cause.Done<void>> =>
  Effect.flatMap(core.drive(reader, sql, true), () => {
    if (reader.rows.length === 0) return Cause.done()
    const rows = reader.rows as unknown as readonly [unknown, ...Array<unknown>]
    reader.rows = []
    return Effect.succeed(rows)
  })
