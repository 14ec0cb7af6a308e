/**
 * What the fake server answers to a statement, and the packets that carry the answer: a result set
 * (text rows for COM_QUERY, binary rows for COM_STMT_EXECUTE), an OK, or an ERR. The built-in
 * answers cover what connection tests run: `SELECT 1`, `SELECT 'text'`, `SELECT ?`,
 * `SELECT CURRENT_USER()`, each with an optional `AS name`.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset.html
 *        https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_binary_resultset.html
 */
import {
  Capability,
  type CapabilitySet,
  ColumnCount,
  type ColumnDefinition,
  ColumnDefinition41,
  ColumnFlag,
  ColumnType,
  type ComStmtExecute,
  EofPacket,
  ErrPacket,
  hasFlag,
  makeBinaryRowEncoder,
  makeColumnDefinition,
  makeOkPacket,
  makeTextRowEncoder,
  OkPacket,
  type ProtocolError,
  type SessionStateChange,
  StatusFlag
} from "@effect-mysql/protocol"
import { Result } from "effect"

type TypedParameter = ComStmtExecute.TypedParameter

/** A result set: column definitions and rows (values in column order; `null` is SQL NULL). */
export interface FakeResultSet {
  readonly _tag: "ResultSet"
  readonly columns: ReadonlyArray<ColumnDefinition>
  readonly rows: ReadonlyArray<ReadonlyArray<unknown>>
}

export interface FakeOk {
  readonly _tag: "Ok"
  readonly affectedRows?: number
  readonly lastInsertId?: number
  readonly info?: string
  /** Session-state changes (a commit's GTIDs, a tracked variable), sent with SERVER_SESSION_STATE_CHANGED. */
  readonly sessionStateChanges?: ReadonlyArray<SessionStateChange>
}

export interface FakeError {
  readonly _tag: "Error"
  readonly errno: number
  readonly sqlState: string
  readonly message: string
}

export type FakeAnswer = FakeResultSet | FakeOk | FakeError

/** What a statement is answered from. */
export interface StatementContext {
  /** The authenticated user. */
  readonly user: string
  /** The id the greeting gave this connection (what CONNECTION_ID() answers). */
  readonly connectionId: number
  /** COM_STMT_EXECUTE's parameters (none for COM_QUERY). */
  readonly parameters: ReadonlyArray<TypedParameter>
}

/**
 * Answers a statement, or `undefined` to leave it to the built-in answers (and, failing those, an
 * ERR 1064).
 */
export type StatementHandler = (sql: string, context: StatementContext) => FakeAnswer | undefined

const UTF8MB4_GENERAL_CI = 45

const bigintColumn = (name: string) =>
  makeColumnDefinition({
    name,
    type: ColumnType.LONGLONG,
    columnLength: 21,
    flags: ColumnFlag.NOT_NULL | ColumnFlag.BINARY | ColumnFlag.NUM
  })

const textColumn = (name: string, length: number) =>
  makeColumnDefinition({
    name,
    type: ColumnType.VAR_STRING,
    collation: UTF8MB4_GENERAL_CI,
    columnLength: length * 4,
    flags: ColumnFlag.NOT_NULL
  })

const single = (column: ColumnDefinition, value: unknown): FakeResultSet => ({
  _tag: "ResultSet",
  columns: [column],
  rows: [[value]]
})

/** The column a parameter echoes into: its own wire type. */
const parameterColumn = (name: string, parameter: TypedParameter): ColumnDefinition =>
  makeColumnDefinition({
    name,
    type: parameter.type,
    flags: parameter.unsigned ? ColumnFlag.UNSIGNED : 0,
    collation: typeof parameter.value === "string" ? UTF8MB4_GENERAL_CI : 63
  })

const SELECT = /^\s*SELECT\s+(.+?)(?:\s+AS\s+`?(\w+)`?)?\s*;?\s*$/i

/** The built-in answers; anything else is a syntax error, as a server would say. */
export const builtInAnswer = (sql: string, context: StatementContext): FakeAnswer => {
  // Transactions are accepted and not kept: the fake server holds no data to roll back.
  if (/^\s*(BEGIN|START TRANSACTION|COMMIT|ROLLBACK)\s*$/i.test(sql)) return { _tag: "Ok" }
  const match = SELECT.exec(sql)
  const expression = match?.[1] ?? ""
  const alias = match?.[2]
  if (/^CURRENT_USER\(\)$/i.test(expression)) {
    const value = `${context.user}@%`
    return single(textColumn(alias ?? "CURRENT_USER()", value.length), value)
  }
  if (/^-?\d+$/.test(expression)) return single(bigintColumn(alias ?? expression), BigInt(expression))
  const text = /^'([^'\\]*)'$/.exec(expression)
  if (text !== null) return single(textColumn(alias ?? text[1]!, text[1]!.length), text[1])
  if (expression === "?" && context.parameters.length === 1) {
    const parameter = context.parameters[0]!
    return single(parameterColumn(alias ?? "?", parameter), parameter.value)
  }
  return {
    _tag: "Error",
    errno: 1064,
    sqlState: "42000",
    message: `You have an error in your SQL syntax (the fake server does not know this statement): ${sql}`
  }
}

/** The number of `?` placeholders outside quoted strings. */
export const placeholderCount = (sql: string): number =>
  sql.replace(/'[^']*'|"[^"]*"|`[^`]*`/g, "").split("?").length - 1

/** The payloads of `answer`, rows encoded as the protocol asks (`binary` for COM_STMT_EXECUTE). */
export const answerPayloads = (
  answer: FakeAnswer,
  caps: CapabilitySet,
  binary: boolean
): Result.Result<ReadonlyArray<Uint8Array>, ProtocolError> => {
  if (answer._tag === "Ok") {
    return Result.map(
      OkPacket.encode(
        makeOkPacket({
          affectedRows: answer.affectedRows ?? 0,
          lastInsertId: answer.lastInsertId ?? 0,
          info: answer.info ?? "",
          ...(answer.sessionStateChanges === undefined
            ? {}
            : {
                statusFlags: StatusFlag.SERVER_STATUS_AUTOCOMMIT | StatusFlag.SERVER_SESSION_STATE_CHANGED,
                sessionStateChanges: answer.sessionStateChanges
              })
        }),
        caps
      ),
      (ok) => [ok]
    )
  }
  if (answer._tag === "Error") {
    return Result.map(
      ErrPacket.encode({ errorCode: answer.errno, sqlState: answer.sqlState, errorMessage: answer.message }, caps),
      (err) => [err]
    )
  }
  return resultSetPayloads(answer, caps, binary)
}

const resultSetPayloads = (
  answer: FakeResultSet,
  caps: CapabilitySet,
  binary: boolean
): Result.Result<ReadonlyArray<Uint8Array>, ProtocolError> => {
  const deprecateEof = hasFlag(caps.capabilities, Capability.CLIENT_DEPRECATE_EOF)
  const status = StatusFlag.SERVER_STATUS_AUTOCOMMIT
  const out: Array<Uint8Array> = []
  const push = (result: Result.Result<Uint8Array, ProtocolError>): ProtocolError | undefined => {
    if (Result.isFailure(result)) return result.failure
    out.push(result.success)
    return undefined
  }
  const steps: Array<() => Result.Result<Uint8Array, ProtocolError>> = [
    () => ColumnCount.encode({ columnCount: answer.columns.length }, caps),
    ...answer.columns.map((column) => () => ColumnDefinition41.encode(column, caps)),
    ...(deprecateEof ? [] : [() => EofPacket.encode({ warnings: 0, statusFlags: status }, caps)])
  ]
  for (const step of steps) {
    const failure = push(step())
    if (failure !== undefined) return Result.fail(failure)
  }
  const rowEncoder = binary ? makeBinaryRowEncoder(answer.columns) : makeTextRowEncoder(answer.columns)
  if (Result.isFailure(rowEncoder)) return Result.fail(rowEncoder.failure)
  for (const row of answer.rows) {
    const failure = push(rowEncoder.success.encode(row))
    if (failure !== undefined) return Result.fail(failure)
  }
  const end = deprecateEof
    ? OkPacket.encode(makeOkPacket({ header: 0xfe, statusFlags: status }), caps)
    : EofPacket.encode({ warnings: 0, statusFlags: status }, caps)
  const failure = push(end)
  return failure === undefined ? Result.succeed(out) : Result.fail(failure)
}
