/**
 * The row images of binlog ROWS events (WRITE/UPDATE/DELETE_ROWS v1 and v2, MariaDB's compressed
 * ones once inflated, MySQL's PARTIAL_UPDATE_ROWS), decoded to the same JavaScript values a
 * `SELECT` of the row gives through the binary protocol with the same `ValueOptions`, and encoded
 * back (tests, fake servers).
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
 * - MySQL's JSON with `json: "string"` is printed as MySQL prints a document (", ", ": "), with
 *   numbers as JavaScript writes them (1e21, not 1e+21 … 1e21 is MySQL's; DECIMAL values lose
 *   their trailing zeros).
 * - A partial JSON update is applied to the before image's document; without it in the before
 *   image (`binlog_row_image=MINIMAL`) the event cannot be decoded and the error says so.
 * - Old DECIMAL (pre-5.0 tables) is refused with an error naming the column.
 *
 * Readers are chosen once per table map: a storage code per column and a `switch` per value,
 * reading straight from the event's bytes. Pure code over `Uint8Array`; no IO.
 */
import { Result } from "effect"
import { BINARY_COLLATION_ID, ColumnFlag, ColumnType, columnTypeName } from "../ColumnType.ts"
import { type ProtocolError, protocolError } from "../ProtocolError.ts"
import { dateTimeValue, readI64, readLenencValue, shortestFloat32 } from "../values/BinaryValue.ts"
import { type ColumnInfo, type ColumnPlan, Kind, makeColumnPlan } from "../values/ColumnPlan.ts"
import { makeRowBuilder, type RowBuilder, type RowObject, rowError, valueAt } from "../values/RowCodec.ts"
import {
  type DateTimeParts,
  formatDateTime,
  formatTime,
  fractionDigits,
  fromDate,
  parseDateTimeText,
  parseTimeText,
  toDate
} from "../values/Temporal.ts"
import { bitBytes, bitsToBigInt, textBytes } from "../values/TextValue.ts"
import type { ResolvedValueOptions } from "../values/ValueOptions.ts"
import { readFloat4, readFloat8, WireError, Writer } from "../Wire.ts"
import type { RowsEvent, TableColumn, TableMapEvent } from "./BinlogEvent.ts"
import { jsonText, readJsonBinary, writeJsonBinary } from "./JsonBinary.ts"
import { readJsonDiffs } from "./JsonDiff.ts"
import { packedDecimalSize, readPackedDecimal, writePackedDecimal } from "./PackedDecimal.ts"

/** How a column's value is stored in an image: one small integer per column. */
const Storage = {
  NULL: 0,
  INT1: 1,
  INT2: 2,
  INT3: 3,
  INT4: 4,
  INT8: 5,
  FLOAT: 6,
  DOUBLE: 7,
  DECIMAL: 8,
  YEAR: 9,
  DATE: 10,
  TIME: 11,
  TIME2: 12,
  DATETIME: 13,
  DATETIME2: 14,
  TIMESTAMP: 15,
  TIMESTAMP2: 16,
  /** Length (`size` bytes) then bytes: VARCHAR, CHAR, BLOB, TEXT, GEOMETRY, VECTOR. */
  BYTES: 17,
  ENUM: 18,
  SET: 19,
  BIT: 20,
  /** MySQL's binary JSON after a length of `size` bytes. */
  JSON: 21,
  UNSUPPORTED: 22
} as const

/** Bytes of the fraction of TIME2/DATETIME2/TIMESTAMP2 per fsp. */
const FRACTION_BYTES = [0, 1, 1, 2, 2, 3, 3]

const TWO_24 = 16777216
const TWO_32 = 4294967296

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

const fail = (message: string, offset: number, field: string): never => {
  throw new WireError(message, offset, field)
}

/** What the table map says of column `i`, resolved once: storage, sizes, and the plan's column. */
interface Described {
  readonly storage: number
  /** Length bytes, value bytes, ENUM/SET bytes or fsp, by storage. */
  readonly size: number
  readonly precision: number
  /** Binary CHAR: the length its stored value is padded back to. */
  readonly pad: number
  readonly info: ColumnInfo
}

const isCharType = (type: number) =>
  type === ColumnType.VARCHAR || type === ColumnType.VAR_STRING || type === ColumnType.STRING

const describe = (c: TableColumn, name: string): Described => {
  const m = c.metadata
  let storage: number = Storage.UNSUPPORTED
  let size = 0
  let precision = 0
  let pad = 0
  let decimals = 0
  let flags = c.unsigned === true ? ColumnFlag.UNSIGNED : 0
  let columnLength: number | undefined
  const collation = c.collation ?? (isCharType(c.type) ? 45 : BINARY_COLLATION_ID)
  switch (c.type) {
    case ColumnType.TINY:
      storage = Storage.INT1
      break
    case ColumnType.SHORT:
      storage = Storage.INT2
      break
    case ColumnType.INT24:
      storage = Storage.INT3
      break
    case ColumnType.LONG:
      storage = Storage.INT4
      break
    case ColumnType.LONGLONG:
      storage = Storage.INT8
      break
    case ColumnType.FLOAT:
      storage = Storage.FLOAT
      break
    case ColumnType.DOUBLE:
      storage = Storage.DOUBLE
      break
    case ColumnType.NEWDECIMAL:
      storage = Storage.DECIMAL
      precision = m & 0xff
      decimals = m >> 8
      size = packedDecimalSize(precision, decimals)
      break
    case ColumnType.YEAR:
      storage = Storage.YEAR
      break
    case ColumnType.DATE:
    case ColumnType.NEWDATE:
      storage = Storage.DATE
      break
    case ColumnType.TIME:
      storage = Storage.TIME
      break
    case ColumnType.DATETIME:
      storage = Storage.DATETIME
      break
    case ColumnType.TIMESTAMP:
      storage = Storage.TIMESTAMP
      break
    case ColumnType.TIME2:
    case ColumnType.DATETIME2:
    case ColumnType.TIMESTAMP2:
      storage =
        c.type === ColumnType.TIME2
          ? Storage.TIME2
          : c.type === ColumnType.DATETIME2
            ? Storage.DATETIME2
            : Storage.TIMESTAMP2
      size = Math.min(m & 0xff, 6)
      decimals = size
      break
    case ColumnType.VARCHAR:
    case ColumnType.VAR_STRING:
      storage = Storage.BYTES
      size = m > 255 ? 2 : 1
      break
    case ColumnType.STRING:
    case ColumnType.ENUM:
    case ColumnType.SET: {
      let real = m & 0xff
      let length = m >> 8
      // Lengths above 255 keep their bits 8 and 9 in bits 4 and 5 of the real type, inverted.
      if ((real & 0x30) !== 0x30) {
        length |= ((real & 0x30) ^ 0x30) << 4
        real |= 0x30
      }
      if (real === ColumnType.ENUM) storage = Storage.ENUM
      else if (real === ColumnType.SET) {
        storage = Storage.SET
        flags |= ColumnFlag.SET
      } else storage = Storage.BYTES
      size = storage === Storage.BYTES ? (length > 255 ? 2 : 1) : length
      if (storage === Storage.BYTES && c.collation === BINARY_COLLATION_ID) pad = length
      break
    }
    case ColumnType.BIT:
      storage = Storage.BIT
      columnLength = (m >> 8) * 8 + (m & 0xff)
      size = (m >> 8) + ((m & 0xff) > 0 ? 1 : 0)
      break
    case ColumnType.TINY_BLOB:
    case ColumnType.MEDIUM_BLOB:
    case ColumnType.LONG_BLOB:
    case ColumnType.BLOB:
    case ColumnType.GEOMETRY:
    case ColumnType.VECTOR:
      storage = Storage.BYTES
      size = m & 0xff
      break
    case ColumnType.JSON:
      storage = Storage.JSON
      size = m & 0xff
      break
    case ColumnType.NULL:
      storage = Storage.NULL
      break
  }
  if ((storage === Storage.BYTES || storage === Storage.JSON) && (size < 1 || size > 4)) storage = Storage.UNSUPPORTED
  if (storage === Storage.DECIMAL && (precision < 1 || precision > 65 || decimals > 30 || decimals > precision)) {
    storage = Storage.UNSUPPORTED
  }
  if ((storage === Storage.ENUM && (size < 1 || size > 2)) || (storage === Storage.SET && (size < 1 || size > 8))) {
    storage = Storage.UNSUPPORTED
  }
  const info: ColumnInfo = { name, type: c.type, flags, decimals, collation }
  return { storage, size, precision, pad, info: columnLength === undefined ? info : { ...info, columnLength } }
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

/** The column descriptions of a table map, shared by the decoder and the encoder. */
class TableImage {
  readonly table: TableMapEvent
  readonly count: number
  readonly names: ReadonlyArray<string>
  readonly plan: ColumnPlan
  readonly storage: Uint8Array
  readonly size: Uint8Array
  readonly precision: Uint8Array
  readonly pad: Uint16Array
  /** JSON columns: their ordinal among the table's JSON columns (partial bits), else -1. */
  readonly jsonIndex: Int16Array
  readonly jsonCount: number
  readonly enumValues: ReadonlyArray<ReadonlyArray<string> | undefined>
  readonly setValues: ReadonlyArray<ReadonlyArray<string> | undefined>

  constructor(table: TableMapEvent, options: ResolvedValueOptions) {
    const columns = table.columns
    const count = columns.length
    this.table = table
    this.count = count
    const named = count > 0 && columns.every((c) => c.name !== undefined)
    this.names = columns.map((c, i) => (named ? c.name! : String(i)))
    this.storage = new Uint8Array(count)
    this.size = new Uint8Array(count)
    this.precision = new Uint8Array(count)
    this.pad = new Uint16Array(count)
    this.jsonIndex = new Int16Array(count).fill(-1)
    const infos: Array<ColumnInfo> = []
    let json = 0
    for (let i = 0; i < count; i++) {
      const d = describe(columns[i], this.names[i])
      this.storage[i] = d.storage
      this.size[i] = d.size
      this.precision[i] = d.precision
      this.pad[i] = d.pad
      if (columns[i].type === ColumnType.JSON) this.jsonIndex[i] = json++
      infos.push(d.info)
    }
    this.jsonCount = json
    this.plan = makeColumnPlan(infos, options)
    this.enumValues = columns.map((c) => c.enumValues)
    this.setValues = columns.map((c) => c.setValues)
  }

  unsupported(i: number, offset: number): never {
    const c = this.table.columns[i]
    return fail(
      `column type ${columnTypeName(c.type) ?? c.type} with metadata 0x${c.metadata.toString(16)} cannot be read from a row image`,
      offset,
      this.names[i]
    )
  }
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

const ZERO_DATETIME: DateTimeParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, microsecond: 0 }

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

// ---------------------------------------------------------------------------------------------
// Encoding: what a server writes
// ---------------------------------------------------------------------------------------------

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
