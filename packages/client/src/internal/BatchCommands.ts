/**
 * A connection's `batch`: the steps `Batch.ts` plans a batch with (`BatchSteps`), made of the
 * connection's text and prepared commands, and the batch run as one command alone on the
 * connection. `Batch.ts` decides how the rows go; this module only lends it the connection.
 */
import {
  type ComStmtExecute,
  type FramedPacket,
  hasMariaDb,
  MariaDbCapability,
  StatusFlag
} from "@effect-mysql/protocol"
import { Effect } from "effect"
import type { MysqlError } from "../Errors.ts"
import type { BatchOptions } from "../MysqlConnection.ts"
import type { Result } from "../Result.ts"
import { type BatchSteps, runBatch } from "./Batch.ts"
import type { ConnectionCore } from "./ConnectionCore.ts"
import { cachedStatement, closingUncached, executePacket } from "./PreparedCommands.ts"
import type { Statement } from "./StatementCache.ts"
import { queryResults } from "./TextCommands.ts"

type ParameterValue = ComStmtExecute.ParameterValue

export const batch = (
  core: ConnectionCore,
  sql: string,
  rows: ReadonlyArray<ReadonlyArray<ParameterValue>>,
  options: BatchOptions | undefined
): Effect.Effect<Result, MysqlError> => core.run(runBatch(batchSteps(core), sql, rows), options?.timeout, sql)

const batchSteps = (core: ConnectionCore): BatchSteps => {
  const command = (framed: FramedPacket, statement: Statement) =>
    Effect.andThen(
      core.wire.write(framed),
      Effect.map(core.readResponse(core.reader(statement.sql, undefined, statement), statement.sql), (r) => r[0]!)
    )
  return {
    bulk: hasMariaDb(core.session.capabilities, MariaDbCapability.MARIADB_CLIENT_STMT_BULK_OPERATIONS),
    maxAllowedPacket: Effect.suspend(() =>
      core.maxAllowedPacket !== undefined
        ? Effect.succeed(core.maxAllowedPacket)
        : Effect.map(queryResults(core, "SELECT @@max_allowed_packet AS m", undefined), (results) => {
            core.maxAllowedPacket = Number(results[0]!.rows[0]!.m)
            return core.maxAllowedPacket
          })
    ),
    withStatement: (sql, use) =>
      Effect.flatMap(cachedStatement(core, sql), (statement) => closingUncached(core, statement, use(statement))),
    command,
    execute: (statement, params) =>
      Effect.flatMap(executePacket(core, statement, params), (framed) => command(framed, statement)),
    // Types of its own (a copy: the connection's own object would be remembered) keep each text,
    // used once, out of the cache of result shapes.
    query: (text) =>
      Effect.map(queryResults(core, text, { types: { ...core.options.types } }), (results) => results[0]!),
    atomically: (commands) =>
      Effect.suspend(() => {
        if (core.inTransaction) return commands
        const text = (sql: string) => queryResults(core, sql, undefined)
        return Effect.andThen(
          text("BEGIN"),
          Effect.matchCauseEffect(commands, {
            onSuccess: (value) => Effect.as(text("COMMIT"), value),
            onFailure: (cause) => Effect.andThen(Effect.ignore(text("ROLLBACK")), Effect.failCause(cause))
          })
        )
      }),
    literals: () => ({
      noBackslashEscapes: (core.statusFlags & StatusFlag.SERVER_STATUS_NO_BACKSLASH_ESCAPES) !== 0,
      timeZone: core.options.types.timeZone
    }),
    timeZone: core.options.types.timeZone
  }
}
