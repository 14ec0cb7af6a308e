/**
 * Values in the text protocol: every column value of a text resultset row is a
 * `string<lenenc>` (or 0xFB for NULL) holding the server's text form of the value.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_row.html
 * MariaDB: https://mariadb.com/kb/en/resultset-row/#text-resultset-row
 *
 * `readTextValue` and `writeTextValue` are the per-value steps of the row codecs: plain code
 * over `(Uint8Array, start, end)` that throws a `WireError` on bad data; the row codecs catch it
 * once per row. `decodeTextValue` / `encodeTextValue` are the single-value boundary (a `Result`).
 *
 * Pure code over `Uint8Array`; no IO.
 */
import { Result } from "effect"
import { decodingFor } from "../Collations.ts"
import { ColumnFlag } from "../ColumnType.ts"
import type { ProtocolError } from "../ProtocolError.ts"
import { encodeError } from "../ProtocolError.ts"
import { encodeUtf8, WireError, type Writer } from "../Wire.ts"
import { type ColumnInfo, type ColumnPlan, Kind, makeColumnPlan } from "./ColumnPlan.ts"
import { rowError } from "./RowCodec.ts"
import { formatDate, formatDateTime, fractionDigits, fromDate, parseDateTimeText, toDate } from "./Temporal.ts"
import { resolveValueOptions, type ValueOptions } from "./ValueOptions.ts"

const fail = (message: string, offset: number, field: string): never => {
  throw new WireError(message, offset, field)
}

/** Longest value copied through a reused array of character codes; at least `SHORT_ASCII`. */
const SCRATCH_LENGTH = 48

/** One array of character codes per length, reused by every call (decoding never re-enters). */
const scratch: ReadonlyArray<Array<number>> = Array.from({ length: SCRATCH_LENGTH + 1 }, (_, n) =>
  new Array<number>(n).fill(0)
)

/**
 * ASCII/latin1 text of `buf[start, end)`, without a TextDecoder call (numbers, dates): one
 * `fromCharCode` over a reused array of codes. A string grown a character at a time leaves a
 * discarded string behind per character, and a `subarray` view costs about 95 bytes: for the DOUBLE
 * and DECIMAL columns of packages/bench's rows, V8's sampling heap profiler counted 640 of the
 * 1,510 bytes allocated per text row for the first way and 190 for the second. That garbage drives
 * the scavenges that copy an accumulating result set's rows again and again: client CPU per text
 * row went from 3.12 to 2.15 µs (100k-row fetches from a real server through the client, Node 24,
 * median of five per process, three alternating pairs, each lower; packages/bench's `text`).
 */
export const asciiString = (buf: Uint8Array, start: number, end: number): string => {
  const n = end - start
  if (n > SCRATCH_LENGTH) return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as Array<number>)
  const codes = scratch[n]
  for (let i = 0; i < n; i++) codes[i] = buf[start + i]
  return String.fromCharCode.apply(null, codes)
}

/**
 * Up to this many bytes, an all-ASCII value is built with `String.fromCharCode` instead of a
 * TextDecoder call. Measured per ASCII value (1e6 calls, best of 5): Node 24 loop 26/71/131/308 ns
 * vs TextDecoder 112/120/138/176 ns at 4/8/16/24 bytes; Bun 1.4 28/70/120/183 vs 124/137/133/138;
 * Deno 2.9, whose TextDecoder call is slower, 48/112/201/268/373 vs 326/404/503/661/385 at
 * 8/16/24/32/48 bytes. Those loops built the string a character at a time; the loop that fills a
 * reused array of codes (see `asciiString`) is no slower: bench/rows.ts's 8-byte case gives 62 ns
 * against TextDecoder's 199 ns on Node 24. With that loop, Node 24 stays ahead up to about 32 bytes
 * (79 vs 106 ns at 25 bytes, 107 vs 109 at 40); Bun 1.4's TextDecoder is ahead from 16 bytes on
 * (107 vs 78 ns).
 */
const SHORT_ASCII =
  typeof (globalThis as { Deno?: unknown }).Deno !== "undefined"
    ? 40
    : typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
      ? 12
      : 32

/** UTF-8 text of `buf[start, end)` with `decoder` (fatal: invalid UTF-8 throws a TypeError). */
export const utf8String = (decoder: { decode(b: Uint8Array): string }, buf: Uint8Array, start: number, end: number) => {
  const n = end - start
  if (n <= SHORT_ASCII) {
    const codes = scratch[n]
    for (let i = 0; i < n; i++) {
      const c = buf[start + i]
      if (c >= 0x80) return decoder.decode(buf.subarray(start, end))
      codes[i] = c
    }
    return String.fromCharCode.apply(null, codes)
  }
  return decoder.decode(buf.subarray(start, end))
}

/** A decimal integer in ASCII as a number (exact up to 15 digits). */
const parseSmallInt = (buf: Uint8Array, start: number, end: number, field: string): number => {
  let i = start
  let negative = false
  if (i < end && buf[i] === 0x2d) {
    negative = true
    i++
  } else if (i < end && buf[i] === 0x2b) {
    i++
  }
  if (i === end) return fail("empty integer", start, field)
  let n = 0
  for (; i < end; i++) {
    const d = buf[i] - 0x30
    if (d < 0 || d > 9) return fail("invalid digit in integer", i, field)
    n = n * 10 + d
  }
  return negative ? 0 - n : n
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** A BIGINT in ASCII as the option asks: bigint, number when safe, or the digits. */
const parseBigInt = (plan: ColumnPlan, buf: Uint8Array, start: number, end: number, field: string): unknown => {
  const mode = plan.options.bigint
  if (end - start <= 15) {
    const n = parseSmallInt(buf, start, end, field)
    return mode === "bigint" ? BigInt(n) : mode === "number" ? n : asciiString(buf, start, end)
  }
  // Validate: BigInt() also accepts whitespace and 0x prefixes.
  let i = start
  if (buf[i] === 0x2d || buf[i] === 0x2b) i++
  if (i === end || end - i > 20) return fail("invalid BIGINT", start, field)
  for (; i < end; i++) {
    const d = buf[i] - 0x30
    if (d < 0 || d > 9) return fail("invalid digit in integer", i, field)
  }
  const text = asciiString(buf, start, end)
  if (mode === "string") return text
  const big = BigInt(text)
  if (mode === "number" && big <= MAX_SAFE && big >= -MAX_SAFE) return Number(big)
  return big
}

const parseFloatText = (buf: Uint8Array, start: number, end: number, field: string): number => {
  const text = asciiString(buf, start, end)
  const n = Number(text)
  if (end === start || (Number.isNaN(n) && text !== "nan" && text !== "NaN"))
    return fail("invalid floating-point value", start, field)
  return n
}

/** Two or four ASCII digits at `p`, or -1. */
const d2 = (buf: Uint8Array, p: number): number => {
  const a = buf[p] - 0x30
  const b = buf[p + 1] - 0x30
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

const d4 = (buf: Uint8Array, p: number): number => {
  const hi = d2(buf, p)
  const lo = d2(buf, p + 2)
  return hi < 0 || lo < 0 ? -1 : hi * 100 + lo
}

/**
 * A DATE/DATETIME/TIMESTAMP in text form ("YYYY-MM-DD[ HH:MM:SS[.f…]]") as a `Date`, `null`
 * for a zero date, or the text itself with `dates: "string"`.
 */
const parseDateText = (plan: ColumnPlan, buf: Uint8Array, start: number, end: number, field: string): unknown => {
  const length = end - start
  if (plan.options.dates === "string") return asciiString(buf, start, end)
  if (length !== 10 && length !== 19 && (length < 21 || length > 26))
    return fail("invalid date/time text", start, field)
  const year = d4(buf, start)
  const month = d2(buf, start + 5)
  const day = d2(buf, start + 8)
  if (year < 0 || month < 0 || day < 0 || buf[start + 4] !== 0x2d || buf[start + 7] !== 0x2d) {
    return fail("invalid date text", start, field)
  }
  let hour = 0
  let minute = 0
  let second = 0
  let microsecond = 0
  if (length > 10) {
    hour = d2(buf, start + 11)
    minute = d2(buf, start + 14)
    second = d2(buf, start + 17)
    if (hour < 0 || minute < 0 || second < 0 || buf[start + 13] !== 0x3a || buf[start + 16] !== 0x3a) {
      return fail("invalid time text", start, field)
    }
    if (length > 19) {
      if (buf[start + 19] !== 0x2e) return fail("invalid fractional seconds", start + 19, field)
      let scale = 100000
      for (let p = start + 20; p < end; p++) {
        const d = buf[p] - 0x30
        if (d < 0 || d > 9) return fail("invalid fractional seconds", p, field)
        microsecond += d * scale
        scale /= 10
      }
    }
  }
  if (month === 0 || day === 0) return null
  return toDate(year, month, day, hour, minute, second, microsecond, plan.options.zone)
}

/** BIT bytes (big-endian) as an unsigned bigint. */
export const bitsToBigInt = (buf: Uint8Array, start: number, end: number): bigint => {
  let n = 0n
  for (let i = start; i < end; i++) n = (n << 8n) | BigInt(buf[i])
  return n
}

/** A VECTOR's little-endian float32 values. */
export const bytesToFloat32 = (buf: Uint8Array, start: number, end: number, field: string): Float32Array => {
  if ((end - start) % 4 !== 0) return fail("VECTOR length is not a multiple of 4", start, field)
  const out = new Float32Array((end - start) / 4)
  const view = new DataView(buf.buffer, buf.byteOffset + start, end - start)
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true)
  return out
}

/** JSON text as the option asks: parsed (a SyntaxError is caught by the row boundary) or text. */
export const jsonValue = (plan: ColumnPlan, text: string): unknown =>
  plan.options.json === "parse" ? JSON.parse(text) : text

/**
 * Column `i`'s value from its text form `buf[start, end)`. Throws a `WireError` (or the
 * decoder's TypeError, or JSON's SyntaxError) on invalid data.
 */
export const readTextValue = (plan: ColumnPlan, i: number, buf: Uint8Array, start: number, end: number): unknown => {
  switch (plan.kinds[i]) {
    case Kind.UTF8:
      return utf8String(plan.decoders[i]!, buf, start, end)
    case Kind.I8:
    case Kind.I16:
    case Kind.I32:
      return parseSmallInt(buf, start, end, plan.names[i])
    case Kind.I64:
      return parseBigInt(plan, buf, start, end, plan.names[i])
    case Kind.BOOL:
      return parseSmallInt(buf, start, end, plan.names[i]) !== 0
    case Kind.F32: {
      const n = parseFloatText(buf, start, end, plan.names[i])
      return plan.options.float === "exact" ? Math.fround(n) : n
    }
    case Kind.F64:
      return parseFloatText(buf, start, end, plan.names[i])
    case Kind.DECIMAL:
      return plan.options.decimal === "string"
        ? asciiString(buf, start, end)
        : parseFloatText(buf, start, end, plan.names[i])
    case Kind.DATE:
    case Kind.DATETIME:
      return parseDateText(plan, buf, start, end, plan.names[i])
    case Kind.TIME:
      return asciiString(buf, start, end)
    case Kind.TEXT:
      return plan.decoders[i]!.decode(buf.subarray(start, end))
    case Kind.BYTES:
      return buf.slice(start, end)
    case Kind.JSON:
      return jsonValue(plan, utf8String(plan.decoders[i]!, buf, start, end))
    case Kind.BIT:
      return plan.options.bit === "bytes" ? buf.slice(start, end) : bitsToBigInt(buf, start, end)
    case Kind.VECTOR:
      return plan.options.vector === "float32" ? bytesToFloat32(buf, start, end, plan.names[i]) : buf.slice(start, end)
    case Kind.SET: {
      const text = plan.decoders[i]!.decode(buf.subarray(start, end))
      return text === "" ? [] : text.split(",")
    }
    default:
      return null
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding: what a server writes
// ---------------------------------------------------------------------------------------------

const LATIN1_HIGH: Record<number, number> = {}
{
  const decoder = new TextDecoder("windows-1252")
  for (let b = 0x80; b < 0xa0; b++) LATIN1_HIGH[decoder.decode(Uint8Array.of(b)).charCodeAt(0)] = b
}

/** Text in a column's character set: UTF-8 for utf8mb4/utf8mb3, windows-1252 for latin1/ascii. */
export const encodeText = (text: string, collation: number, field: string, offset: number): Uint8Array => {
  const decoding = decodingFor(collation)
  if (decoding.kind === "utf8" || decoding.kind === "bytes") return encodeUtf8(text)
  if (decoding.charset === "latin1" || decoding.charset === "ascii") {
    const out = new Uint8Array(text.length)
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      const b = c < 0x80 || (c >= 0xa0 && c <= 0xff) ? c : LATIN1_HIGH[c]
      if (b === undefined)
        return fail(`character U+${c.toString(16)} has no ${decoding.charset} encoding`, offset, field)
      out[i] = b
    }
    return out
  }
  return fail(
    `encoding text to character set ${decoding.charset} is not supported (only utf8mb4, utf8mb3, latin1, ascii)`,
    offset,
    field
  )
}

const typeError = (what: string, value: unknown, offset: number, field: string): never =>
  fail(`${what} expected, got ${value === null ? "null" : typeof value}`, offset, field)

/**
 * A FLOAT or DOUBLE as the server writes it in text rows: FLOAT rounded to 6 significant digits,
 * DOUBLE with the shortest digits that read back the same; positional notation for
 * 1e-15 <= |v| < 1e15 and "1.5e-20" / "1e15" beyond (no "+"); -0 as "0". (Observed on MariaDB
 * 10.11 over 10^-20 to 10^25 for both types; see test/rows.golden.test.ts.)
 */
export const floatText = (value: number, precision: number | undefined): string => {
  if (value === 0) return "0"
  const raw = precision === undefined ? String(Math.abs(value)) : Math.abs(value).toPrecision(precision)
  const e = raw.indexOf("e")
  let mantissa = e < 0 ? raw : raw.slice(0, e)
  let exponent = e < 0 ? 0 : Number(raw.slice(e + 1))
  // Normalise "d.ddd" / "0.000ddd" / "ddd.dd" into significant digits and the exponent of the first.
  const dot = mantissa.indexOf(".")
  let digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1)
  exponent += (dot < 0 ? mantissa.length : dot) - 1
  let lead = 0
  while (lead < digits.length - 1 && digits[lead] === "0") lead++
  digits = digits.slice(lead)
  exponent -= lead
  let end = digits.length
  while (end > 1 && digits[end - 1] === "0") end--
  digits = digits.slice(0, end)
  const sign = value < 0 ? "-" : ""
  if (exponent < -15 || exponent > 14) {
    mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    return `${sign}${mantissa}e${exponent}`
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`
  if (digits.length <= exponent + 1) return `${sign}${digits}${"0".repeat(exponent + 1 - digits.length)}`
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`
}

/** An integer value (number, bigint, or decimal string) as its decimal text. */
const integerText = (value: unknown, offset: number, field: string): string => {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return fail(`${value} is not an integer`, offset, field)
    return String(value)
  }
  if (typeof value === "bigint") return value.toString()
  if (typeof value === "boolean") return value ? "1" : "0"
  if (typeof value === "string" && /^[+-]?\d+$/.test(value)) return value
  return typeError("integer", value, offset, field)
}

/** Bytes of a BIT value: as given, or a bigint on ceil(columnLength / 8) bytes (at least 1). */
export const bitBytes = (value: unknown, column: ColumnInfo, offset: number): Uint8Array => {
  if (value instanceof Uint8Array) return value
  if (typeof value === "bigint" && value >= 0n) {
    const length = Math.max(1, Math.ceil((column.columnLength ?? 64) / 8))
    const out = new Uint8Array(length)
    let v = value
    for (let i = length - 1; i >= 0; i--) {
      out[i] = Number(v & 0xffn)
      v >>= 8n
    }
    if (v !== 0n) return fail(`${value} does not fit in BIT(${column.columnLength})`, offset, column.name)
    return out
  }
  return typeError("Uint8Array or non-negative bigint", value, offset, column.name)
}

/** A VECTOR's bytes: float32 little-endian. */
export const float32Bytes = (value: unknown, offset: number, field: string): Uint8Array => {
  if (value instanceof Uint8Array) return value
  if (value instanceof Float32Array || Array.isArray(value)) {
    const out = new Uint8Array(value.length * 4)
    const view = new DataView(out.buffer)
    for (let i = 0; i < value.length; i++) view.setFloat32(i * 4, Number(value[i]), true)
    return out
  }
  return typeError("Float32Array", value, offset, field)
}

/** The text a server writes for column `i`'s `value` (not null). Throws a `WireError`. */
export const textBytes = (plan: ColumnPlan, i: number, value: unknown, offset: number): Uint8Array => {
  const column = plan.columns[i]
  const field = column.name
  switch (plan.kinds[i]) {
    case Kind.I8:
    case Kind.I16:
    case Kind.I32:
    case Kind.I64:
    case Kind.BOOL: {
      const digits = integerText(value, offset, field)
      // ZEROFILL (and YEAR, which the server flags so): padded to the display width.
      if ((column.flags & ColumnFlag.ZEROFILL) !== 0 && column.columnLength !== undefined && digits[0] !== "-") {
        return encodeUtf8(digits.padStart(column.columnLength, "0"))
      }
      return encodeUtf8(digits)
    }
    case Kind.F32:
    case Kind.F64:
      if (typeof value !== "number") return typeError("number", value, offset, field)
      if (!Number.isFinite(value)) return fail(`${value} has no MySQL representation`, offset, field)
      return encodeUtf8(floatText(value, plan.kinds[i] === Kind.F32 ? 6 : undefined))
    case Kind.DECIMAL:
      if (typeof value === "string" || typeof value === "number" || typeof value === "bigint") {
        return encodeUtf8(String(value))
      }
      return typeError("decimal string", value, offset, field)
    case Kind.DATE:
    case Kind.DATETIME:
      return encodeUtf8(dateText(plan, i, value, offset))
    case Kind.TIME:
      if (typeof value === "string") return encodeUtf8(value)
      return typeError("TIME string", value, offset, field)
    case Kind.BIT:
      return bitBytes(value, column, offset)
    case Kind.VECTOR:
      return float32Bytes(value, offset, field)
    case Kind.JSON:
      return encodeUtf8(plan.options.json === "parse" ? JSON.stringify(value) : String(value))
    case Kind.SET:
      if (Array.isArray(value)) return encodeText(value.join(","), column.collation, field, offset)
      return typeError("array of SET members", value, offset, field)
    case Kind.BYTES:
      if (value instanceof Uint8Array) return value
      if (typeof value === "string") return encodeUtf8(value)
      return typeError("Uint8Array", value, offset, field)
    default:
      if (typeof value === "string") return encodeText(value, column.collation, field, offset)
      if (value instanceof Uint8Array) return value
      return typeError("string", value, offset, field)
  }
}

/** The server's text of a DATE/DATETIME/TIMESTAMP value given as a `Date` or as text. */
export const dateText = (plan: ColumnPlan, i: number, value: unknown, offset: number): string => {
  const field = plan.names[i]
  if (typeof value === "string") {
    if (parseDateTimeText(value) === undefined && !/^0000-00-00( 00:00:00(\.0+)?)?$/.test(value)) {
      return fail(`invalid date/time text ${JSON.stringify(value)}`, offset, field)
    }
    return value
  }
  if (!(value instanceof Date)) return typeError("Date", value, offset, field)
  if (Number.isNaN(value.getTime())) return fail("invalid Date", offset, field)
  const parts = fromDate(value, plan.options.zone)
  if (plan.kinds[i] === Kind.DATE) return formatDate(parts.year, parts.month, parts.day)
  return formatDateTime(parts, fractionDigits(plan.decimals[i], parts.microsecond))
}

/** Writes column `i`'s value as a text-row field: `string<lenenc>`, or 0xFB for null/undefined. */
export const writeTextValue = (w: Writer, plan: ColumnPlan, i: number, value: unknown): void => {
  if (value === null || value === undefined) {
    w.int1(0xfb)
    return
  }
  w.lenencBytes(textBytes(plan, i, value, w.pos))
}

// ---------------------------------------------------------------------------------------------
// Single values
// ---------------------------------------------------------------------------------------------

/** Decodes one text-protocol value (`null` for SQL NULL) of `column`. */
export const decodeTextValue = (
  column: ColumnInfo,
  bytes: Uint8Array | null,
  options?: ValueOptions
): Result.Result<unknown, ProtocolError> => {
  const resolved = resolveValueOptions(options)
  if (typeof resolved === "string") return Result.fail(encodeError("TextValue", resolved, column.name))
  if (bytes === null) return Result.succeed(null)
  try {
    return Result.succeed(readTextValue(makeColumnPlan([column], resolved), 0, bytes, 0, bytes.length))
  } catch (e) {
    return Result.fail(rowError("TextValue", e, column.name, undefined))
  }
}

/** Encodes one value of `column` as its text-protocol bytes (`null` for SQL NULL). */
export const encodeTextValue = (
  column: ColumnInfo,
  value: unknown,
  options?: ValueOptions
): Result.Result<Uint8Array | null, ProtocolError> => {
  const resolved = resolveValueOptions(options)
  if (typeof resolved === "string") return Result.fail(encodeError("TextValue", resolved, column.name))
  if (value === null || value === undefined) return Result.succeed(null)
  try {
    return Result.succeed(textBytes(makeColumnPlan([column], resolved), 0, value, 0))
  } catch (e) {
    return Result.fail(rowError("TextValue", e, column.name, undefined, true))
  }
}
