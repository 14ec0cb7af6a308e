/**
 * Text SQL (COM_QUERY): `query` and `queryAll` of a connection, pipelined when they can be, and
 * `queryResults`, the text statement alone, which a batch also runs within its own command. Values
 * given as `params` are written into the text (`Interpolation.ts`).
 */
import { frameQuery } from "@effect-mysql/protocol"
import { Effect, Result as R } from "effect"
import type { MysqlError } from "../Errors.ts"
import type { TextQueryOptions } from "../MysqlConnection.ts"
import type { Result } from "../Result.ts"
import { argumentError, backslashesEscape, type ConnectionCore, zoneProblem } from "./ConnectionCore.ts"
import { InterpolationError, interpolate } from "./Interpolation.ts"
import { type Parameters, positional } from "./NamedPlaceholders.ts"

/** Text SQL and its whole response, not yet run: the caller holds the connection. */
export const queryResults = (
  core: ConnectionCore,
  sql: string,
  options: TextQueryOptions | undefined
): Effect.Effect<ReadonlyArray<Result>, MysqlError> =>
  Effect.suspend(() => {
    if (Array.isArray(options)) {
      return argumentError(
        "query takes options, not values, as its second argument: pass values with execute(sql, params) " +
          "(a prepared statement) or query(sql, { params }) (written into the text)",
        sql
      )
    }
    const zone = zoneProblem(options)
    if (zone !== undefined) return argumentError(zone, sql)
    const text = options?.params === undefined ? sql : interpolated(core, sql, options.params)
    if (text instanceof InterpolationError) return argumentError(text.message, sql, text.position)
    const framed = frameQuery(text, core.session.capabilities)
    if (R.isFailure(framed)) return Effect.fail(framed.failure)
    return Effect.andThen(core.wire.write(framed.success), core.readResponse(core.reader(sql, options, undefined), sql))
  })

/** The text with its parameters written in, escaped for the session's current sql_mode. */
export const interpolated = (core: ConnectionCore, sql: string, params: Parameters): string | InterpolationError => {
  const backslashes = backslashesEscape(core)
  const found = positional(sql, params, backslashes)
  if (typeof found === "string") return new InterpolationError(found)
  return interpolate(found.sql, found.params, {
    noBackslashEscapes: !backslashes,
    timeZone: core.options.types.timeZone
  })
}

/**
 * Text SQL, pipelined when it can be. Text with parameters never is: its escaping depends on the
 * sql_mode that the commands before it leave, so it waits for their answers.
 */
export const textCommand = (
  core: ConnectionCore,
  sql: string,
  options: TextQueryOptions | undefined
): Effect.Effect<ReadonlyArray<Result>, MysqlError> => {
  const alone = () => core.run(queryResults(core, sql, options), options?.timeout, sql)
  if (!core.pipelinesText || options?.params !== undefined || Array.isArray(options)) return alone()
  return Effect.suspend(() => {
    const zone = zoneProblem(options)
    if (zone !== undefined) return argumentError(zone, sql)
    const framed = frameQuery(sql, core.session.capabilities)
    if (R.isFailure(framed)) return Effect.fail(framed.failure)
    return core.pipelined(
      () => framed.success,
      Effect.suspend(() => core.readResponse(core.reader(sql, options, undefined), sql)),
      alone,
      options?.timeout,
      sql
    )
  })
}
