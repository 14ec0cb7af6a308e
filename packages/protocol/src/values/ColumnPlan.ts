/**
 * The decoding plan of a result set's column list: for every column, once per result set, the
 * value kind (how its bytes become a JavaScript value), its signedness, fractional digits and
 * text decoder. Text rows, binary rows and the single-value codecs all read the same plan, so a
 * column decodes to the same JavaScript value whichever protocol carried it.
 *
 * Pure data; no IO.
 */
import { type CharsetDecoding, decodingFor, type TextDecoderLike } from "../Collations.ts"
import { ColumnFlag, ColumnType } from "../ColumnType.ts"
import type { ResolvedValueOptions } from "./ValueOptions.ts"

/**
 * What the plan needs of a column definition: a `ColumnDefinition41` value fits, and so does a
 * hand-written `{ name, type, flags, decimals, collation }`.
 */
export interface ColumnInfo {
  readonly name: string
  /** `ColumnType` code [1 byte]. */
  readonly type: number
  /** `ColumnFlag` bits [2 bytes]. */
  readonly flags: number
  /** Fractional digits [1 byte]: the fsp of temporal columns, the scale of DECIMAL. */
  readonly decimals: number
  /** Collation id [2 bytes]: the character set of text columns; 63 (binary) for bytes. */
  readonly collation: number
  /** Maximum display length [4 bytes]; used for TINYINT(1) and BIT(n). */
  readonly columnLength?: number
  /** MariaDB extended metadata (data type "json", "uuid", "inet6"…). */
  readonly extendedType?: { readonly dataTypeName?: string; readonly formatName?: string }
}

/** Value kinds, one small integer per column (a `switch` in the row loops). */
export const Kind = {
  NULL: 0,
  /** TINYINT: int<1> in binary rows. */
  I8: 1,
  /** SMALLINT, YEAR: int<2>. */
  I16: 2,
  /** MEDIUMINT, INT: int<4>. */
  I32: 3,
  /** BIGINT: int<8>. */
  I64: 4,
  /** TINYINT(1) with `tinyint1: "boolean"`. */
  BOOL: 5,
  F32: 6,
  F64: 7,
  DECIMAL: 8,
  /** DATE */
  DATE: 9,
  /** DATETIME, TIMESTAMP */
  DATETIME: 10,
  TIME: 11,
  BIT: 12,
  JSON: 13,
  /** Text in utf8mb4/utf8mb3. */
  UTF8: 14,
  /** Text in another supported character set. */
  TEXT: 15,
  /** Bytes: binary collation, GEOMETRY, unsupported or unknown character sets. */
  BYTES: 16,
  VECTOR: 17,
  /** SET with `set: "array"`. */
  SET: 18
} as const

export type Kind = (typeof Kind)[keyof typeof Kind]

export interface ColumnPlan {
  readonly count: number
  readonly columns: ReadonlyArray<ColumnInfo>
  readonly names: ReadonlyArray<string>
  readonly kinds: Uint8Array
  readonly types: Uint8Array
  readonly unsigned: Uint8Array
  readonly decimals: Uint8Array
  /** Text decoder of TEXT, SET and UTF8 columns (fatal: invalid bytes throw). */
  readonly decoders: ReadonlyArray<TextDecoderLike | undefined>
  readonly options: ResolvedValueOptions
}

const textKind = (decoding: CharsetDecoding): Kind =>
  decoding.kind === "utf8" ? Kind.UTF8 : decoding.kind === "bytes" ? Kind.BYTES : Kind.TEXT

const utf8 = decodingFor(45)

/** The kind of one column under `options`. */
export const kindOf = (column: ColumnInfo, options: ResolvedValueOptions): Kind => {
  const dataTypeName = column.extendedType?.dataTypeName
  if (dataTypeName === "json" || column.extendedType?.formatName === "json") return Kind.JSON
  if (dataTypeName === "vector") return Kind.VECTOR
  switch (column.type) {
    case ColumnType.NULL:
      return Kind.NULL
    case ColumnType.TINY:
      return options.tinyint1 === "boolean" && column.columnLength === 1 ? Kind.BOOL : Kind.I8
    case ColumnType.SHORT:
    case ColumnType.YEAR:
      return Kind.I16
    case ColumnType.INT24:
    case ColumnType.LONG:
      return Kind.I32
    case ColumnType.LONGLONG:
      return Kind.I64
    case ColumnType.FLOAT:
      return Kind.F32
    case ColumnType.DOUBLE:
      return Kind.F64
    case ColumnType.DECIMAL:
    case ColumnType.NEWDECIMAL:
      return Kind.DECIMAL
    case ColumnType.DATE:
    case ColumnType.NEWDATE:
      return Kind.DATE
    case ColumnType.DATETIME:
    case ColumnType.DATETIME2:
    case ColumnType.TIMESTAMP:
    case ColumnType.TIMESTAMP2:
      return Kind.DATETIME
    case ColumnType.TIME:
    case ColumnType.TIME2:
      return Kind.TIME
    case ColumnType.BIT:
      return Kind.BIT
    case ColumnType.JSON:
      return Kind.JSON
    case ColumnType.VECTOR:
      return Kind.VECTOR
    case ColumnType.GEOMETRY:
      return Kind.BYTES
    default: {
      // VARCHAR, VAR_STRING, STRING, ENUM, SET, the BLOB types and anything unknown: a string
      // in the column's character set, or bytes.
      const kind = textKind(decodingFor(column.collation))
      if (kind !== Kind.BYTES && options.set === "array" && (column.flags & ColumnFlag.SET) !== 0) return Kind.SET
      return kind
    }
  }
}

/** Builds the plan of a column list; done once per result set. */
export const makeColumnPlan = (columns: ReadonlyArray<ColumnInfo>, options: ResolvedValueOptions): ColumnPlan => {
  const count = columns.length
  const kinds = new Uint8Array(count)
  const types = new Uint8Array(count)
  const unsigned = new Uint8Array(count)
  const decimals = new Uint8Array(count)
  const decoders: Array<TextDecoderLike | undefined> = []
  for (let i = 0; i < count; i++) {
    const column = columns[i]
    const kind = kindOf(column, options)
    kinds[i] = kind
    types[i] = column.type & 0xff
    unsigned[i] = (column.flags & ColumnFlag.UNSIGNED) !== 0 ? 1 : 0
    decimals[i] = column.decimals & 0xff
    const decoding = kind === Kind.JSON ? utf8 : decodingFor(column.collation)
    decoders.push(decoding.kind === "bytes" ? undefined : decoding.decoder)
  }
  return { count, columns, names: columns.map((c) => c.name), kinds, types, unsigned, decimals, decoders, options }
}
