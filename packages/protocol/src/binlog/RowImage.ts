/**
 * The row images of binlog ROWS events (WRITE/UPDATE/DELETE_ROWS v1 and v2, MariaDB's compressed
 * ones once inflated, MySQL's PARTIAL_UPDATE_ROWS), decoded to the same JavaScript values a
 * `SELECT` of the row gives through the binary protocol with the same `ValueOptions`. The inverse,
 * for tests and fake servers, is `RowImageEncoder.ts`; what the table map says of each column is
 * resolved once in `RowImageColumns.ts`.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/classbinary__log_1_1Rows__event.html
 *        https://github.com/mysql/mysql-server/blob/8.4/sql/log_event.cc (log_event_print_value:
 *        every type's stored form; print_verbose_one_row: the image layout)
 * MariaDB: https://mariadb.com/kb/en/rows_event_v1v2-rows_compressed_event_v1/
 * Cross-checked with go-mysql's replication/row_event.go and mysql-binlog-connector-java's
 * AbstractRowsEventDataDeserializer.
 *
 * ```
 * rows          image, image, …  (updates: before image, after image, before image, …)
 * image         [PARTIAL_UPDATE_ROWS after images: value_options int<lenenc>; when its bit 1
 *               (PARTIAL_JSON_UPDATES) is set, partial bits: one bit per JSON column of the table]
 *               null bitmap: one bit per column present in the event's bitmap, (n + 7) / 8 bytes
 *               the value of every present, non-null column, in column order
 * ```
 *
 * Values, by the table map's type and its metadata (`TableColumn.metadata`, first byte low):
 *
 * | type                     | stored as                                                            |
 * |--------------------------|----------------------------------------------------------------------|
 * | TINY SHORT INT24 LONG LONGLONG | 1, 2, 3, 4, 8 bytes little-endian                              |
 * | FLOAT DOUBLE             | IEEE 754 little-endian                                               |
 * | NEWDECIMAL               | packed decimal (`PackedDecimal.ts`); metadata: precision, scale      |
 * | YEAR                     | 1 byte, year - 1900 (0 for 0000)                                     |
 * | DATE                     | 3 bytes LE: day (5 bits), month (4), year (15)                       |
 * | TIME                     | 3 bytes LE signed HHMMSS                                             |
 * | TIME2                    | 3 bytes BE + 0x800000 (hour 10 bits, minute 6, second 6), fraction   |
 * | DATETIME                 | 8 bytes LE YYYYMMDDhhmmss                                            |
 * | DATETIME2                | 5 bytes BE + 0x8000000000 ((year * 13 + month) 17 bits, day 5,       |
 * |                          | hour 5, minute 6, second 6), fraction                                |
 * | TIMESTAMP / TIMESTAMP2   | 4 bytes LE / BE seconds since the epoch (UTC); TIMESTAMP2: fraction  |
 * | fraction (fsp metadata)  | 0, 1, 1, 2, 2, 3, 3 bytes BE for fsp 0..6: hundredths, ten-thousandths or microseconds; negative TIME2 values store it complemented |
 * | VARCHAR VAR_STRING       | length (1 byte, 2 when the metadata's maximum > 255), bytes          |
 * | STRING                   | metadata: real type and length, whose bits 8 and 9 hide in the real type byte (XOR 0x30); CHAR: length (1 or 2 bytes), bytes without trailing padding; ENUM: index (1 or 2 bytes); SET: bitmask (1..8 bytes) |
 * | BIT                      | metadata: bits of the partial byte, whole bytes; BE bytes            |
 * | BLOB GEOMETRY JSON VECTOR| length (metadata: 1-4 bytes LE), bytes; MySQL JSON in binary (`JsonBinary.ts`) |
 *
 * Decisions, where the binlog says less than a result set:
 * - Rows are objects keyed by column name when the table map carries names
 *   (`binlog_row_metadata=FULL`), else by position ("0", "1", …); with `shape: "array"` they are
 *   arrays in column order. Only the columns present in the event's bitmap are there
 *   (`binlog_row_image=MINIMAL` or `NOBLOB`): an absent column is an absent key, or `undefined` in
 *   an array; SQL NULL is `null`.
 * - Without the optional metadata, integers are read as signed (the table map says nothing of
 *   signedness), CHAR and VARCHAR as utf8mb4 text, BLOB/TEXT as bytes, ENUM as its index (a
 *   number, 0 for the empty error value) and SET as its bitmask (a number; a `bigint` beyond 6
 *   bytes). A binary CHAR (BINARY(n)) is padded back with zero bytes only when its collation is
 *   known to be binary.
 * - TIMESTAMP is an instant in the binlog: it decodes to the `Date` of that instant, and with
 *   `dates: "string"` to the wall-clock text of that instant in `timeZone`. Both equal what a
 *   `SELECT` gives when the session's `time_zone` and `timeZone` are the same zone, as
 *   docs/types.md asks. 0 is the zero TIMESTAMP ('0000-00-00 00:00:00': `null`).
 * - TINYINT(1) reads as a number even with `tinyint1: "boolean"`: the binlog has no display width.
 * - MariaDB stores JSON as LONGTEXT: its JSON columns decode as strings (a `SELECT` parses them
 *   thanks to the extended metadata, which the binlog lacks). MariaDB's UUID and INET6 decode as
 *   their 16 stored bytes.
 * - MySQL's JSON with `json: "string"` is printed as MySQL prints a document (", " and ": "
 *   between elements), numbers as JavaScript writes them: 1e+21 where MySQL writes 1e21, and
 *   opaque DECIMAL values without their trailing zeros.
 * - A partial JSON update is applied to the before image's document; without it in the before
 *   image (`binlog_row_image=MINIMAL`) the event cannot be decoded and the error says so.
 * - Old DECIMAL (pre-5.0 tables), MariaDB's old fractional TIME/DATETIME/TIMESTAMP
 *   (`mysql56_temporal_format=OFF`) and types without a row form here (MySQL's TYPED_ARRAY) are
 *   refused with an error naming the column.
 *
 * Readers are chosen once per table map: a storage code per column and a `switch` per value,
 * reading straight from the event's bytes. Pure code over `Uint8Array`; no IO.
 */
import { Result } from "effect"
import { type ProtocolError, protocolError } from "../ProtocolError.ts"
import { dateTimeValue, readI64, readLenencValue, shortestFloat32 } from "../values/BinaryValue.ts"
import { Kind } from "../values/ColumnPlan.ts"
import { makeRowBuilder, type RowBuilder, type RowObject, rowError } from "../values/RowCodec.ts"
import { formatDateTime, formatTime, fractionDigits, fromDate } from "../values/Temporal.ts"
import { bitsToBigInt } from "../values/TextValue.ts"
import type { ResolvedValueOptions } from "../values/ValueOptions.ts"
import { readFloat4, readFloat8 } from "../Wire.ts"
import type { RowsEvent, TableMapEvent } from "./BinlogEvent.ts"
import { jsonText, readJsonBinary } from "./JsonBinary.ts"
import { readJsonDiffs } from "./JsonDiff.ts"
import { readPackedDecimal } from "./PackedDecimal.ts"
import { FRACTION_BYTES, fail, Storage, TableImage, TWO_24, TWO_32, ZERO_DATETIME } from "./RowImageColumns.ts"

/** A row as decoded: an object keyed by column name (or position), or an array in column order. */
export type RowImage = RowObject | Array<unknown>

export interface UpdatedRow<R extends RowImage = RowImage> {
  readonly before: R
  readonly after: R
}

/**
 * Decodes the row images of one table's ROWS events; built once per table map (cache it by table
 * id). `rows` replaces `event.rows`: the inflated bytes of a compressed event.
 */
export interface RowImageDecoder<R extends RowImage = RowImage> {
  readonly table: TableMapEvent
  /** The row keys: column names, or positions without names. */
  readonly names: ReadonlyArray<string>
  /** The rows of a write or delete event. */
  decodeRows(event: RowsEvent, rows?: Uint8Array): Result.Result<ReadonlyArray<R>, ProtocolError>
  /** The before and after images of an update event (PARTIAL_UPDATE_ROWS included). */
  decodeUpdates(event: RowsEvent, rows?: Uint8Array): Result.Result<ReadonlyArray<UpdatedRow<R>>, ProtocolError>
}

/** The columns present in one bitmap, and the builder of objects of those columns. */
interface Present {
  readonly bitmap: Uint8Array
  readonly columns: Int32Array
  readonly build: RowBuilder
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

class Decoder extends TableImage implements RowImageDecoder {
  readonly shape: "object" | "array"
  /** Where the last value read ended. */
  private pos = 0
  /** The column being read: where a failing image failed. */
  private column = -1
  /** Values of the image being read, in the order of its present columns (the builder copies them). */
  private readonly values: Array<unknown>
  private readonly presentCache: Array<Present | undefined> = [undefined, undefined]
  /** Where each JSON column's document lies in the last before image (-1: null or absent). */
  private readonly jsonStart: Int32Array
  private readonly jsonEnd: Int32Array

  constructor(table: TableMapEvent, options: ResolvedValueOptions, shape: "object" | "array") {
    super(table, options)
    this.shape = shape
    this.values = new Array<unknown>(this.count).fill(null)
    this.jsonStart = new Int32Array(this.count).fill(-1)
    this.jsonEnd = new Int32Array(this.count)
  }

  decodeRows(event: RowsEvent, rows?: Uint8Array): Result.Result<ReadonlyArray<RowImage>, ProtocolError> {
    if (event.kind === "update") return Result.fail(this.misuse("an update event: use decodeUpdates"))
    return this.decode(event, rows, false) as Result.Result<ReadonlyArray<RowImage>, ProtocolError>
  }

  decodeUpdates(event: RowsEvent, rows?: Uint8Array): Result.Result<ReadonlyArray<UpdatedRow>, ProtocolError> {
    if (event.kind !== "update") return Result.fail(this.misuse(`a ${event.kind} event: use decodeRows`))
    return this.decode(event, rows, true) as Result.Result<ReadonlyArray<UpdatedRow>, ProtocolError>
  }

  private misuse(what: string): ProtocolError {
    return protocolError("RowsEvent", what, undefined, undefined)
  }

  private decode(event: RowsEvent, rows: Uint8Array | undefined, update: boolean) {
    const bytes = rows ?? event.rows
    this.pos = 0
    this.column = -1
    try {
      if (event.tableId !== this.table.tableId) {
        fail(`rows of table ${event.tableId} given to the decoder of table ${this.table.tableId}`, 0, "tableId")
      }
      if (event.columnCount !== this.count) {
        fail(`${event.columnCount} columns, the table map has ${this.count}`, 0, "columnCount")
      }
      if (event.compressed && rows === undefined) fail("compressed rows: pass the inflated bytes", 0, "rows")
      const before = this.present(event.columnsPresent, 0)
      const after = update ? this.present(event.columnsPresentAfter ?? event.columnsPresent, 1) : before
      const partial = update && event.partial
      const out: Array<unknown> = []
      const end = bytes.length
      let p = 0
      while (p < end) {
        if (partial) this.jsonStart.fill(-1)
        const row = this.image(bytes, p, end, before, false)
        if (update) out.push({ before: row, after: this.image(bytes, this.pos, end, after, partial) })
        else out.push(row)
        // An image of no bytes (no columns present) would never reach the end.
        if (this.pos === p) fail("row image of no bytes", p, "rows")
        p = this.pos
      }
      return Result.succeed(out)
    } catch (e) {
      return Result.fail(rowError("RowsEvent", e, this.column < 0 ? undefined : this.names[this.column], this.pos))
    }
  }

  /** The present columns of `bitmap`; the last one per slot (before, after) is kept. */
  private present(bitmap: Uint8Array, slot: number): Present {
    const cached = this.presentCache[slot]
    if (cached !== undefined && sameBytes(cached.bitmap, bitmap)) return cached
    if (bitmap.length < (this.count + 7) >> 3) fail("column bitmap shorter than the column count", 0, "columnsPresent")
    const columns: Array<number> = []
    for (let i = 0; i < this.count; i++) if ((bitmap[i >> 3] & (1 << (i & 7))) !== 0) columns.push(i)
    const present = {
      bitmap: bitmap.slice(),
      columns: Int32Array.from(columns),
      build: makeRowBuilder(columns.map((i) => this.names[i]))
    }
    this.presentCache[slot] = present
    return present
  }

  /** One image at `p`; leaves `pos` after it. */
  private image(buf: Uint8Array, p: number, end: number, present: Present, partialAfter: boolean): RowImage {
    const columns = present.columns
    const n = columns.length
    let partialBits = -1
    this.column = -1
    if (partialAfter) {
      // value_options int<lenenc> (one byte for the values defined so far)
      if (p >= end) fail("missing value options", p, "valueOptions")
      const options = buf[p]
      if (options >= 0xfb) fail(`unsupported value options prefix 0x${options.toString(16)}`, p, "valueOptions")
      p++
      if ((options & 1) !== 0) {
        partialBits = p
        p += (this.jsonCount + 7) >> 3
      }
    }
    const nulls = p
    p += (n + 7) >> 3
    if (p > end) fail("null bitmap runs past the end", nulls, "nullBitmap")
    const values = this.values
    for (let k = 0; k < n; k++) {
      const i = columns[k]
      this.column = i
      if ((buf[nulls + (k >> 3)] & (1 << (k & 7))) !== 0) {
        values[k] = null
        continue
      }
      const j = this.jsonIndex[i]
      values[k] =
        partialBits >= 0 && j >= 0 && (buf[partialBits + (j >> 3)] & (1 << (j & 7))) !== 0
          ? this.partialJson(i, buf, p, end)
          : this.value(i, buf, p, end)
      p = this.pos
    }
    this.pos = p
    this.column = -1
    if (this.shape === "object") return present.build(values)
    const row = new Array<unknown>(this.count)
    if (n < this.count) row.fill(undefined)
    for (let k = 0; k < n; k++) row[columns[k]] = values[k]
    return row
  }

  private truncated(need: number, p: number, end: number, i: number): never {
    return fail(`truncated value: need ${need} byte(s), ${Math.max(0, end - p)} left`, p, this.names[i])
  }

  /** A length of `n` bytes, little-endian, at `p`, and the bytes it counts: returns where they start. */
  private lengthAt(i: number, buf: Uint8Array, p: number, n: number, end: number): number {
    if (p + n > end) return this.truncated(n, p, end, i)
    let length = 0
    for (let k = n - 1; k >= 0; k--) length = length * 256 + buf[p + k]
    const start = p + n
    if (start + length > end) return this.truncated(length, start, end, i)
    this.pos = start + length
    return start
  }

  /** Column `i`'s value at `p`; sets `pos` after it. */
  private value(i: number, buf: Uint8Array, p: number, end: number): unknown {
    const plan = this.plan
    const unsigned = plan.unsigned[i] === 1
    switch (this.storage[i]) {
      case Storage.INT1: {
        if (p + 1 > end) return this.truncated(1, p, end, i)
        this.pos = p + 1
        return unsigned ? buf[p] : (buf[p] << 24) >> 24
      }
      case Storage.INT2: {
        if (p + 2 > end) return this.truncated(2, p, end, i)
        this.pos = p + 2
        const v = buf[p] | (buf[p + 1] << 8)
        return unsigned ? v : (v << 16) >> 16
      }
      case Storage.INT3: {
        if (p + 3 > end) return this.truncated(3, p, end, i)
        this.pos = p + 3
        const v = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)
        return unsigned ? v : (v << 8) >> 8
      }
      case Storage.INT4: {
        if (p + 4 > end) return this.truncated(4, p, end, i)
        this.pos = p + 4
        const v = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)
        return unsigned ? v >>> 0 : v
      }
      case Storage.INT8:
        if (p + 8 > end) return this.truncated(8, p, end, i)
        this.pos = p + 8
        return readI64(plan, i, buf, p)
      case Storage.FLOAT: {
        if (p + 4 > end) return this.truncated(4, p, end, i)
        this.pos = p + 4
        const v = readFloat4(buf, p)
        return plan.options.float === "exact" ? v : shortestFloat32(v)
      }
      case Storage.DOUBLE:
        if (p + 8 > end) return this.truncated(8, p, end, i)
        this.pos = p + 8
        return readFloat8(buf, p)
      case Storage.DECIMAL: {
        const n = this.size[i]
        if (p + n > end) return this.truncated(n, p, end, i)
        this.pos = p + n
        const text = readPackedDecimal(buf, p, this.precision[i], plan.decimals[i], this.names[i])
        return plan.options.decimal === "string" ? text : Number(text)
      }
      case Storage.YEAR:
        if (p + 1 > end) return this.truncated(1, p, end, i)
        this.pos = p + 1
        return buf[p] === 0 ? 0 : buf[p] + 1900
      case Storage.DATE: {
        if (p + 3 > end) return this.truncated(3, p, end, i)
        this.pos = p + 3
        const v = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)
        return dateTimeValue(plan, i, v >> 9, (v >> 5) & 15, v & 31, 0, 0, 0, 0)
      }
      case Storage.TIME: {
        if (p + 3 > end) return this.truncated(3, p, end, i)
        this.pos = p + 3
        const v = ((buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)) << 8) >> 8
        const a = Math.abs(v)
        const t = {
          negative: v < 0,
          hours: Math.floor(a / 10000),
          minutes: Math.floor(a / 100) % 100,
          seconds: a % 100
        }
        return formatTime({ ...t, microsecond: 0 }, 0)
      }
      case Storage.TIME2:
        return this.time2(i, buf, p, end)
      case Storage.DATETIME: {
        if (p + 8 > end) return this.truncated(8, p, end, i)
        this.pos = p + 8
        const v =
          ((buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0) +
          ((buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16)) >>> 0) * TWO_32
        const date = Math.floor(v / 1000000)
        const time = v % 1000000
        return dateTimeValue(
          plan,
          i,
          Math.floor(date / 10000),
          Math.floor(date / 100) % 100,
          date % 100,
          Math.floor(time / 10000),
          Math.floor(time / 100) % 100,
          time % 100,
          0
        )
      }
      case Storage.DATETIME2: {
        const fsp = this.size[i]
        const n = 5 + FRACTION_BYTES[fsp]
        if (p + n > end) return this.truncated(n, p, end, i)
        this.pos = p + n
        const v =
          buf[p] * TWO_32 +
          (((buf[p + 1] << 24) | (buf[p + 2] << 16) | (buf[p + 3] << 8) | buf[p + 4]) >>> 0) -
          0x8000000000
        if (v < 0) return fail("negative DATETIME", p, this.names[i])
        const ymd = Math.floor(v / 131072)
        const hms = v % 131072
        const ym = ymd >> 5
        return dateTimeValue(
          plan,
          i,
          Math.floor(ym / 13),
          ym % 13,
          ymd & 31,
          hms >> 12,
          (hms >> 6) & 63,
          hms & 63,
          fraction(buf, p + 5, fsp)
        )
      }
      case Storage.TIMESTAMP: {
        if (p + 4 > end) return this.truncated(4, p, end, i)
        this.pos = p + 4
        return this.timestamp(i, (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0, 0)
      }
      case Storage.TIMESTAMP2: {
        const fsp = this.size[i]
        const n = 4 + FRACTION_BYTES[fsp]
        if (p + n > end) return this.truncated(n, p, end, i)
        this.pos = p + n
        const seconds = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0
        return this.timestamp(i, seconds, fraction(buf, p + 4, fsp))
      }
      case Storage.BYTES: {
        const start = this.lengthAt(i, buf, p, this.size[i], end)
        const stop = this.pos
        const pad = this.pad[i]
        if (pad > stop - start && plan.kinds[i] === Kind.BYTES) {
          // BINARY(n) is stored without its trailing zero bytes; a SELECT shows all n.
          const out = new Uint8Array(pad)
          out.set(buf.subarray(start, stop))
          return out
        }
        return readLenencValue(plan, i, plan.kinds[i], buf, start, stop)
      }
      case Storage.ENUM: {
        const n = this.size[i]
        if (p + n > end) return this.truncated(n, p, end, i)
        this.pos = p + n
        const index = n === 1 ? buf[p] : buf[p] | (buf[p + 1] << 8)
        const names = this.enumValues[i]
        if (names === undefined) return index
        if (index === 0) return ""
        return index <= names.length ? names[index - 1] : fail(`ENUM index ${index} out of range`, p, this.names[i])
      }
      case Storage.SET:
        return this.set(i, buf, p, end)
      case Storage.BIT: {
        const n = this.size[i]
        if (p + n > end) return this.truncated(n, p, end, i)
        this.pos = p + n
        return plan.options.bit === "bytes" ? buf.slice(p, p + n) : bitsToBigInt(buf, p, p + n)
      }
      case Storage.JSON: {
        const start = this.lengthAt(i, buf, p, this.size[i], end)
        this.jsonStart[i] = start
        this.jsonEnd[i] = this.pos
        return this.json(readJsonBinary(buf, start, this.pos, this.names[i], plan.options.json === "string"))
      }
      case Storage.NULL:
        this.pos = p
        return null
      default:
        return this.unsupported(i, p)
    }
  }

  private json(doc: unknown): unknown {
    return this.plan.options.json === "parse" ? doc : jsonText(doc)
  }

  /** A partial JSON column: the before image's document with this after image's diffs applied. */
  private partialJson(i: number, buf: Uint8Array, p: number, end: number): unknown {
    const start = this.lengthAt(i, buf, p, this.size[i], end)
    const stop = this.pos
    if (this.jsonStart[i] < 0) {
      return fail(
        "a partial JSON update needs the column's document in the before image (binlog_row_image=FULL)",
        p,
        this.names[i]
      )
    }
    const exact = this.plan.options.json === "string"
    const before = readJsonBinary(buf, this.jsonStart[i], this.jsonEnd[i], this.names[i], exact)
    const doc = readJsonDiffs(buf, start, stop, before, this.names[i], exact)
    this.pos = stop
    return this.json(doc)
  }

  private time2(i: number, buf: Uint8Array, p: number, end: number): string {
    const fsp = this.size[i]
    const n = 3 + FRACTION_BYTES[fsp]
    if (p + n > end) return this.truncated(n, p, end, i)
    this.pos = p + n
    let whole = ((buf[p] << 16) | (buf[p + 1] << 8) | buf[p + 2]) - 0x800000
    let micro = 0
    if (fsp === 1 || fsp === 2) {
      let f = buf[p + 3]
      // Negative values keep their fraction complemented, so that the bytes sort as the values.
      if (whole < 0 && f !== 0) {
        whole++
        f -= 0x100
      }
      micro = f * 10000
    } else if (fsp === 3 || fsp === 4) {
      let f = (buf[p + 3] << 8) | buf[p + 4]
      if (whole < 0 && f !== 0) {
        whole++
        f -= 0x10000
      }
      micro = f * 100
    } else if (fsp >= 5) {
      micro = (buf[p + 3] << 16) | (buf[p + 4] << 8) | buf[p + 5]
    }
    const packed = whole * TWO_24 + micro
    const a = Math.abs(packed)
    const hms = Math.floor(a / TWO_24)
    const microsecond = a % TWO_24
    return formatTime(
      { negative: packed < 0, hours: (hms >> 12) % 1024, minutes: (hms >> 6) & 63, seconds: hms & 63, microsecond },
      fractionDigits(fsp, microsecond)
    )
  }

  /** TIMESTAMP: an instant; its wall-clock text in the configured zone with `dates: "string"`. */
  private timestamp(i: number, seconds: number, microsecond: number): unknown {
    const plan = this.plan
    const digits = fractionDigits(plan.decimals[i], microsecond)
    if (seconds === 0 && microsecond === 0) {
      return plan.options.dates === "string" ? formatDateTime(ZERO_DATETIME, digits) : null
    }
    const date = new Date(seconds * 1000 + Math.floor(microsecond / 1000))
    if (plan.options.dates === "date") return date
    return formatDateTime({ ...fromDate(date, plan.options.zone), microsecond }, digits)
  }

  private set(i: number, buf: Uint8Array, p: number, end: number): unknown {
    const n = this.size[i]
    if (p + n > end) return this.truncated(n, p, end, i)
    this.pos = p + n
    const names = this.setValues[i]
    if (names === undefined) {
      if (n > 6) {
        let v = 0n
        for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(buf[p + k])
        return v
      }
      let v = 0
      for (let k = n - 1; k >= 0; k--) v = v * 256 + buf[p + k]
      return v
    }
    const members: Array<string> = []
    for (let b = 0; b < n * 8; b++) {
      if ((buf[p + (b >> 3)] & (1 << (b & 7))) === 0) continue
      if (b >= names.length) return fail(`SET bit ${b} has no member`, p, this.names[i])
      members.push(names[b])
    }
    return this.plan.kinds[i] === Kind.SET ? members : members.join(",")
  }
}

/** Microseconds of a TIME2/DATETIME2/TIMESTAMP2 fraction of `fsp` digits at `p` (non-negative values). */
const fraction = (buf: Uint8Array, p: number, fsp: number): number =>
  fsp === 0
    ? 0
    : fsp <= 2
      ? buf[p] * 10000
      : fsp <= 4
        ? ((buf[p] << 8) | buf[p + 1]) * 100
        : (buf[p] << 16) | (buf[p + 1] << 8) | buf[p + 2]

/**
 * The decoder of `table`'s row images: rows as objects (keyed by column name, or position without
 * names) or as arrays in column order.
 */
export function makeRowImageDecoder(
  table: TableMapEvent,
  options: ResolvedValueOptions,
  shape: "array"
): RowImageDecoder<Array<unknown>>
export function makeRowImageDecoder(
  table: TableMapEvent,
  options: ResolvedValueOptions,
  shape?: "object"
): RowImageDecoder<RowObject>
export function makeRowImageDecoder(
  table: TableMapEvent,
  options: ResolvedValueOptions,
  shape: "object" | "array" = "object"
): RowImageDecoder {
  return new Decoder(table, options, shape)
}
