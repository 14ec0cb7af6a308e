/**
 * What a table map says of each column, resolved once per table map for the row image decoder and
 * encoder: how the column's values are stored in a row image (a small storage code and its sizes,
 * from the column type and its metadata) and the `ColumnPlan` of the JavaScript values they become.
 * See `RowImage.ts` for the formats.
 *
 * Pure data; no IO.
 */
import { BINARY_COLLATION_ID, ColumnFlag, ColumnType, columnTypeName } from "../ColumnType.ts"
import { type ColumnInfo, type ColumnPlan, makeColumnPlan } from "../values/ColumnPlan.ts"
import type { DateTimeParts } from "../values/Temporal.ts"
import type { ResolvedValueOptions } from "../values/ValueOptions.ts"
import { WireError } from "../Wire.ts"
import type { TableColumn, TableMapEvent } from "./BinlogEvent.ts"
import { packedDecimalSize } from "./PackedDecimal.ts"

/** How a column's value is stored in an image: one small integer per column. */
export const Storage = {
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
export const FRACTION_BYTES = [0, 1, 1, 2, 2, 3, 3]

export const TWO_24 = 16777216
export const TWO_32 = 4294967296

export const fail = (message: string, offset: number, field: string): never => {
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
    // The old forms have no fractional seconds; MariaDB's pre-10.3 ones with fractions
    // (mysql56_temporal_format=OFF) announce them in the metadata and are refused.
    case ColumnType.TIME:
      storage = m === 0 ? Storage.TIME : Storage.UNSUPPORTED
      break
    case ColumnType.DATETIME:
      storage = m === 0 ? Storage.DATETIME : Storage.UNSUPPORTED
      break
    case ColumnType.TIMESTAMP:
      storage = m === 0 ? Storage.TIMESTAMP : Storage.UNSUPPORTED
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
      size = m & 0xff
      decimals = size
      if (size > 6) storage = Storage.UNSUPPORTED
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

/** The column descriptions of a table map, shared by the decoder and the encoder. */
export class TableImage {
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

export const ZERO_DATETIME: DateTimeParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, microsecond: 0 }
