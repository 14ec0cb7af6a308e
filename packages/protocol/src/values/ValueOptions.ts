/**
 * How column values become JavaScript values, and back. The defaults are lossless; every
 * lossy or convenient alternative is an explicit choice.
 *
 * | column type                         | default                                  | option            |
 * |-------------------------------------|------------------------------------------|-------------------|
 * | TINYINT SMALLINT MEDIUMINT INT YEAR | `number`                                 | `tinyint1`        |
 * | BIGINT (signed and unsigned)        | `bigint`                                 | `bigint`          |
 * | FLOAT DOUBLE                        | `number` (FLOAT: the exact float32 value)| `float`           |
 * | DECIMAL NUMERIC                     | `string` ("-12.50", as the server writes)| `decimal`         |
 * | DATE DATETIME TIMESTAMP             | `Date` in `timeZone`; zero dates `null`  | `dates`, `timeZone` |
 * | TIME                                | `string` "-838:59:59.000000"             |                   |
 * | BIT                                 | `Uint8Array` (big-endian, as sent)       | `bit`             |
 * | ENUM                                | `string`                                 |                   |
 * | SET                                 | `string` ("a,b")                         | `set`             |
 * | JSON                                | parsed (`JSON.parse`)                    | `json`            |
 * | CHAR VARCHAR TEXT (text collation)  | `string` in the column's character set   |                   |
 * | BINARY VARBINARY BLOB (collation 63)| `Uint8Array` (a copy)                    |                   |
 * | GEOMETRY                            | `Uint8Array`: SRID [4 bytes LE] + WKB     |                   |
 * | VECTOR (MySQL 9)                    | `Float32Array`                           | `vector`          |
 * | NULL (any type)                     | `null`                                   |                   |
 *
 * TIME is a string because its range (-838:59:59 to 838:59:59) is not a time of day: sign,
 * hours (at least two digits), minutes, seconds and, when the column has fractional seconds,
 * exactly that many digits ("-838:59:59.000000" for TIME(6), "12:00:00" for TIME).
 *
 * Dates: a `Date` holds milliseconds, so DATETIME(6)'s last three digits are dropped; use
 * `dates: "string"` to keep them ("2024-02-29 13:14:15.123456", the server's own format with the
 * column's fractional digits). A date with a zero month or day ('0000-00-00', and the partial
 * zero dates non-strict SQL modes allow) has no `Date`: it decodes to `null`, or to its text with
 * `dates: "string"`. DATETIME and TIMESTAMP values are wall-clock times: `timeZone` says which
 * zone they are read in and `Date` parameters are written in. TIMESTAMP values arrive in the
 * session's time zone: set `timeZone` to the session's (`SET time_zone`) for correct instants. A
 * named zone follows its daylight saving time: a wall-clock time that happens twice (clocks turned
 * back) reads as the earlier instant, one that never happens (clocks turned forward) as if the
 * clocks had not changed yet (02:30 in a gap from 02:00 to 03:00 is 03:30). JSON: MySQL sends
 * JSON columns as type JSON; MariaDB sends them as LONGTEXT and only marks them "json" in its
 * extended metadata (MARIADB_CLIENT_EXTENDED_METADATA), without which they decode as strings.
 *
 * Pure data; no IO.
 */
import { DateTime, Option } from "effect"
import type { ColumnInfo } from "./ColumnPlan.ts"
import type { Zone } from "./Temporal.ts"

export interface ValueOptions {
  /**
   * BIGINT: `"bigint"` (default) always a `bigint`; `"number"` a `number` when the value is a
   * safe integer (|v| <= 2^53 - 1) and a `bigint` otherwise, so nothing is ever rounded;
   * `"string"` the decimal digits.
   */
  readonly bigint?: "bigint" | "number" | "string"
  /** DECIMAL: `"string"` (default, exact) or `"number"` (rounded to a double). */
  readonly decimal?: "string" | "number"
  /**
   * FLOAT (single precision): `"exact"` (default) the float32 value as a double (0.1 reads as
   * 0.10000000149011612); `"shortest"` the shortest decimal that rounds to the same float32
   * (0.1), as the text protocol shows it.
   */
  readonly float?: "exact" | "shortest"
  /** DATE, DATETIME, TIMESTAMP: `"date"` (default) a `Date`, `"string"` the server's text. */
  readonly dates?: "date" | "string"
  /**
   * The time zone the server's wall-clock values are in: `"local"` (default, the process's zone,
   * as mysql2 and mariadb do), `"Z"`/`"UTC"`, a fixed offset `"+05:30"` / `"-08:00"`, or an IANA
   * zone name (`"Europe/Berlin"`), whose offset follows daylight saving time.
   */
  readonly timeZone?: string
  /** JSON: `"parse"` (default) or `"string"` (the JSON text). */
  readonly json?: "parse" | "string"
  /** BIT: `"bytes"` (default) a `Uint8Array`; `"bigint"` the bits as an unsigned `bigint`. */
  readonly bit?: "bytes" | "bigint"
  /** SET: `"string"` (default) "a,b"; `"array"` ["a", "b"] ([] for the empty set). */
  readonly set?: "string" | "array"
  /** TINYINT(1) (display width 1): `"number"` (default) or `"boolean"` (0 is false, anything else true). */
  readonly tinyint1?: "number" | "boolean"
  /**
   * A conversion of your own, chosen once per result set for each column: a function applied to
   * every value of the column (as the other options decoded it; NULL included), or `undefined` to
   * leave the column as it is. Result rows only, not the change stream.
   */
  readonly cast?: ColumnCast
  /** VECTOR: `"float32"` (default) a `Float32Array`; `"bytes"` the raw little-endian bytes. */
  readonly vector?: "float32" | "bytes"
}

/** For one column, the conversion of its values, or undefined for none. */
export type ColumnCast = (column: ColumnInfo) => ((value: unknown) => unknown) | undefined

/** `ValueOptions` with every default filled in and the time zone parsed. */
export interface ResolvedValueOptions {
  readonly bigint: "bigint" | "number" | "string"
  readonly decimal: "string" | "number"
  readonly float: "exact" | "shortest"
  readonly dates: "date" | "string"
  /** The zone of wall-clock values: minutes east of UTC (`NaN`: local) or a named zone. */
  readonly zone: Zone
  readonly json: "parse" | "string"
  readonly bit: "bytes" | "bigint"
  readonly set: "string" | "array"
  readonly tinyint1: "number" | "boolean"
  readonly vector: "float32" | "bytes"
  readonly cast: ColumnCast | undefined
}

/**
 * The zone of a `timeZone` option: minutes east of UTC for "Z", "UTC" and fixed offsets, `NaN` for
 * "local", the named zone for an IANA name the runtime knows; `undefined` for anything else.
 */
export const parseTimeZone = (timeZone: string): Zone | undefined => {
  if (timeZone === "local") return Number.NaN
  if (timeZone === "Z" || timeZone === "UTC" || timeZone === "utc") return 0
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(timeZone)
  if (m === null) return namedZone(timeZone)
  const minutes = Number(m[2]) * 60 + Number(m[3])
  if (minutes > 14 * 60) return undefined
  return m[1] === "-" ? -minutes : minutes
}

// Only names with a slash (Area/Location) or "Etc/…": Intl also accepts abbreviations such as
// "EST" and "CET", which are fixed offsets or ambiguous, and lower-case spellings.
const namedZone = (timeZone: string): DateTime.TimeZone.Named | undefined =>
  timeZone.includes("/") ? Option.getOrUndefined(DateTime.zoneMakeNamed(timeZone)) : undefined

/**
 * Why a `timeZone` option cannot be used, or `undefined` when it can. Options are checked with it
 * when a connection is configured, so that a bad zone is refused before the first value needs it.
 */
export const timeZoneProblem = (timeZone: string): string | undefined =>
  parseTimeZone(timeZone) === undefined
    ? `unknown time zone ${JSON.stringify(timeZone)}: use "local", "UTC", an offset like "+05:30", or an IANA zone name like "Europe/Berlin"`
    : undefined

/**
 * Fills in the defaults. A malformed `timeZone` is reported as a string message (callers turn
 * it into a `ProtocolError`).
 */
export const resolveValueOptions = (options: ValueOptions = {}): ResolvedValueOptions | string => {
  const zone = parseTimeZone(options.timeZone ?? "local")
  if (zone === undefined) return timeZoneProblem(options.timeZone ?? "local")!
  return {
    bigint: options.bigint ?? "bigint",
    decimal: options.decimal ?? "string",
    float: options.float ?? "exact",
    dates: options.dates ?? "date",
    zone,
    json: options.json ?? "parse",
    bit: options.bit ?? "bytes",
    set: options.set ?? "string",
    tinyint1: options.tinyint1 ?? "number",
    vector: options.vector ?? "float32",
    cast: options.cast
  }
}
