/**
 * One of our connections as effect/sql's `Connection`. A statement with parameters goes as a
 * prepared statement (binary protocol, cached per connection); one without as COM_QUERY, one round
 * trip. `unprepared` sends text (several statements allowed) with its parameters written in, and
 * so does every statement of a client made with `disablePreparedStatements`.
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
import { Context, type Duration, Effect, type Fiber, Stream } from "effect"
import type * as Arr from "effect/Array"
import { SafeIntegers } from "effect/sql/SqlClient"
import type { Connection } from "effect/sql/SqlConnection"
import type { SqlError } from "effect/sql/SqlError"
import type { MysqlError } from "../Errors.ts"
import type { MysqlConnection, QueryOptions } from "../MysqlConnection.ts"
import type { Result } from "../Result.ts"
import { multiRowInsert } from "./Batch.ts"
import type { OperationMetrics } from "./OperationMetrics.ts"
import { toSqlError } from "./SqlErrors.ts"
import { instrumentStatement, traceStream } from "./Telemetry.ts"

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

/** The options of a statement for one `SafeIntegers` setting: rows as objects or as arrays. */
interface Variant {
  readonly objects: QueryOptions
  readonly arrays: QueryOptions
}

/**
 * The options objects of a client's statements, made once: one per `SafeIntegers` setting and row
 * shape. Their `types` are frozen and stay the same objects, so the connection remembers each
 * statement's decoders for them (see `internal/ResultShapes.ts`); a fresh object per statement
 * would have it build them anew every time.
 */
export interface StatementOptions {
  readonly safeIntegers: Variant
  readonly numbers: Variant
}

/** The statement options for a client's `types`; `bigint` applies only while SafeIntegers is off. */
export const statementOptions = (types: ValueOptions): StatementOptions => {
  const variant = (bigint: NonNullable<ValueOptions["bigint"]>): Variant => {
    const frozen = Object.freeze({ ...types, bigint })
    return { objects: { types: frozen }, arrays: { rowShape: "array", types: frozen } }
  }
  return { safeIntegers: variant("bigint"), numbers: variant(types.bigint ?? "number") }
}

type Shape = keyof Variant

const executeError = (error: MysqlError) => toSqlError(error, "execute")
const unpreparedError = (error: MysqlError) => toSqlError(error, "executeUnprepared")

/** What every connection of a client shares: its statement options, its metrics, its protocol. */
export interface AdapterSettings {
  readonly statementOptions: StatementOptions
  readonly metrics: OperationMetrics
  /** Statements go as text with their values written in, never prepared. */
  readonly textOnly: boolean
}

export class SqlConnectionAdapter implements Connection {
  readonly connection: MysqlConnection
  private readonly settings: AdapterSettings

  constructor(connection: MysqlConnection, settings: AdapterSettings) {
    this.connection = connection
    this.settings = settings
  }

  /** The options for the fiber's `SafeIntegers` and `StatementTimeout`; allocated only for a timeout. */
  private options(fiber: Fiber.Fiber<unknown, unknown>, shape: Shape): QueryOptions {
    const { statementOptions } = this.settings
    const variant = fiber.getRef(SafeIntegers) ? statementOptions.safeIntegers : statementOptions.numbers
    const timeout = fiber.getRef(StatementTimeout)
    return timeout === undefined ? variant[shape] : { ...variant[shape], timeout }
  }

  /** Every result of the statement: prepared with parameters, COM_QUERY without. */
  private run(
    sql: string,
    params: ReadonlyArray<unknown>,
    shape: Shape
  ): Effect.Effect<ReadonlyArray<Result>, SqlError> {
    if (this.settings.textOnly) return this.runText(sql, params, shape, executeError)
    return Effect.withFiber((fiber) =>
      this.instrument(fiber, sql, this.runWith(sql, params, this.options(fiber, shape)))
    )
  }

  private instrument<A>(fiber: Fiber.Fiber<unknown, unknown>, sql: string, effect: Effect.Effect<A, SqlError>) {
    return instrumentStatement(fiber, sql, this.connection.info, this.settings.metrics, effect)
  }

  private runWith(
    sql: string,
    params: ReadonlyArray<unknown>,
    options: QueryOptions
  ): Effect.Effect<ReadonlyArray<Result>, SqlError> {
    if (params.length === 0) return Effect.mapError(this.connection.queryAll(sql, options), executeError)
    // What `sql.insert(rows)` compiles to goes as a batch: bulk on MariaDB, and split at
    // max_allowed_packet instead of failing.
    const insert = multiRowInsert(sql, params as Params)
    return Effect.mapError(
      insert === undefined
        ? this.connection.executeAll(sql, params as Params, options)
        : Effect.map(this.connection.batch(insert.sql, insert.rows, options), (result) => [result]),
      executeError
    )
  }

  execute(sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) {
    return Effect.map(this.run(sql, params, "objects"), (results) => answer(results, transformRows))
  }

  executeRaw(sql: string, params: ReadonlyArray<unknown>) {
    return Effect.map(this.run(sql, params, "objects"), (results) => (results.length === 1 ? results[0]! : results))
  }

  executeValues(sql: string, params: ReadonlyArray<unknown>) {
    return Effect.map(
      this.run(sql, params, "arrays"),
      (results) => answer(results, undefined) as ReadonlyArray<ReadonlyArray<unknown>>
    )
  }

  private runText(
    sql: string,
    params: ReadonlyArray<unknown>,
    shape: Shape,
    onError: (error: MysqlError) => SqlError = unpreparedError
  ) {
    return Effect.withFiber((fiber) =>
      this.instrument(
        fiber,
        sql,
        Effect.mapError(
          this.connection.queryAll(sql, { ...this.options(fiber, shape), params: params as Params }),
          onError
        )
      )
    )
  }

  executeValuesUnprepared(sql: string, params: ReadonlyArray<unknown>) {
    return Effect.map(
      this.runText(sql, params, "arrays"),
      (results) => answer(results, undefined) as ReadonlyArray<ReadonlyArray<unknown>>
    )
  }

  executeUnprepared(sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) {
    return Effect.map(this.runText(sql, params, "objects"), (results) => answer(results, transformRows))
  }

  executeStream(sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) {
    const rows = Stream.unwrap(
      Effect.withFiber((fiber) => {
        const failed = traceStream(fiber, sql, this.connection.info)
        const options = this.options(fiber, "objects")
        const stream = this.settings.textOnly
          ? this.connection.stream(sql, undefined, { ...options, params: params as Params })
          : this.connection.stream(sql, params.length === 0 ? undefined : (params as Params), options)
        return Effect.succeed(
          Stream.mapError(stream, (error) => {
            const sqlError = toSqlError(error, "executeStream")
            failed?.(sqlError)
            return sqlError
          })
        )
      })
    )
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
