/**
 * Parameters written into the text of a statement, for text SQL that cannot be prepared: several
 * statements in one COM_QUERY (what effect/sql's `unprepared` sends), or proxies that refuse
 * COM_STMT_PREPARE.
 *
 * A `?` is a placeholder only outside string literals, quoted identifiers and comments. Strings are
 * escaped for the session's sql_mode: with NO_BACKSLASH_ESCAPES (the server reports it in every
 * OK's status flags) a backslash is an ordinary character and only quotes are doubled; otherwise
 * backslashes, quotes, NUL, newlines and Ctrl-Z are escaped as the server's own
 * `mysql_real_escape_string` does. Bytes go as hex literals, which no sql_mode reinterprets.
 *
 * The escaping is correct for character sets in which a quote or a backslash byte is never part of
 * a multi-byte character: utf8mb4 (the connection's default), utf8mb3, latin1 and ascii. Sets such
 * as gbk, big5, sjis or cp932 are not: use prepared statements with them.
 *
 * Pure; no IO.
 */
import { ComStmtExecute, formatDateTime, fromDate, parseTimeZone, timeZoneProblem } from "@effect-mysql/protocol"
import { nextCode } from "./SqlText.ts"

/** The reason a statement could not be completed with its parameters. */
export class InterpolationError {
  readonly message: string
  /** The parameter at fault, counted from 1, when one is. */
  readonly position: number | undefined
  constructor(message: string, position?: number) {
    this.message = message
    this.position = position
  }
}

export interface InterpolationOptions {
  /** NO_BACKSLASH_ESCAPES is in the session's sql_mode. */
  readonly noBackslashEscapes: boolean
  /** The zone `Date` values are written in ("local", "Z", "+05:30", "Europe/Berlin"); default "local". */
  readonly timeZone?: string | undefined
}

const backslashEscapes: Record<string, string> = {
  "\0": "\\0",
  "\n": "\\n",
  "\r": "\\r",
  "\x1a": "\\Z",
  "'": "\\'",
  '"': '\\"',
  "\\": "\\\\"
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and Ctrl-Z are what mysql_real_escape_string escapes besides quotes, backslash and newlines.
const escapedCharacters = /[\0\n\r\x1a'"\\]/g

/** A string literal the server reads back as `text`. */
export const quoteString = (text: string, noBackslashEscapes: boolean): string =>
  noBackslashEscapes
    ? `'${text.replaceAll("'", "''")}'`
    : `'${text.replace(escapedCharacters, (c) => backslashEscapes[c]!)}'`

const hex = (bytes: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += bytes[i]!.toString(16).padStart(2, "0")
  return `X'${out}'`
}

/** 'YYYY-MM-DD HH:MM:SS.mmm' in the given zone, the form DATETIME and TIMESTAMP accept. */
const dateLiteral = (date: Date, timeZone: string | undefined): string | InterpolationError => {
  const zone = parseTimeZone(timeZone ?? "local")
  if (zone === undefined) return new InterpolationError(timeZoneProblem(timeZone ?? "local")!)
  return `'${formatDateTime(fromDate(date, zone), 3)}'`
}

/** The SQL literal of one parameter value. */
export const literal = (value: unknown, options: InterpolationOptions): string | InterpolationError => {
  if (value === null || value === undefined) return "NULL"
  const problem = ComStmtExecute.parameterProblem(value)
  if (problem !== undefined) return new InterpolationError(problem)
  switch (typeof value) {
    case "boolean":
      return value ? "TRUE" : "FALSE"
    case "number":
      return String(value)
    case "bigint":
      return value.toString()
    case "string":
      return quoteString(value, options.noBackslashEscapes)
  }
  if (value instanceof Uint8Array) return hex(value)
  if (value instanceof Float32Array) return hex(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))
  if (value instanceof Date) return dateLiteral(value, options.timeZone)
  if (typeof value === "object" && (value as { _tag?: unknown })._tag === "TypedParameter") {
    return literal((value as { value: unknown }).value, options)
  }
  return quoteString(JSON.stringify(value), options.noBackslashEscapes)
}

/** Replaces each `?` placeholder of `sql` with the literal of the matching parameter. */
export const interpolate = (
  sql: string,
  params: ReadonlyArray<unknown>,
  options: InterpolationOptions
): string | InterpolationError => {
  if (params.length === 0) return sql
  let out = ""
  let from = 0
  let used = 0
  let i = 0
  while (i < sql.length) {
    if (sql[i] !== "?") {
      i = nextCode(sql, i, !options.noBackslashEscapes)
      continue
    }
    if (used === params.length) {
      return new InterpolationError(`the statement has more placeholders than the ${params.length} parameter(s) given`)
    }
    const value = literal(params[used++], options)
    if (value instanceof InterpolationError) return new InterpolationError(`parameter ${used}: ${value.message}`, used)
    out += sql.slice(from, i) + value
    from = ++i
  }
  if (used !== params.length) {
    return new InterpolationError(`the statement has ${used} placeholder(s), ${params.length} parameter(s) given`)
  }
  return out + sql.slice(from)
}
