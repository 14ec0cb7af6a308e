/**
 * Prepared statements (binary protocol): COM_STMT_PREPARE, COM_STMT_EXECUTE and COM_STMT_CLOSE,
 * the per-connection statement cache they go through, `execute` / `executeAll` (pipelined once a
 * statement is prepared) and `prepare` (a statement kept for the life of a scope). Streams and
 * batches take their statements from here too.
 */
import {
  ComStmtClose,
  ComStmtExecute,
  ComStmtPrepare,
  decodePrepareResponse,
  decodeStmtPrepareResponse,
  type FramedPacket,
  packetsAfterPrepareOk
} from "@effect-mysql/protocol"
import { Effect, Result as R, type Scope } from "effect"
import type { ArgumentError, MysqlError } from "../Errors.ts"
import type { PreparedStatement, QueryOptions } from "../MysqlConnection.ts"
import type { Result } from "../Result.ts"
import { argumentError, type ConnectionCore, zoneProblem } from "./ConnectionCore.ts"
import { StatementShapes } from "./ResultShapes.ts"
import { toServerError } from "./ServerErrors.ts"
import type { Statement } from "./StatementCache.ts"

type ParameterValue = ComStmtExecute.ParameterValue

/** COM_STMT_PREPARE and its response: the OK, then parameter and column definitions. */
const prepareStatement = (core: ConnectionCore, sql: string): Effect.Effect<Statement, MysqlError> =>
  Effect.gen(function* () {
    const caps = core.session.capabilities
    yield* core.wire.sendCommand(yield* Effect.fromResult(ComStmtPrepare.encode({ query: sql }, caps)))
    const first = yield* core.wire.nextPayload
    const ok = yield* Effect.fromResult(decodePrepareResponse(first, caps))
    if (ok._tag === "ErrPacket") return yield* Effect.fail(toServerError(ok, core.session.serverVersion.flavor, sql))
    const payloads = [first]
    for (let n = packetsAfterPrepareOk(ok, caps); n > 0; n--) payloads.push(yield* core.wire.nextPayload)
    const response = yield* Effect.fromResult(decodeStmtPrepareResponse(payloads, caps))
    return {
      id: ok.statementId,
      sql,
      params: response.params,
      columns: response.columns,
      shapes: new StatementShapes(sql)
    }
  })

const closeStatement = (core: ConnectionCore, statement: Statement): Effect.Effect<void, MysqlError> =>
  // COM_STMT_CLOSE has no response.
  Effect.flatMap(Effect.fromResult(ComStmtClose.encode({ statementId: statement.id })), (payload) =>
    core.wire.sendCommand(payload)
  )

/** The cached statement for `sql`, prepared on first use; evicted statements are closed. */
export const cachedStatement = (core: ConnectionCore, sql: string): Effect.Effect<Statement, MysqlError> =>
  Effect.suspend(() => {
    const cached = core.statements.get(sql)
    if (cached !== undefined) return Effect.succeed(cached)
    return Effect.tap(prepareStatement(core, sql), (statement) =>
      Effect.forEach(core.statements.set(statement), (evicted) =>
        evicted === statement ? Effect.void : closeStatement(core, evicted)
      )
    )
  })

/** The COM_STMT_EXECUTE of `params`, or the ArgumentError that refuses them; nothing is sent. */
export const executePacket = (
  core: ConnectionCore,
  statement: Statement,
  params: ReadonlyArray<ParameterValue>
): Effect.Effect<FramedPacket, ArgumentError> =>
  Effect.suspend((): Effect.Effect<FramedPacket, ArgumentError> => {
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
    const timeZone = core.options.types.timeZone
    const framed = ComStmtExecute.frame(
      { statementId: statement.id, parameters: params },
      timeZone === undefined ? {} : { timeZone }
    )
    // A value the encoder refuses (a typed parameter out of its type's range) is the caller's
    // argument, not a broken connection.
    if (R.isFailure(framed)) return argumentError(framed.failure.message, statement.sql)
    return Effect.succeed(framed.success)
  })

const sendExecute = (
  core: ConnectionCore,
  statement: Statement,
  params: ReadonlyArray<ParameterValue>
): Effect.Effect<void, MysqlError> =>
  Effect.flatMap(executePacket(core, statement, params), (packet) => core.wire.write(packet))

/** The ArgumentError that refuses an execution's values or options before anything is sent; undefined when they are usable. */
const refusedArguments = (
  sql: string,
  params: ReadonlyArray<ParameterValue>,
  options: QueryOptions | undefined
): Effect.Effect<never, ArgumentError> | undefined => {
  if (!Array.isArray(params)) {
    return argumentError("execute takes its values as an array: execute(sql, [value, …], options)", sql)
  }
  const zone = zoneProblem(options)
  return zone === undefined ? undefined : argumentError(zone, sql)
}

const executeResults = (
  core: ConnectionCore,
  sql: string,
  params: ReadonlyArray<ParameterValue>,
  options: QueryOptions | undefined
): Effect.Effect<ReadonlyArray<Result>, MysqlError> => {
  const refused = refusedArguments(sql, params, options)
  if (refused !== undefined) return refused
  return Effect.flatMap(cachedStatement(core, sql), (statement) =>
    closingUncached(
      core,
      statement,
      Effect.andThen(sendExecute(core, statement, params), core.readResponse(core.reader(sql, options, statement), sql))
    )
  )
}

/**
 * Runs `execution` of a statement the cache did not keep (`statementCacheSize: 0`), then closes
 * it, whether it succeeded or the server refused it; a broken connection took it with it.
 */
export const closingUncached = <A>(
  core: ConnectionCore,
  statement: Statement,
  execution: Effect.Effect<A, MysqlError>
): Effect.Effect<A, MysqlError> => {
  if (core.statements.holds(statement)) return execution
  return Effect.onExit(execution, () => closeUncached(core, statement))
}

export const closeUncached = (core: ConnectionCore, statement: Statement): Effect.Effect<void> =>
  Effect.suspend(() =>
    core.broken !== undefined || core.statements.holds(statement)
      ? Effect.void
      : Effect.ignore(core.guard(closeStatement(core, statement)))
  )

/**
 * A prepared statement's execution, pipelined when the statement is prepared already; a first
 * execution prepares it alone on the connection (the prepare's answer names the statement).
 */
export const executeCommand = (
  core: ConnectionCore,
  sql: string,
  params: ReadonlyArray<ParameterValue>,
  options: QueryOptions | undefined
): Effect.Effect<ReadonlyArray<Result>, MysqlError> => {
  const alone = () => core.run(executeResults(core, sql, params, options), options?.timeout, sql)
  return Effect.suspend(() => {
    const cached = core.pipelinesExecute ? core.statements.get(sql) : undefined
    if (cached === undefined) return alone()
    const refused = refusedArguments(sql, params, options)
    if (refused !== undefined) return refused
    return Effect.flatMap(executePacket(core, cached, params), (framed) =>
      core.pipelined(
        // Evicted meanwhile (and closed by the command that evicted it): prepared again, alone.
        () => (core.statements.holds(cached) ? framed : undefined),
        Effect.suspend(() => core.readResponse(core.reader(sql, options, cached), sql)),
        alone,
        options?.timeout,
        sql
      )
    )
  })
}

/** A statement prepared for explicit reuse, closed with the scope (unless the connection failed). */
export const prepare = (core: ConnectionCore, sql: string): Effect.Effect<PreparedStatement, MysqlError, Scope.Scope> =>
  Effect.acquireRelease(core.run(prepareStatement(core, sql)), (statement) =>
    core.broken === undefined ? Effect.ignore(core.run(closeStatement(core, statement))) : Effect.void
  ).pipe(
    Effect.map(
      (statement): PreparedStatement => ({
        sql,
        parameters: statement.params,
        columns: statement.columns,
        execute: (params = [], options) =>
          refusedArguments(sql, params, options) ??
          core.run(
            Effect.gen(function* () {
              yield* sendExecute(core, statement, params)
              const results = yield* core.readResponse(core.reader(sql, options, statement), sql)
              return results[0]!
            }),
            options?.timeout,
            sql
          )
      })
    )
  )
