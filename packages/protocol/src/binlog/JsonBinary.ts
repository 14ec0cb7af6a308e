/**
 * MySQL's binary JSON format: how JSON columns are stored, and so how they travel in the row images
 * of MySQL's binlog (MariaDB stores JSON as LONGTEXT: its binlog holds the text).
 *
 * MySQL: https://github.com/mysql/mysql-server/blob/8.4/sql-common/json_binary.h (the grammar)
 *        https://github.com/mysql/mysql-server/blob/8.4/sql-common/json_dom.cc (wrapper_to_string:
 *        how opaque dates and decimals print)
 *
 * ```
 * value         type [1 byte] then the value of that type
 * 0x00 / 0x01   object, small (offsets and sizes 2 bytes) / large (4 bytes):
 *               count, size, key entries (offset, length [2]), value entries, keys, values
 * 0x02 / 0x03   array, small / large: count, size, value entries, values
 * value entry   type [1], then the value itself when it fits (literals, int16, uint16; int32
 *               and uint32 in large containers) or its offset from the container's count field
 * 0x04          literal: 0x00 null, 0x01 true, 0x02 false
 * 0x05..0x0a    int16, uint16, int32, uint32, int64, uint64, little-endian
 * 0x0b          double, little-endian
 * 0x0c          string: length (7 bits a byte, low groups first, high bit set on all but the
 *               last), utf8mb4 bytes
 * 0x0f          opaque: MySQL type [1], length as for strings, bytes; DECIMAL is precision [1],
 *               scale [1] and the packed decimal; DATE, TIME, DATETIME, TIMESTAMP are a packed
 *               temporal int<8>
 * ```
 *
 * Values decode to what `JSON.parse` gives for MySQL's text of the document: int64 and uint64 as
 * numbers (rounded beyond 2^53, as `JSON.parse` would; `exact` keeps them as `bigint`), opaque
 * DECIMAL as a number, opaque dates and times as MySQL prints them ("2015-01-15",
 * "23:24:25.000000", "2015-01-15 23:24:25.000000"), other opaque values as MySQL's
 * "base64:type<N>:<base64>" string.
 *
 * Pure code over `Uint8Array`; no IO.
 */
import { Result } from "effect"
import { ColumnType } from "../ColumnType.ts"
import type { ProtocolError } from "../ProtocolError.ts"
import { rowError } from "../values/RowCodec.ts"
import { formatDate, formatDateTime, formatTime } from "../values/Temporal.ts"
import { encodeUtf8, readFloat8, WireError, Writer } from "../Wire.ts"
import { packedDecimalSize, readPackedDecimal } from "./PackedDecimal.ts"

export const JsonType = {
  SMALL_OBJECT: 0x00,
  LARGE_OBJECT: 0x01,
  SMALL_ARRAY: 0x02,
  LARGE_ARRAY: 0x03,
  LITERAL: 0x04,
  INT16: 0x05,
  UINT16: 0x06,
  INT32: 0x07,
  UINT32: 0x08,
  INT64: 0x09,
  UINT64: 0x0a,
  DOUBLE: 0x0b,
  STRING: 0x0c,
  OPAQUE: 0x0f
} as const

/** Deeper documents are refused; MySQL itself stops at 100. */
const MAX_DEPTH = 150

const utf8 = new TextDecoder("utf-8", { fatal: true })

class JsonReader {
  buf: Uint8Array = new Uint8Array(0)
  end = 0
  field = ""
  exact = false
  /** Values left to decode: offsets may point at one value many times, this bounds the output. */
  budget = 0

  fail(message: string, p: number): never {
    throw new WireError(`invalid binary JSON: ${message}`, p, this.field)
  }

  need(p: number, n: number): void {
    if (n < 0 || p + n > this.end) this.fail(`need ${n} byte(s) at ${p}`, p)
  }

  uint(p: number, n: number): number {
    this.need(p, n)
    const b = this.buf
    return n === 2 ? b[p] | (b[p + 1] << 8) : (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000
  }

  /** int<8> or uint<8> at `p`, exactly. */
  bigint(p: number, unsigned: boolean): bigint {
    this.need(p, 8)
    const b = this.buf
    const lo = BigInt((b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000)
    const hi = BigInt((b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16)) + b[p + 7] * 0x1000000)
    const raw = (hi << 32n) | lo
    return unsigned ? raw : BigInt.asIntN(64, raw)
  }

  /** Bytes used by the last `varLength`. */
  lengthBytes = 0

  /** A variable-length length at `p`; `lengthBytes` says how many bytes it took. */
  varLength(p: number): number {
    let v = 0
    for (let k = 0; k < 5; k++) {
      this.need(p + k, 1)
      const b = this.buf[p + k]
      v += (b & 0x7f) * 2 ** (7 * k)
      if ((b & 0x80) === 0) {
        this.lengthBytes = k + 1
        return v
      }
    }
    return this.fail("length of more than 5 bytes", p)
  }

  value(type: number, p: number, depth: number): unknown {
    if (--this.budget < 0) this.fail("values refer to each other", p)
    switch (type) {
      case JsonType.SMALL_OBJECT:
      case JsonType.LARGE_OBJECT:
        return this.container(p, type === JsonType.LARGE_OBJECT, true, depth)
      case JsonType.SMALL_ARRAY:
      case JsonType.LARGE_ARRAY:
        return this.container(p, type === JsonType.LARGE_ARRAY, false, depth)
      case JsonType.LITERAL:
        this.need(p, 1)
        if (this.buf[p] > 2) this.fail(`literal ${this.buf[p]}`, p)
        return this.buf[p] === 0 ? null : this.buf[p] === 1
      case JsonType.INT16:
        return (this.uint(p, 2) << 16) >> 16
      case JsonType.UINT16:
        return this.uint(p, 2)
      case JsonType.INT32:
        return this.uint(p, 4) | 0
      case JsonType.UINT32:
        return this.uint(p, 4)
      case JsonType.INT64:
      case JsonType.UINT64: {
        const v = this.bigint(p, type === JsonType.UINT64)
        return this.exact && (v > 9007199254740991n || v < -9007199254740991n) ? v : Number(v)
      }
      case JsonType.DOUBLE:
        this.need(p, 8)
        return readFloat8(this.buf, p)
      case JsonType.STRING: {
        const n = this.varLength(p)
        const start = p + this.lengthBytes
        this.need(start, n)
        return utf8.decode(this.buf.subarray(start, start + n))
      }
      case JsonType.OPAQUE: {
        this.need(p, 1)
        const n = this.varLength(p + 1)
        const start = p + 1 + this.lengthBytes
        this.need(start, n)
        return this.opaque(this.buf[p], start, start + n)
      }
      default:
        return this.fail(`type 0x${type.toString(16)}`, p)
    }
  }

  container(p: number, large: boolean, object: boolean, depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH}`, p)
    const s = large ? 4 : 2
    const count = this.uint(p, s)
    const size = this.uint(p + s, s)
    this.need(p, size)
    const end = this.end
    // Offsets inside a container stay inside it.
    this.end = p + size
    const keys = p + 2 * s
    const values = object ? keys + count * (s + 2) : keys
    this.need(values, count * (1 + s))
    let out: unknown
    if (object) {
      const o: Record<string, unknown> = {}
      for (let k = 0; k < count; k++) {
        const keyOffset = this.uint(keys + k * (s + 2), s)
        const keyLength = this.uint(keys + k * (s + 2) + s, 2)
        this.need(p + keyOffset, keyLength)
        const key = utf8.decode(this.buf.subarray(p + keyOffset, p + keyOffset + keyLength))
        const v = this.entry(p, values + k * (1 + s), large, depth)
        if (key === "__proto__")
          Object.defineProperty(o, key, { value: v, enumerable: true, writable: true, configurable: true })
        else o[key] = v
      }
      out = o
    } else {
      const a = new Array<unknown>(count)
      for (let k = 0; k < count; k++) a[k] = this.entry(p, values + k * (1 + s), large, depth)
      out = a
    }
    this.end = end
    return out
  }

  entry(container: number, e: number, large: boolean, depth: number): unknown {
    const type = this.buf[e]
    const inlined =
      type === JsonType.LITERAL ||
      type === JsonType.INT16 ||
      type === JsonType.UINT16 ||
      (large && (type === JsonType.INT32 || type === JsonType.UINT32))
    if (inlined) return this.value(type, e + 1, depth + 1)
    return this.value(type, container + this.uint(e + 1, large ? 4 : 2), depth + 1)
  }

  opaque(type: number, start: number, end: number): unknown {
    const b = this.buf
    switch (type) {
      case ColumnType.NEWDECIMAL: {
        const precision = b[start]
        const scale = b[start + 1]
        const valid = end - start >= 2 && precision >= 1 && precision <= 65 && scale <= 30 && scale <= precision
        if (!valid || packedDecimalSize(precision, scale) > end - start - 2) this.fail("invalid opaque DECIMAL", start)
        return Number(readPackedDecimal(b, start + 2, precision, scale, this.field))
      }
      case ColumnType.DATE:
      case ColumnType.NEWDATE:
      case ColumnType.TIME:
      case ColumnType.TIME2:
      case ColumnType.DATETIME:
      case ColumnType.DATETIME2:
      case ColumnType.TIMESTAMP:
      case ColumnType.TIMESTAMP2:
        if (end - start < 8) return this.fail("opaque temporal value shorter than 8 bytes", start)
        return packedTemporalText(type, this.bigint(start, false))
      case ColumnType.VAR_STRING:
        return utf8.decode(b.subarray(start, end))
      default:
        return `base64:type${type}:${base64(b.subarray(start, end))}`
    }
  }
}

/**
 * A packed temporal value (MySQL's TIME_to_longlong_*_packed: the date as (year * 13 + month) << 5
 * | day, the time as hour << 12 | minute << 6 | second, those 17 bits below the date, the whole
 * shifted 24 bits above the microseconds, negated for negative times) as MySQL's JSON text.
 */
const packedTemporalText = (type: number, packed: bigint): string => {
  const negative = packed < 0n
  const v = negative ? -packed : packed
  const microsecond = Number(v & 0xffffffn)
  const whole = v >> 24n
  const hms = Number(whole & 0x1ffffn)
  const second = hms & 63
  const minute = (hms >> 6) & 63
  const hour = hms >> 12
  if (type === ColumnType.TIME || type === ColumnType.TIME2) {
    return formatTime({ negative, hours: Number(whole >> 12n), minutes: minute, seconds: second, microsecond }, 6)
  }
  const ymd = Number(whole >> 17n)
  const day = ymd & 31
  const ym = ymd >> 5
  const year = Math.floor(ym / 13)
  const month = ym % 13
  if (type === ColumnType.DATE || type === ColumnType.NEWDATE) return formatDate(year, month, day)
  return formatDateTime({ year, month, day, hour, minute, second, microsecond }, 6)
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

const base64 = (b: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0)
    out += BASE64[n >> 18] + BASE64[(n >> 12) & 63]
    out += i + 1 < b.length ? BASE64[(n >> 6) & 63] : "="
    out += i + 2 < b.length ? BASE64[n & 63] : "="
  }
  return out
}

const reader = new JsonReader()

/**
 * The JSON document in `buf[start, end)` (type byte first). An empty range is JSON null (what
 * MySQL stores for an empty JSON value). Throws a `WireError` naming `field` on malformed data.
 */
export const readJsonBinary = (buf: Uint8Array, start: number, end: number, field: string, exact = false) => {
  if (start === end) return null
  const r = reader
  r.buf = buf
  r.end = end
  r.field = field
  r.exact = exact
  r.budget = end - start
  try {
    return r.value(buf[start], start + 1, 0)
  } finally {
    r.buf = new Uint8Array(0)
  }
}

/** One binary JSON document as its JavaScript value; `exact` keeps big integers as `bigint`. */
export const decodeJsonBinary = (bytes: Uint8Array, exact = false): Result.Result<unknown, ProtocolError> => {
  try {
    return Result.succeed(readJsonBinary(bytes, 0, bytes.length, "json", exact))
  } catch (e) {
    return Result.fail(rowError("JsonBinary", e, undefined, undefined))
  }
}

// ---------------------------------------------------------------------------------------------
// Text, as MySQL prints a document: ", " between elements, ": " after keys
// ---------------------------------------------------------------------------------------------

/** MySQL's text of a JSON value (numbers as JavaScript writes them; `bigint` digits exact). */
export const jsonText = (value: unknown): string => {
  if (value === null || value === undefined) return "null"
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value)
  if (Array.isArray(value)) return `[${value.map(jsonText).join(", ")}]`
  const o = value as Record<string, unknown>
  return `{${Object.keys(o)
    .map((k) => `${JSON.stringify(k)}: ${jsonText(o[k])}`)
    .join(", ")}}`
}

// ---------------------------------------------------------------------------------------------
// Encoding (tests, servers): the smallest types MySQL would choose
// ---------------------------------------------------------------------------------------------

interface Encoded {
  readonly type: number
  readonly bytes: Uint8Array
}

const fixed = (type: number, n: number, v: number | bigint): Encoded => {
  const w = new Writer(8)
  if (n === 2) w.int2(Number(v) & 0xffff)
  else if (n === 4) w.int4(Number(v) >>> 0)
  else w.int8(BigInt.asUintN(64, BigInt(v)))
  return { type, bytes: w.finish() }
}

const encodeInteger = (v: bigint): Encoded => {
  if (v >= -32768n && v <= 32767n) return fixed(JsonType.INT16, 2, v)
  if (v >= -2147483648n && v <= 2147483647n) return fixed(JsonType.INT32, 4, v)
  if (v >= -(1n << 63n) && v < 1n << 63n) return fixed(JsonType.INT64, 8, v)
  if (v >= 0n && v < 1n << 64n) return fixed(JsonType.UINT64, 8, v)
  throw new WireError(`${v} does not fit in a JSON integer`, 0)
}

const varLengthBytes = (n: number): Array<number> => {
  const out: Array<number> = []
  do {
    const b = n % 128
    n = Math.floor(n / 128)
    out.push(n > 0 ? b | 0x80 : b)
  } while (n > 0)
  return out
}

const encodeValue = (value: unknown, depth: number): Encoded => {
  if (depth > MAX_DEPTH) throw new WireError(`JSON nested deeper than ${MAX_DEPTH}`, 0)
  if (value === null) return { type: JsonType.LITERAL, bytes: Uint8Array.of(0) }
  if (value === true || value === false) return { type: JsonType.LITERAL, bytes: Uint8Array.of(value ? 1 : 2) }
  if (typeof value === "bigint") return encodeInteger(value)
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return encodeInteger(BigInt(value))
    if (!Number.isFinite(value)) throw new WireError(`${value} has no JSON form`, 0)
    return { type: JsonType.DOUBLE, bytes: new Writer(8).float8(value).finish() }
  }
  if (typeof value === "string") {
    const text = encodeUtf8(value)
    const out = new Writer(text.length + 5)
    for (const b of varLengthBytes(text.length)) out.int1(b)
    return { type: JsonType.STRING, bytes: out.bytes(text).finish() }
  }
  if (Array.isArray(value)) {
    const items = value.map((v) => encodeValue(v, depth + 1))
    return container(undefined, items, false) ?? (container(undefined, items, true) as Encoded)
  }
  if (typeof value === "object") {
    const o = value as Record<string, unknown>
    // MySQL keeps keys sorted by length, then bytes: what lookups by binary search need.
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .map((k) => ({ k, bytes: encodeUtf8(k) }))
      .sort((a, b) => a.bytes.length - b.bytes.length || compareBytes(a.bytes, b.bytes))
    const items = keys.map(({ k }) => encodeValue(o[k], depth + 1))
    const names = keys.map((k) => k.bytes)
    return container(names, items, false) ?? (container(names, items, true) as Encoded)
  }
  throw new WireError(`${typeof value} has no JSON form`, 0)
}

const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return 0
}

const inlinedIn = (type: number, large: boolean): boolean =>
  type === JsonType.LITERAL ||
  type === JsonType.INT16 ||
  type === JsonType.UINT16 ||
  (large && (type === JsonType.INT32 || type === JsonType.UINT32))

/** An object (`keys` given) or array; `undefined` when it does not fit the small form. */
const container = (
  keys: ReadonlyArray<Uint8Array> | undefined,
  items: ReadonlyArray<Encoded>,
  large: boolean
): Encoded | undefined => {
  const s = large ? 4 : 2
  const max = large ? 0xffffffff : 0xffff
  const n = items.length
  let size = 2 * s + (keys === undefined ? 0 : n * (s + 2)) + n * (1 + s)
  const keyAt: Array<number> = []
  for (const k of keys ?? []) {
    keyAt.push(size)
    size += k.length
  }
  const valueAt: Array<number> = []
  for (const item of items) {
    valueAt.push(size)
    if (!inlinedIn(item.type, large)) size += item.bytes.length
  }
  if (size > max || (keys ?? []).some((k) => k.length > 0xffff)) return undefined
  const w = new Writer(size)
  const offset = (v: number) => (large ? w.int4(v) : w.int2(v))
  offset(n)
  offset(size)
  if (keys !== undefined) for (const [i, k] of keys.entries()) offset(keyAt[i]).int2(k.length)
  items.forEach((item, i) => {
    w.int1(item.type)
    if (!inlinedIn(item.type, large)) offset(valueAt[i])
    else w.bytes(item.bytes).zeros(s - item.bytes.length)
  })
  for (const k of keys ?? []) w.bytes(k)
  for (const item of items) if (!inlinedIn(item.type, large)) w.bytes(item.bytes)
  const type =
    keys === undefined
      ? large
        ? JsonType.LARGE_ARRAY
        : JsonType.SMALL_ARRAY
      : large
        ? JsonType.LARGE_OBJECT
        : JsonType.SMALL_OBJECT
  return { type, bytes: w.finish() }
}

/** Writes `value` (what `JSON.parse` gives, `bigint` allowed) as a binary JSON document. Throws a `WireError`. */
export const writeJsonBinary = (w: Writer, value: unknown): void => {
  const e = encodeValue(value, 0)
  w.int1(e.type).bytes(e.bytes)
}

/** `value` as a binary JSON document. */
export const encodeJsonBinary = (value: unknown): Result.Result<Uint8Array, ProtocolError> => {
  try {
    const w = new Writer(64)
    writeJsonBinary(w, value)
    return Result.succeed(w.finish())
  } catch (e) {
    return Result.fail(rowError("JsonBinary", e, undefined, undefined, true))
  }
}
