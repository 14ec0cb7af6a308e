/**
 * Row images written as servers write them: the inverse of `RowImage.ts`, for tests and fake
 * servers. It takes the values the decoder gives (with the same options) and writes each column in
 * its binlog form; the null bitmap's bits past the last column are set, as MySQL and MariaDB leave
 * them.
 *
 * Pure code over `Uint8Array`; no IO.
 */
import { Result } from "effect"
import type { ProtocolError } from "../ProtocolError.ts"
import { type RowObject, rowError, valueAt } from "../values/RowCodec.ts"
import { type DateTimeParts, fromDate, parseDateTimeText, parseTimeText, toDate } from "../values/Temporal.ts"
import { bitBytes, textBytes } from "../values/TextValue.ts"
import type { ResolvedValueOptions } from "../values/ValueOptions.ts"
import { WireError, Writer } from "../Wire.ts"
import type { TableMapEvent } from "./BinlogEvent.ts"
import { writeJsonBinary } from "./JsonBinary.ts"
import { writePackedDecimal } from "./PackedDecimal.ts"
import type { RowImage, UpdatedRow } from "./RowImage.ts"
import { FRACTION_BYTES, fail, Storage, TableImage, TWO_24, ZERO_DATETIME } from "./RowImageColumns.ts"

const uintLE = (w: Writer, v: number | bigint, n: number): void => {
  let x = BigInt.asUintN(n * 8, BigInt(v))
  for (let k = 0; k < n; k++, x >>= 8n) w.int1(Number(x & 0xffn))
}

const uintBE = (w: Writer, v: number, n: number): void => {
  for (let k = n - 1; k >= 0; k--) w.int1(Math.floor(v / 256 ** k) % 256)
}

const integer = (value: unknown, offset: number, field: string): bigint => {
  if (typeof value === "bigint") return value
  if (typeof value === "boolean") return value ? 1n : 0n
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value)
  if (typeof value === "string" && /^[+-]?\d+$/.test(value)) return BigInt(value)
  return fail(`integer expected, got ${typeof value}`, offset, field)
}

const ZERO_TEXT = /^0000-00-00( 00:00:00(\.0+)?)?$/

class Encoder extends TableImage {
  /** Wall-clock fields of a DATE/DATETIME value (`Date` in the option's zone, or text); `undefined`: zero. */
  private wallClock(value: unknown, offset: number, field: string): DateTimeParts | undefined {
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) return fail("invalid Date", offset, field)
      return fromDate(value, this.plan.options.zone)
    }
    if (typeof value === "string") {
      if (ZERO_TEXT.test(value)) return undefined
      return parseDateTimeText(value) ?? fail(`invalid date/time text ${JSON.stringify(value)}`, offset, field)
    }
    return fail(`Date expected, got ${value === null ? "null" : typeof value}`, offset, field)
  }

  /** A TIMESTAMP value as [seconds, microseconds] since the epoch. */
  private instant(value: unknown, offset: number, field: string): [number, number] {
    if (value instanceof Date) {
      const ms = value.getTime()
      if (Number.isNaN(ms)) return fail("invalid Date", offset, field)
      return [Math.floor(ms / 1000), (((ms % 1000) + 1000) % 1000) * 1000]
    }
    const p = this.wallClock(value, offset, field)
    if (p === undefined) return [0, 0]
    const ms = toDate(p.year, p.month, p.day, p.hour, p.minute, p.second, 0, this.plan.options.zone).getTime()
    return [Math.floor(ms / 1000), p.microsecond]
  }

  private fraction(w: Writer, microsecond: number, fsp: number): void {
    const n = FRACTION_BYTES[fsp]
    if (n === 0) return
    const unit = n === 1 ? 10000 : n === 2 ? 100 : 1
    const kept = microsecond - (microsecond % 10 ** (6 - fsp))
    uintBE(w, kept / unit, n)
  }

  write(w: Writer, i: number, value: unknown): void {
    const field = this.names[i]
    const plan = this.plan
    switch (this.storage[i]) {
      case Storage.INT1:
      case Storage.INT2:
      case Storage.INT3:
      case Storage.INT4:
      case Storage.INT8: {
        const width = [1, 2, 3, 4, 8][this.storage[i] - Storage.INT1]
        uintLE(w, integer(value, w.pos, field), width)
        return
      }
      case Storage.FLOAT:
      case Storage.DOUBLE:
        if (typeof value !== "number") fail(`number expected, got ${typeof value}`, w.pos, field)
        if (this.storage[i] === Storage.FLOAT) w.float4(value as number)
        else w.float8(value as number)
        return
      case Storage.DECIMAL:
        writePackedDecimal(w, value, this.precision[i], plan.decimals[i], field)
        return
      case Storage.YEAR: {
        const y = Number(integer(value, w.pos, field))
        w.int1(y === 0 ? 0 : y - 1900)
        return
      }
      case Storage.DATE: {
        const p = this.wallClock(value, w.pos, field)
        uintLE(w, p === undefined ? 0 : p.day | (p.month << 5) | (p.year << 9), 3)
        return
      }
      case Storage.DATETIME: {
        const p = this.wallClock(value, w.pos, field) ?? ZERO_DATETIME
        const v = ((p.year * 100 + p.month) * 100 + p.day) * 1000000 + (p.hour * 100 + p.minute) * 100 + p.second
        uintLE(w, v, 8)
        return
      }
      case Storage.DATETIME2: {
        const p = this.wallClock(value, w.pos, field) ?? ZERO_DATETIME
        const ymd = (p.year * 13 + p.month) * 32 + p.day
        const hms = (p.hour << 12) | (p.minute << 6) | p.second
        uintBE(w, ymd * 131072 + hms + 0x8000000000, 5)
        this.fraction(w, p.microsecond, this.size[i])
        return
      }
      case Storage.TIMESTAMP:
      case Storage.TIMESTAMP2: {
        const [seconds, microsecond] = this.instant(value, w.pos, field)
        if (this.storage[i] === Storage.TIMESTAMP) uintLE(w, seconds, 4)
        else {
          uintBE(w, seconds, 4)
          this.fraction(w, microsecond, this.size[i])
        }
        return
      }
      case Storage.TIME:
      case Storage.TIME2: {
        const t = typeof value === "string" ? parseTimeText(value) : undefined
        if (t === undefined) throw new WireError(`TIME text expected, got ${JSON.stringify(value)}`, w.pos, field)
        const hms = t.hours * 4096 + t.minutes * 64 + t.seconds
        if (this.storage[i] === Storage.TIME) {
          const v = t.hours * 10000 + t.minutes * 100 + t.seconds
          uintLE(w, t.negative ? -v : v, 3)
          return
        }
        const fsp = this.size[i]
        const micro = t.microsecond - (t.microsecond % 10 ** (6 - fsp))
        const packed = (t.negative ? -1 : 1) * (hms * TWO_24 + micro)
        const whole = Math.floor(packed / TWO_24)
        if (fsp >= 5) uintBE(w, packed + 0x800000 * TWO_24, 6)
        else {
          uintBE(w, whole + 0x800000, 3)
          // The fraction is the remainder with the sign of the value, stored complemented.
          const frac = packed - Math.trunc(packed / TWO_24) * TWO_24
          if (fsp >= 3) uintBE(w, (frac / 100 + 0x10000) % 0x10000, 2)
          else if (fsp >= 1) uintBE(w, (frac / 10000 + 0x100) % 0x100, 1)
        }
        return
      }
      case Storage.BYTES: {
        let bytes = textBytes(plan, i, value, w.pos)
        if (this.pad[i] > 0) {
          let n = bytes.length
          while (n > 0 && bytes[n - 1] === 0) n--
          bytes = bytes.subarray(0, n)
        }
        const n = this.size[i]
        if (bytes.length >= 256 ** n) fail(`${bytes.length} bytes do not fit a ${n}-byte length`, w.pos, field)
        uintLE(w, bytes.length, n)
        w.bytes(bytes)
        return
      }
      case Storage.ENUM: {
        const names = this.enumValues[i]
        const index =
          typeof value === "string" && names !== undefined
            ? value === ""
              ? 0
              : names.indexOf(value) + 1
            : Number(integer(value, w.pos, field))
        if (index < 0 || (typeof value === "string" && value !== "" && index === 0)) {
          fail(`${JSON.stringify(value)} is not a member of the ENUM`, w.pos, field)
        }
        uintLE(w, index, this.size[i])
        return
      }
      case Storage.SET: {
        const names = this.setValues[i]
        const members = typeof value === "string" ? (value === "" ? [] : value.split(",")) : value
        let mask = 0n
        if (Array.isArray(members) && names !== undefined) {
          for (const m of members) {
            const b = names.indexOf(String(m))
            if (b < 0) fail(`${JSON.stringify(m)} is not a member of the SET`, w.pos, field)
            mask |= 1n << BigInt(b)
          }
        } else mask = integer(value, w.pos, field)
        uintLE(w, mask, this.size[i])
        return
      }
      case Storage.BIT: {
        const bytes = bitBytes(value, plan.columns[i], w.pos)
        const n = this.size[i]
        if (bytes.length > n)
          fail(`${bytes.length} bytes do not fit BIT(${plan.columns[i].columnLength})`, w.pos, field)
        w.zeros(n - bytes.length).bytes(bytes)
        return
      }
      case Storage.JSON: {
        const doc = new Writer(64)
        writeJsonBinary(doc, plan.options.json === "parse" ? value : JSON.parse(String(value)))
        const bytes = doc.finish()
        uintLE(w, bytes.length, this.size[i])
        w.bytes(bytes)
        return
      }
      case Storage.NULL:
        return
      default:
        this.unsupported(i, w.pos)
    }
  }

  image(w: Writer, row: ReadonlyArray<unknown> | RowObject, present: Uint8Array): void {
    const columns: Array<number> = []
    for (let i = 0; i < this.count; i++) if ((present[i >> 3] & (1 << (i & 7))) !== 0) columns.push(i)
    // As the servers write it: every bit set, then cleared for each value present (so the bits
    // past the last column stay set).
    const nulls = w.pos
    const bytes = (columns.length + 7) >> 3
    w.zeros(bytes)
    w.buf.fill(0xff, nulls, nulls + bytes)
    columns.forEach((i, k) => {
      const value = valueAt(row, this.names, i)
      if (value === null || value === undefined) return
      w.buf[nulls + (k >> 3)] &= ~(1 << (k & 7))
      this.write(w, i, value)
    })
  }
}

/** Which columns each image holds; all of them by default. */
export interface RowImageBitmaps {
  readonly columnsPresent?: Uint8Array | undefined
  readonly columnsPresentAfter?: Uint8Array | undefined
}

/**
 * The row images of a ROWS event of `table`: `rows` are rows (write, delete) or before/after pairs
 * (update), as the decoder gives them (objects keyed by the decoder's names, or arrays in column
 * order); `null` or a missing value is SQL NULL.
 */
export const encodeRowImages = (
  table: TableMapEvent,
  kind: "write" | "update" | "delete",
  rows: ReadonlyArray<RowImage> | ReadonlyArray<UpdatedRow>,
  options: ResolvedValueOptions,
  bitmaps: RowImageBitmaps = {}
): Result.Result<Uint8Array, ProtocolError> => {
  const encoder = new Encoder(table, options)
  const all = new Uint8Array((encoder.count + 7) >> 3).fill(0xff)
  const before = bitmaps.columnsPresent ?? all
  const after = bitmaps.columnsPresentAfter ?? before
  const w = new Writer(256)
  try {
    for (const row of rows) {
      if (kind === "update") {
        const pair = row as UpdatedRow
        encoder.image(w, pair.before, before)
        encoder.image(w, pair.after, after)
      } else encoder.image(w, row as RowImage, before)
    }
    return Result.succeed(w.finish())
  } catch (e) {
    return Result.fail(rowError("RowsEvent", e, undefined, undefined, true))
  }
}
