/**
 * A batch: one statement run for many rows of parameters, answered as one `Result`.
 *
 * How the rows go, in order of preference:
 *
 * 1. MariaDB with MARIADB_CLIENT_STMT_BULK_OPERATIONS: the statement is prepared once and the rows
 *    go in COM_STMT_BULK_EXECUTE packets, each within the server's `max_allowed_packet` and one
 *    protocol packet (16 MiB), and a new one where a row's parameter types change. One round trip
 *    per packet.
 * 2. Otherwise, a plain `INSERT … VALUES (?, …)`: rewritten as multi-row `INSERT … VALUES (…), (…)`
 *    text with the values written in (escaped as for `query`'s `params`), each statement within
 *    `max_allowed_packet`.
 * 3. Otherwise (an UPDATE, a statement returning rows): the prepared statement executed per row.
 *
 * Rows of unequal length and values with no SQL form are refused before anything is sent. Rows go
 * in order and the batch stops at the first failure. A batch is all or nothing, as the one
 * statement it stands for would be: one command is atomic by itself, and a batch that takes several
 * runs them in a transaction of its own (BEGIN … COMMIT, ROLLBACK at a failure) unless the
 * connection is in one already, whose fate is then the caller's.
 */
import { ColumnType, ComStmtBulkExecute, ComStmtExecute, type FramedPacket } from "@effect-mysql/protocol"
import { Effect, Result as R } from "effect"
import { ArgumentError, type MysqlError } from "../Errors.ts"
import type { Result } from "../Result.ts"
import { InterpolationError, type InterpolationOptions, literal } from "./Interpolation.ts"
import type { Statement } from "./StatementCache.ts"

type ParameterValue = ComStmtExecute.ParameterValue
type Rows = ReadonlyArray<ReadonlyArray<ParameterValue>>

/** What a batch uses of its connection, all within the one command the connection runs alone. */
export interface BatchSteps {
  /** MARIADB_CLIENT_STMT_BULK_OPERATIONS was negotiated. */
  readonly bulk: boolean
  /** The server's `max_allowed_packet`. */
  readonly maxAllowedPacket: Effect.Effect<number, MysqlError>
  /** Runs `use` with the prepared statement of `sql` (closing it after if the cache does not keep it). */
  readonly withStatement: <A>(
    sql: string,
    use: (statement: Statement) => Effect.Effect<A, MysqlError>
  ) => Effect.Effect<A, MysqlError>
  /** Sends a command of the statement and reads its response. */
  readonly command: (framed: FramedPacket, statement: Statement) => Effect.Effect<Result, MysqlError>
  /** Executes the statement once. */
  readonly execute: (statement: Statement, params: ReadonlyArray<ParameterValue>) => Effect.Effect<Result, MysqlError>
  /** Runs text SQL. */
  readonly query: (sql: string) => Effect.Effect<Result, MysqlError>
  /** Runs `commands` in a transaction of their own, unless the connection is in one already. */
  readonly atomically: <A>(commands: Effect.Effect<A, MysqlError>) => Effect.Effect<A, MysqlError>
  /** How values are written into text for the session's sql_mode and time zone. */
  readonly literals: () => InterpolationOptions
  readonly timeZone: string | undefined
}

/** Runs `sql` once per row of `rows`; see the module doc. */
export const runBatch = (steps: BatchSteps, sql: string, rows: Rows): Effect.Effect<Result, MysqlError> =>
  Effect.suspend(() => {
    const refused = checkRows(sql, rows)
    if (refused !== undefined) return Effect.fail(refused)
    if (rows.length === 0) return Effect.succeed(combine([]))
    const width = rows[0]!.length
    const insert = steps.bulk ? undefined : simpleInsert(sql)
    if (insert !== undefined && insert.placeholders === width) return rewritten(steps, insert.prefix, rows)
    return steps.withStatement(sql, (statement) => {
      if (statement.params.length !== width) {
        return argumentFailure(`the statement has ${statement.params.length} parameter(s), rows have ${width}`, sql)
      }
      // MariaDB refuses bulk execution of a statement that returns rows.
      return steps.bulk && statement.columns.length === 0
        ? bulk(steps, statement, widenNumbers(rows))
        : perRow(steps, statement, rows)
    })
  })

/** Unequal rows, or a value with no SQL form: the caller's mistake, found before anything is sent. */
const checkRows = (sql: string, rows: Rows): ArgumentError | undefined => {
  if (!Array.isArray(rows)) return new ArgumentError({ message: "batch takes its rows as an array of arrays", sql })
  const width = rows[0]?.length ?? 0
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]
    if (!Array.isArray(row)) return new ArgumentError({ message: `row ${r + 1} is not an array of values`, sql })
    if (row.length !== width) {
      return new ArgumentError({ message: `row ${r + 1} has ${row.length} value(s), row 1 has ${width}`, sql })
    }
    for (let i = 0; i < width; i++) {
      const problem = ComStmtExecute.parameterProblem(row[i])
      if (problem !== undefined) {
        return new ArgumentError({ message: `row ${r + 1}, parameter ${i + 1}: ${problem}`, sql, position: i + 1 })
      }
    }
  }
  return undefined
}

const argumentFailure = (message: string, sql: string): Effect.Effect<never, ArgumentError> =>
  Effect.fail(new ArgumentError({ message, sql }))

/** The rows in COM_STMT_BULK_EXECUTE packets, one command after another. */
const bulk = (steps: BatchSteps, statement: Statement, rows: Rows): Effect.Effect<Result, MysqlError> =>
  Effect.flatMap(steps.maxAllowedPacket, (maxPayload) => {
    const results: Array<Result> = []
    const options = steps.timeZone === undefined ? { maxPayload } : { maxPayload, timeZone: steps.timeZone }
    const frame = (start: number) => ComStmtBulkExecute.frameFrom({ statementId: statement.id, rows }, start, options)
    const send = (packet: ComStmtBulkExecute.BulkPacket): Effect.Effect<Result, MysqlError> =>
      Effect.flatMap(steps.command(packet.framed, statement), (result) => {
        results.push(result)
        return from(packet.end)
      })
    const from = (start: number): Effect.Effect<Result, MysqlError> => {
      if (start === rows.length) return Effect.succeed(combine(results))
      const packet = frame(start)
      // What the encoder refuses (a row larger than max_allowed_packet, a typed value out of its
      // type's range) is the caller's argument, not a broken connection.
      return R.isFailure(packet) ? argumentFailure(packet.failure.message, statement.sql) : send(packet.success)
    }
    const first = frame(0)
    if (R.isFailure(first)) return argumentFailure(first.failure.message, statement.sql)
    // A framed packet lives in the encoder's buffer until it is sent: the BEGIN of a batch of several
    // commands is written first, and the rows framed again after it.
    return first.success.end < rows.length ? steps.atomically(Effect.suspend(() => from(0))) : send(first.success)
  })

/**
 * The rows with the numbers of a column that holds both integers and fractions sent as DOUBLE (an
 * integer below 2^53 is exact as one): otherwise a bulk packet would end at each change of type,
 * and a batch that fits one command would take several.
 */
const widenNumbers = (rows: Rows): Rows => {
  const width = rows[0]!.length
  const mixed: Array<number> = []
  for (let i = 0; i < width; i++) {
    let integers = false
    let fractions = false
    for (const row of rows) {
      const v = row[i]
      if (typeof v !== "number") continue
      if (Number.isSafeInteger(v)) integers = true
      else fractions = true
    }
    if (integers && fractions) mixed.push(i)
  }
  if (mixed.length === 0) return rows
  return rows.map((row) => {
    const widened = row.slice()
    for (const i of mixed) {
      const v = row[i]
      if (typeof v === "number") widened[i] = ComStmtExecute.typedParameter(ColumnType.DOUBLE, v)
    }
    return widened
  })
}

/** The statement executed once per row. */
const perRow = (steps: BatchSteps, statement: Statement, rows: Rows): Effect.Effect<Result, MysqlError> => {
  const all = Effect.map(
    Effect.forEach(rows, (row) => steps.execute(statement, row)),
    combine
  )
  return rows.length > 1 ? steps.atomically(all) : all
}

/** Multi-row INSERT text, each statement within max_allowed_packet. */
const rewritten = (steps: BatchSteps, prefix: string, rows: Rows): Effect.Effect<Result, MysqlError> =>
  Effect.flatMap(steps.maxAllowedPacket, (maxAllowed) => {
    const options = steps.literals()
    const tuples: Array<string> = []
    for (const row of rows) {
      const tuple = tupleOf(row, options)
      if (tuple instanceof InterpolationError) return argumentFailure(tuple.message, prefix)
      tuples.push(tuple)
    }
    const statements = packed(prefix, tuples, maxAllowed - 1) // the command byte
    if (typeof statements === "string") return argumentFailure(statements, prefix)
    const all = Effect.map(Effect.forEach(statements, steps.query), combine)
    return statements.length > 1 ? steps.atomically(all) : all
  })

const tupleOf = (row: ReadonlyArray<ParameterValue>, options: InterpolationOptions): string | InterpolationError => {
  let tuple = "("
  for (let i = 0; i < row.length; i++) {
    const value = literal(row[i], options)
    if (value instanceof InterpolationError) return value
    tuple += i === 0 ? value : `,${value}`
  }
  return `${tuple})`
}

/** `prefix` followed by as many tuples as fit in `limit` bytes, as many times as it takes. */
const packed = (prefix: string, tuples: ReadonlyArray<string>, limit: number): ReadonlyArray<string> | string => {
  const prefixBytes = utf8Length(prefix)
  const statements: Array<string> = []
  let current: Array<string> = []
  let bytes = prefixBytes
  for (const tuple of tuples) {
    const size = utf8Length(tuple) + 1 // and its comma
    if (prefixBytes + size > limit) {
      return `a row takes ${size} bytes of SQL, more than max_allowed_packet (${limit + 1}) allows`
    }
    if (bytes + size > limit) {
      statements.push(prefix + current.join(","))
      current = []
      bytes = prefixBytes
    }
    current.push(tuple)
    bytes += size
  }
  if (current.length > 0) statements.push(prefix + current.join(","))
  return statements
}

/** The UTF-8 length of `text`, without encoding it. */
const utf8Length = (text: string): number => {
  let n = text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    // 2 bytes below U+0800, 3 above, 4 for a surrogate pair (two units)
    if (c >= 0x80) n += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2
  }
  return n
}

/**
 * `INSERT … VALUES (?, …, ?)` and nothing after it, nothing quoted and no comment before it (where a
 * `?` or a `VALUES` could hide): the statements a multi-row INSERT can replace.
 */
const SIMPLE_INSERT = /^(\s*(?:INSERT|REPLACE)\s[^?'"#;]*?\sVALUES?\s*)\(\s*\?(\s*,\s*\?)*\s*\)\s*;?\s*$/i

export const simpleInsert = (sql: string): { readonly prefix: string; readonly placeholders: number } | undefined => {
  const match = SIMPLE_INSERT.exec(sql)
  if (match === null || /--|\/\*/.test(match[1]!)) return undefined
  const tuple = sql.slice(match[1]!.length)
  return { prefix: match[1]!, placeholders: tuple.split("?").length - 1 }
}

/**
 * The single-row statement and rows of a multi-row `INSERT … VALUES (?, ?), (?, ?), …` (what
 * effect/sql's `sql.insert(rows)` compiles to), so that it runs as a batch: split at
 * `max_allowed_packet` instead of failing with ER_NET_PACKET_TOO_LARGE, and past the 65,535
 * placeholders a prepared statement may have.
 */
const INSERT_START = /^\s*(?:INSERT|REPLACE)\s/i

export const multiRowInsert = (
  sql: string,
  params: ReadonlyArray<ParameterValue>
): { readonly sql: string; readonly rows: Rows } | undefined => {
  // Every prepared statement of the SqlClient passes here: an anchored test first, then the
  // "),(" between two tuples, which a single-row INSERT does not have.
  if (!INSERT_START.test(sql) || !sql.includes("),(")) return undefined
  const at = sql.search(/\sVALUES\s*\(/i)
  if (at === -1) return undefined
  const open = sql.indexOf("(", at)
  const close = sql.indexOf(")", open)
  const tuple = sql.slice(open, close + 1)
  const single = simpleInsert(sql.slice(0, close + 1))
  if (single === undefined || single.placeholders === 0) return undefined
  const width = single.placeholders
  if (params.length % width !== 0 || params.length === width) return undefined
  // Every further tuple must be the first again, and nothing else may follow.
  const count = params.length / width
  const rest = sql.slice(close + 1)
  if (rest.length !== (count - 1) * (tuple.length + 1) || rest !== `,${tuple}`.repeat(count - 1)) return undefined
  const rows: Array<ReadonlyArray<ParameterValue>> = []
  for (let i = 0; i < params.length; i += width) rows.push(params.slice(i, i + width))
  return { sql: sql.slice(0, close + 1), rows }
}

/**
 * The results of a batch's commands as one: affected and changed rows and warnings summed, the
 * first insert id (the id of the first row inserted, as a multi-row INSERT answers), rows
 * concatenated, the status of the last.
 */
export const combine = (results: ReadonlyArray<Result>): Result => {
  let affectedRows: number | bigint = 0
  let insertId: number | bigint = 0
  let changedRows = 0
  let warningCount = 0
  for (const result of results) {
    affectedRows =
      typeof affectedRows === "bigint" || typeof result.affectedRows === "bigint"
        ? BigInt(affectedRows) + BigInt(result.affectedRows)
        : affectedRows + result.affectedRows
    if (insertId === 0 || insertId === 0n) insertId = result.insertId
    changedRows += result.changedRows
    warningCount += result.warningCount
  }
  const last = results.at(-1)
  return {
    columns: results[0]?.columns ?? [],
    rows: results.length === 1 ? results[0]!.rows : results.flatMap((result) => result.rows),
    affectedRows,
    insertId,
    changedRows,
    warningCount,
    statusFlags: last?.statusFlags ?? 0,
    info: last?.info ?? "",
    sessionStateChanges: results.flatMap((result) => result.sessionStateChanges)
  }
}
