/**
 * Values in the binary protocol: the fields of a binary resultset row and the parameter values
 * of COM_STMT_EXECUTE.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_binary_resultset.html
 *        (Binary Protocol Value)
 * MariaDB: https://mariadb.com/kb/en/resultset-row/#binary-resultset-row
 *
 *   TINY                          int<1>
 *   SHORT, YEAR                   int<2>
 *   INT24, LONG                   int<4>
 *   LONGLONG                      int<8>
 *   FLOAT / DOUBLE                IEEE 754 little-endian, 4 / 8 bytes
 *   DATE, DATETIME, TIMESTAMP     length [1 byte] = 0 | 4 | 7 | 11, then
 *                                 year [2] month [1] day [1] (4) hour [1] minute [1] second [1] (7)
 *                                 microsecond [4] (11); 0 is the zero date
 *   TIME                          length [1 byte] = 0 | 8 | 12, then is_negative [1] days [4]
 *                                 hour [1] minute [1] second [1] (8) microsecond [4] (12)
 *   everything else               string<lenenc>: DECIMAL text, strings, blobs, BIT, ENUM, SET,
 *                                 GEOMETRY, JSON, VECTOR
 *
 * `readBinaryValue` / `writeBinaryValue` are the per-value steps of the row and parameter codecs
 * (throwing a `WireError` on bad data, caught once per row or packet); `decodeBinaryValue` /
 * `encodeBinaryValue` are the single-value boundary.
 *
 * Pure code over `Uint8Array`; no IO.
 */
import { Result } from "effect"
import type { ProtocolError } from "../ProtocolError.ts"
import { encodeError } from "../ProtocolError.ts"
import { WireError, Writer } from "../Wire.ts"
import { type ColumnInfo, type ColumnPlan, Kind, makeColumnPlan } from "./ColumnPlan.ts"
import { rowError } from "./RowCodec.ts"
import {
  formatDate,
  formatDateTime,
  formatTime,
  fractionDigits,
  fromDate,
  parseDateTimeText,
  parseTimeText,
  toDate
} from "./Temporal.ts"
import { asciiString, bitsToBigInt, bytesToFloat32, jsonValue, textBytes, utf8String } from "./TextValue.ts"
import { resolveValueOptions, type ValueOptions } from "./ValueOptions.ts"

const fail = (message: string, offset: number, field: string): never => {
  throw new WireError(message, offset, field)
}

const truncated = (need: number, pos: number, end: number, field: string): never =>
  fail(`truncated value: need ${need} byte(s), ${Math.max(0, end - pos)} left`, pos, field)

/** A read position shared by the per-value readers (one per decoder, not per row). */
export interface Cursor {
  pos: number
}

const f32 = new Float32Array(1)
const f32Bytes = new Uint8Array(f32.buffer)
const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

const readF32 = (buf: Uint8Array, p: number): number => {
  if (littleEndianHost) {
    f32Bytes[0] = buf[p]
    f32Bytes[1] = buf[p + 1]
    f32Bytes[2] = buf[p + 2]
    f32Bytes[3] = buf[p + 3]
  } else for (let k = 0; k < 4; k++) f32Bytes[3 - k] = buf[p + k]
  return f32[0]
}

const readF64 = (buf: Uint8Array, p: number): number => {
  if (littleEndianHost) for (let k = 0; k < 8; k++) f64Bytes[k] = buf[p + k]
  else for (let k = 0; k < 8; k++) f64Bytes[7 - k] = buf[p + k]
  return f64[0]
}

/** The shortest decimal that rounds to the same float32 (0.1f reads as 0.1). */
export const shortestFloat32 = (v: number): number => {
  if (!Number.isFinite(v) || v === 0) return v
  for (let p = 1; p < 10; p++) {
    const candidate = Number(v.toPrecision(p))
    if (Math.fround(candidate) === v) return candidate
  }
  return v
}

const TWO_32 = 4294967296

/** int<8> at `p` as the `bigint` option asks. */
export const readI64 = (plan: ColumnPlan, i: number, buf: Uint8Array, p: number): unknown => {
  const lo = (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0
  const hiBits = buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24)
  const mode = plan.options.bigint
  const hi = plan.unsigned[i] === 1 ? hiBits >>> 0 : hiBits
  // |value| < 2^53: one exact double, then at most one BigInt conversion.
  if (hi >= -0x200000 && hi < 0x200000) {
    const n = hi * TWO_32 + lo
    return mode === "bigint" ? BigInt(n) : mode === "number" ? n : String(n)
  }
  const big = (BigInt(hi) << 32n) | BigInt(lo)
  return mode === "string" ? big.toString() : big
}

/** DATE/DATETIME/TIMESTAMP at `p` (after the length byte), `length` 0, 4, 7 or 11. */
const readDateTime = (plan: ColumnPlan, i: number, buf: Uint8Array, p: number, length: number): unknown => {
  let year = 0
  let month = 0
  let day = 0
  let hour = 0
  let minute = 0
  let second = 0
  let microsecond = 0
  if (length >= 4) {
    year = buf[p] | (buf[p + 1] << 8)
    month = buf[p + 2]
    day = buf[p + 3]
  }
  if (length >= 7) {
    hour = buf[p + 4]
    minute = buf[p + 5]
    second = buf[p + 6]
  }
  if (length === 11) microsecond = (buf[p + 7] | (buf[p + 8] << 8) | (buf[p + 9] << 16) | (buf[p + 10] << 24)) >>> 0
  return dateTimeValue(plan, i, year, month, day, hour, minute, second, microsecond)
}

/**
 * Column `i`'s DATE/DATETIME/TIMESTAMP value from its wall-clock fields, as the `dates` option
 * asks: a `Date` in the option's zone (`null` for a zero date) or the server's text.
 */
export const dateTimeValue = (
  plan: ColumnPlan,
  i: number,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  microsecond: number
): unknown => {
  if (plan.options.dates === "string") {
    if (plan.kinds[i] === Kind.DATE) return formatDate(year, month, day)
    return formatDateTime(
      { year, month, day, hour, minute, second, microsecond },
      fractionDigits(plan.decimals[i], microsecond)
    )
  }
  if (month === 0 || day === 0) return null
  return toDate(year, month, day, hour, minute, second, microsecond, plan.options.zone)
}

/** TIME at `p` (after the length byte), `length` 0, 8 or 12, as "[-]HH:MM:SS[.ffffff]". */
const readTime = (plan: ColumnPlan, i: number, buf: Uint8Array, p: number, length: number): string => {
  let negative = false
  let hours = 0
  let minutes = 0
  let seconds = 0
  let microsecond = 0
  if (length >= 8) {
    negative = buf[p] === 1
    const days = (buf[p + 1] | (buf[p + 2] << 8) | (buf[p + 3] << 16) | (buf[p + 4] << 24)) >>> 0
    hours = days * 24 + buf[p + 5]
    minutes = buf[p + 6]
    seconds = buf[p + 7]
  }
  if (length === 12) microsecond = (buf[p + 8] | (buf[p + 9] << 8) | (buf[p + 10] << 16) | (buf[p + 11] << 24)) >>> 0
  return formatTime({ negative, hours, minutes, seconds, microsecond }, fractionDigits(plan.decimals[i], microsecond))
}

/**
 * Column `i`'s binary value at `cursor.pos` (< `end`); advances the cursor. Throws a
 * `WireError` (or a decoder's TypeError / JSON's SyntaxError) on invalid data.
 */
export const readBinaryValue = (plan: ColumnPlan, i: number, buf: Uint8Array, cursor: Cursor, end: number): unknown => {
  const p = cursor.pos
  const kind = plan.kinds[i]
  switch (kind) {
    case Kind.I8:
    case Kind.BOOL: {
      if (p + 1 > end) return truncated(1, p, end, plan.names[i])
      cursor.pos = p + 1
      const b = buf[p]
      if (kind === Kind.BOOL) return b !== 0
      return plan.unsigned[i] === 1 ? b : (b << 24) >> 24
    }
    case Kind.I16: {
      if (p + 2 > end) return truncated(2, p, end, plan.names[i])
      cursor.pos = p + 2
      const v = buf[p] | (buf[p + 1] << 8)
      return plan.unsigned[i] === 1 ? v : (v << 16) >> 16
    }
    case Kind.I32: {
      if (p + 4 > end) return truncated(4, p, end, plan.names[i])
      cursor.pos = p + 4
      const v = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)
      return plan.unsigned[i] === 1 ? v >>> 0 : v
    }
    case Kind.I64:
      if (p + 8 > end) return truncated(8, p, end, plan.names[i])
      cursor.pos = p + 8
      return readI64(plan, i, buf, p)
    case Kind.F32: {
      if (p + 4 > end) return truncated(4, p, end, plan.names[i])
      cursor.pos = p + 4
      const v = readF32(buf, p)
      return plan.options.float === "exact" ? v : shortestFloat32(v)
    }
    case Kind.F64:
      if (p + 8 > end) return truncated(8, p, end, plan.names[i])
      cursor.pos = p + 8
      return readF64(buf, p)
    case Kind.DATE:
    case Kind.DATETIME: {
      if (p + 1 > end) return truncated(1, p, end, plan.names[i])
      const length = buf[p]
      if (length !== 0 && length !== 4 && length !== 7 && length !== 11) {
        return fail(`invalid date/time length ${length}`, p, plan.names[i])
      }
      if (p + 1 + length > end) return truncated(length, p + 1, end, plan.names[i])
      cursor.pos = p + 1 + length
      return readDateTime(plan, i, buf, p + 1, length)
    }
    case Kind.TIME: {
      if (p + 1 > end) return truncated(1, p, end, plan.names[i])
      const length = buf[p]
      if (length !== 0 && length !== 8 && length !== 12) return fail(`invalid TIME length ${length}`, p, plan.names[i])
      if (p + 1 + length > end) return truncated(length, p + 1, end, plan.names[i])
      cursor.pos = p + 1 + length
      return readTime(plan, i, buf, p + 1, length)
    }
    case Kind.NULL:
      return null
    default: {
      // string<lenenc>
      if (p >= end) return truncated(1, p, end, plan.names[i])
      const first = buf[p]
      let length: number
      let start: number
      if (first < 0xfb) {
        length = first
        start = p + 1
      } else if (first === 0xfc) {
        if (p + 3 > end) return truncated(3, p, end, plan.names[i])
        length = buf[p + 1] | (buf[p + 2] << 8)
        start = p + 3
      } else if (first === 0xfd) {
        if (p + 4 > end) return truncated(4, p, end, plan.names[i])
        length = buf[p + 1] | (buf[p + 2] << 8) | (buf[p + 3] << 16)
        start = p + 4
      } else if (first === 0xfe) {
        if (p + 9 > end) return truncated(9, p, end, plan.names[i])
        length = (buf[p + 1] | (buf[p + 2] << 8) | (buf[p + 3] << 16) | (buf[p + 4] << 24)) >>> 0
        if ((buf[p + 5] | buf[p + 6] | buf[p + 7] | buf[p + 8]) !== 0) length = Number.MAX_SAFE_INTEGER
        start = p + 9
      } else {
        return fail(`invalid length-encoded string prefix 0x${first.toString(16)}`, p, plan.names[i])
      }
      const stop = start + length
      if (stop > end) return truncated(length, start, end, plan.names[i])
      cursor.pos = stop
      return readLenencValue(plan, i, kind, buf, start, stop)
    }
  }
}

/**
 * Column `i`'s value from its bytes `buf[start, end)`, for the kinds whose binary form is a byte
 * string (text, JSON text, BIT, VECTOR, SET, bytes). Throws like `readBinaryValue`.
 */
export const readLenencValue = (
  plan: ColumnPlan,
  i: number,
  kind: number,
  buf: Uint8Array,
  start: number,
  end: number
): unknown => {
  switch (kind) {
    case Kind.UTF8:
      return utf8String(plan.decoders[i]!, buf, start, end)
    case Kind.DECIMAL: {
      const text = asciiString(buf, start, end)
      if (plan.options.decimal === "string") return text
      const n = Number(text)
      return !Number.isNaN(n) && end > start ? n : fail("invalid DECIMAL", start, plan.names[i])
    }
    case Kind.TEXT:
      return plan.decoders[i]!.decode(buf.subarray(start, end))
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
      return buf.slice(start, end)
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding: binary rows (servers) and COM_STMT_EXECUTE parameters (clients)
// ---------------------------------------------------------------------------------------------

const typeError = (what: string, value: unknown, offset: number, field: string): never =>
  fail(`${what} expected, got ${value === null ? "null" : typeof value}`, offset, field)

const toBigInt = (value: unknown, offset: number, field: string): bigint => {
  if (typeof value === "bigint") return value
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) return fail(`${value} is not a safe integer`, offset, field)
    return BigInt(value)
  }
  if (typeof value === "boolean") return value ? 1n : 0n
  if (typeof value === "string" && /^[+-]?\d+$/.test(value)) return BigInt(value)
  return typeError("integer", value, offset, field)
}

const checkedInt = (value: unknown, bits: number, unsigned: boolean, offset: number, field: string): number => {
  const n = typeof value === "boolean" ? (value ? 1 : 0) : typeof value === "bigint" ? Number(value) : value
  if (typeof n !== "number" || !Number.isInteger(n)) return typeError("integer", value, offset, field)
  const min = unsigned ? 0 : -(2 ** (bits - 1))
  const max = unsigned ? 2 ** bits - 1 : 2 ** (bits - 1) - 1
  if (n < min || n > max)
    return fail(`${n} is out of range for a ${unsigned ? "unsigned " : ""}${bits}-bit integer`, offset, field)
  return n
}

const dateParts = (plan: ColumnPlan, i: number, value: unknown, offset: number) => {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return fail("invalid Date", offset, plan.names[i])
    return fromDate(value, plan.options.zone)
  }
  if (typeof value === "string") {
    if (/^0000-00-00( 00:00:00(\.0+)?)?$/.test(value)) return undefined
    const parts = parseDateTimeText(value)
    if (parts !== undefined) return parts
    return fail(`invalid date/time text ${JSON.stringify(value)}`, offset, plan.names[i])
  }
  return typeError("Date", value, offset, plan.names[i])
}

/** Writes column `i`'s non-null `value` in binary form. Throws a `WireError`. */
export const writeBinaryValue = (w: Writer, plan: ColumnPlan, i: number, value: unknown): void => {
  const field = plan.names[i]
  const unsigned = plan.unsigned[i] === 1
  switch (plan.kinds[i]) {
    case Kind.I8:
    case Kind.BOOL:
      w.int1(checkedInt(value, 8, unsigned, w.pos, field) & 0xff)
      return
    case Kind.I16:
      w.int2(checkedInt(value, 16, unsigned, w.pos, field) & 0xffff)
      return
    case Kind.I32:
      w.int4(checkedInt(value, 32, unsigned, w.pos, field) >>> 0)
      return
    case Kind.I64: {
      // The usual numeric parameter: a safe integer needs no bigint on the way.
      if (typeof value === "number" && Number.isSafeInteger(value) && (value >= 0 || !unsigned)) {
        w.int8(value)
        return
      }
      const big = toBigInt(value, w.pos, field)
      if (unsigned ? big < 0n || big >= 1n << 64n : big < -(1n << 63n) || big >= 1n << 63n) {
        fail(`${big} is out of range for a ${unsigned ? "unsigned " : ""}64-bit integer`, w.pos, field)
      }
      w.int8(big)
      return
    }
    case Kind.F32:
    case Kind.F64:
      if (typeof value !== "number") typeError("number", value, w.pos, field)
      if (!Number.isFinite(value)) throw new WireError(`${value} has no MySQL representation`, w.pos, field)
      if (plan.kinds[i] === Kind.F32) w.float4(value as number)
      else w.float8(value as number)
      return
    case Kind.DATE:
    case Kind.DATETIME: {
      const p = dateParts(plan, i, value, w.pos)
      if (p === undefined) {
        w.int1(0)
        return
      }
      // The shortest form, as servers write it: 4 without a time of day, 7 without microseconds.
      const length =
        plan.kinds[i] === Kind.DATE
          ? 4
          : p.microsecond !== 0
            ? 11
            : p.hour !== 0 || p.minute !== 0 || p.second !== 0
              ? 7
              : 4
      w.int1(length)
      w.int2(p.year).int1(p.month).int1(p.day)
      if (length >= 7) w.int1(p.hour).int1(p.minute).int1(p.second)
      if (length === 11) w.int4(p.microsecond)
      return
    }
    case Kind.TIME: {
      if (typeof value !== "string") throw new WireError(`TIME string expected, got ${typeof value}`, w.pos, field)
      const t = parseTimeText(value)
      if (t === undefined) throw new WireError(`invalid TIME text ${JSON.stringify(value)}`, w.pos, field)
      if (t.hours === 0 && t.minutes === 0 && t.seconds === 0 && t.microsecond === 0) {
        w.int1(0)
        return
      }
      const length = t.microsecond !== 0 ? 12 : 8
      w.int1(length)
      w.int1(t.negative ? 1 : 0)
      w.int4(Math.floor(t.hours / 24))
      w.int1(t.hours % 24)
        .int1(t.minutes)
        .int1(t.seconds)
      if (length === 12) w.int4(t.microsecond)
      return
    }
    case Kind.NULL:
      return
    default:
      // UTF-8 text straight into the packet, without an array of its bytes first.
      if (plan.kinds[i] === Kind.UTF8 && typeof value === "string") w.lenencString(value)
      else w.lenencBytes(textBytes(plan, i, value, w.pos))
  }
}

// ---------------------------------------------------------------------------------------------
// Single values
// ---------------------------------------------------------------------------------------------

/**
 * Decodes one binary-protocol value of `column` from the start of `bytes` (which must hold
 * exactly that value). SQL NULL is not in the value bytes (it is in the row's null bitmap).
 */
export const decodeBinaryValue = (
  column: ColumnInfo,
  bytes: Uint8Array,
  options?: ValueOptions
): Result.Result<unknown, ProtocolError> => {
  const resolved = resolveValueOptions(options)
  if (typeof resolved === "string") return Result.fail(encodeError("BinaryValue", resolved, column.name))
  try {
    const cursor = { pos: 0 }
    const value = readBinaryValue(makeColumnPlan([column], resolved), 0, bytes, cursor, bytes.length)
    if (cursor.pos !== bytes.length) fail(`${bytes.length - cursor.pos} trailing byte(s)`, cursor.pos, column.name)
    return Result.succeed(value)
  } catch (e) {
    return Result.fail(rowError("BinaryValue", e, column.name, undefined))
  }
}

/** Encodes one non-null value of `column` in binary form. */
export const encodeBinaryValue = (
  column: ColumnInfo,
  value: unknown,
  options?: ValueOptions
): Result.Result<Uint8Array, ProtocolError> => {
  const resolved = resolveValueOptions(options)
  if (typeof resolved === "string") return Result.fail(encodeError("BinaryValue", resolved, column.name))
  if (value === null || value === undefined) {
    return Result.fail(encodeError("BinaryValue", "NULL has no binary value (it goes in the null bitmap)", column.name))
  }
  try {
    const w = new Writer(16)
    writeBinaryValue(w, makeColumnPlan([column], resolved), 0, value)
    return Result.succeed(w.finish())
  } catch (e) {
    return Result.fail(rowError("BinaryValue", e, column.name, undefined, true))
  }
}
