/**
 * One of our connections as effect/sql's `Connection`. A statement with parameters goes as a
 * prepared statement (binary protocol, cached per connection); one without as COM_QUERY, one round
 * trip. `unprepared` sends text (several statements allowed) with its parameters written in.
 *
 * A statement answers its rows. Text with several statements (or a CALL, which answers its result
 * sets and then its status) answers one entry per result, in order: the rows of a result set, the
 * `Result` (affectedRows, insertId, …) of a result without columns. Nothing the server sent is
 * dropped.
 *
 * BIGINT values follow effect/sql's `SafeIntegers`: a `bigint` when it is set, otherwise a `number`
 * (a `bigint` still, for the values beyond 2^53 that a number would round).
 */
import type { ValueOptions } from "@effect-mysql/protocol"
import { Context, type Duration, Effect, Stream } from "effect"
import type * as Arr from "effect/Array"
import { SafeIntegers } from "effect/sql/SqlClient"
import type { Connection } from "effect/sql/SqlConnection"
import type { SqlError } from "effect/sql/SqlError"
import type { MysqlConnection, QueryOptions, TextQueryOptions } from "../MysqlConnection.ts"
import type { Result } from "../Result.ts"
import { multiRowInsert } from "./Batch.ts"
import { toSqlError } from "./SqlErrors.ts"

/**
 * The statement timeout of the statements run where it is provided, overriding the client's
 * `statementTimeout`; see `MysqlClient.withStatementTimeout`.
 */
export const StatementTimeout: Context.Reference<Duration.Input | undefined> = Context.Reference<
  Duration.Input | undefined
>("@effect-mysql/client/StatementTimeout", {
  defaultValue: () => undefined
})

type TransformRows = (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined
type Params = ReadonlyArray<never>

export class SqlConnectionAdapter implements Connection {
  readonly connection: MysqlConnection
  /** The `types` of the client; `bigint` applies only while SafeIntegers is off. */
  private readonly types: ValueOptions

  constructor(connection: MysqlConnection, types: ValueOptions) {
    this.connection = connection
    this.types = types
  }

  /** Value options for the current fiber's `SafeIntegers`, and its `StatementTimeout`. */
  private options<O extends QueryOptions>(extra: O): Effect.Effect<O> {
    return Effect.withFiber((fiber) => {
      const safe = fiber.getRef(SafeIntegers)
      const timeout = fiber.getRef(StatementTimeout)
      return Effect.succeed({
        ...extra,
        types: { ...this.types, bigint: safe ? "bigint" : (this.types.bigint ?? "number") },
        ...(timeout === undefined ? {} : { timeout })
      })
    })
  }

  /** Every result of the statement: prepared with parameters, COM_QUERY without. */
  private run(
    sql: string,
    params: ReadonlyArray<unknown>,
    extra: QueryOptions
  ): Effect.Effect<ReadonlyArray<Result>, SqlError> {
    return this.options(extra).pipe(
      Effect.flatMap((options) => {
        if (params.length === 0) return this.connection.queryAll(sql, options)
        // What `sql.insert(rows)` compiles to goes as a batch: bulk on MariaDB, and split at
        // max_allowed_packet instead of failing.
        const insert = multiRowInsert(sql, params as Params)
        return insert === undefined
          ? this.connection.executeAll(sql, params as Params, options)
          : Effect.map(this.connection.batch(insert.sql, insert.rows, options), (result) => [result])
      }),
      Effect.mapError((error) => toSqlError(error, "execute"))
    )
  }

  execute(sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) {
    return Effect.map(this.run(sql, params, {}), (results) => answer(results, transformRows))
  }

  executeRaw(sql: string, params: ReadonlyArray<unknown>) {
    return Effect.map(this.run(sql, params, {}), (results) => (results.length === 1 ? results[0]! : results))
  }

  executeValues(sql: string, params: ReadonlyArray<unknown>) {
    return Effect.map(
      this.run(sql, params, { rowShape: "array" }),
      (results) => answer(results, undefined) as ReadonlyArray<ReadonlyArray<unknown>>
    )
  }

  private runText(sql: string, params: ReadonlyArray<unknown>, extra: TextQueryOptions) {
    return this.options({ ...extra, params: params as Params }).pipe(
      Effect.flatMap((options) => this.connection.queryAll(sql, options)),
      Effect.mapError((error) => toSqlError(error, "executeUnprepared"))
    )
  }

  executeValuesUnprepared(sql: string, params: ReadonlyArray<unknown>) {
    return Effect.map(
      this.runText(sql, params, { rowShape: "array" }),
      (results) => answer(results, undefined) as ReadonlyArray<ReadonlyArray<unknown>>
    )
  }

  executeUnprepared(sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) {
    return Effect.map(this.runText(sql, params, {}), (results) => answer(results, transformRows))
  }

  executeStream(sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) {
    const rows = Stream.unwrap(
      Effect.map(this.options({}), (options) =>
        this.connection.stream(sql, params.length === 0 ? undefined : (params as Params), options)
      )
    ).pipe(Stream.mapError((error) => toSqlError(error, "executeStream")))
    return transformRows === undefined
      ? rows
      : Stream.mapArray(
          rows,
          (chunk) => transformRows(chunk as ReadonlyArray<object>) as Arr.NonEmptyReadonlyArray<object>
        )
  }
}

/**
 * The rows of a single result; for several, one entry per result in order: its rows when it has
 * columns, the `Result` itself otherwise.
 */
const answer = (results: ReadonlyArray<Result>, transformRows: TransformRows): ReadonlyArray<unknown> => {
  const rowsOf = (result: Result) => (transformRows === undefined ? result.rows : transformRows(result.rows))
  if (results.length === 1) return rowsOf(results[0]!)
  return results.map((result) => (result.columns.length > 0 ? rowsOf(result) : result))
}
