/**
 * TABLE_MAP event bodies: the table a rows event refers to by id, its column types and per-type
 * metadata, and the optional metadata `binlog_row_metadata=MINIMAL|FULL` adds (signedness,
 * collations, names, ENUM/SET values, geometry types, primary key), resolved into each column.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/classbinary__log_1_1Table__map__event.html
 * MariaDB: https://mariadb.com/kb/en/table_map_event/
 *
 * ```
 * post-header  int<6> table id (int<4> when the post-header is 6 bytes), int<2> flags
 * body         int<1> schema length, string schema, 0x00
 *              int<1> table length, string table, 0x00
 *              int<lenenc> column count, string[n] column types
 *              string<lenenc> metadata (0, 1 or 2 bytes per column, by type)
 *              string[(n+7)/8] nullable bitmap (LSB first)
 *              optional metadata, to the end: int<1> field type, string<lenenc> value
 * ```
 *
 * Which columns a field covers is decided from the types alone, as the servers' own decoders do
 * (MySQL libbinlogevents and MariaDB sql/log_event_client.cc), with what the servers' writers
 * do where the two differ: SIGNEDNESS covers the numeric columns (integers, FLOAT, DOUBLE, DECIMAL;
 * on MariaDB also YEAR, a tiny integer there: MariaDB 10.11 writes its bit, though its own client
 * code skips it); DEFAULT_CHARSET/COLUMN_CHARSET cover the character columns (CHAR, VARCHAR,
 * BLOB/TEXT, and on MariaDB GEOMETRY too, a BLOB there), not ENUM and SET, which the ENUM_AND_SET_*
 * fields cover. ENUM and SET columns say STRING in the type byte; their real type is
 * the first metadata byte.
 *
 * Internal to the binlog codecs: the functions throw `WireError`, caught by `decodeEvent`/`encodeEvent`.
 *
 * @module
 */
import { ColumnType } from "../ColumnType.ts"
import { encodeUtf8, type Reader, WireError, Writer } from "../Wire.ts"
import type { EventHeader, TableColumn, TableMapEvent } from "./BinlogEvent.ts"

/** Optional metadata field types (`Table_map_event::Optional_metadata_field_type`). */
export const TableMapField = {
  SIGNEDNESS: 1,
  DEFAULT_CHARSET: 2,
  COLUMN_CHARSET: 3,
  COLUMN_NAME: 4,
  SET_STR_VALUE: 5,
  ENUM_STR_VALUE: 6,
  GEOMETRY_TYPE: 7,
  SIMPLE_PRIMARY_KEY: 8,
  PRIMARY_KEY_WITH_PREFIX: 9,
  ENUM_AND_SET_DEFAULT_CHARSET: 10,
  ENUM_AND_SET_COLUMN_CHARSET: 11,
  COLUMN_VISIBILITY: 12
} as const

/** Metadata bytes per column type in a table map (`save_field_metadata` of each field class); -1: unknown type. */
const metadataSizes = ((): Int8Array => {
  const sizes = new Int8Array(256).fill(-1)
  const T = ColumnType
  for (const t of [T.DECIMAL, T.TINY, T.SHORT, T.LONG, T.NULL, T.TIMESTAMP, T.LONGLONG, T.INT24, T.DATE]) sizes[t] = 0
  for (const t of [T.TIME, T.DATETIME, T.YEAR, T.NEWDATE]) sizes[t] = 0
  for (const t of [T.FLOAT, T.DOUBLE, T.TIMESTAMP2, T.DATETIME2, T.TIME2, T.JSON, T.GEOMETRY, T.VECTOR]) sizes[t] = 1
  for (const t of [T.TINY_BLOB, T.MEDIUM_BLOB, T.LONG_BLOB, T.BLOB]) sizes[t] = 1
  for (const t of [T.VARCHAR, T.VAR_STRING, T.BIT, T.NEWDECIMAL, T.ENUM, T.SET, T.STRING]) sizes[t] = 2
  return sizes
})()

/** The type a column really has: ENUM and SET (and long CHARs) hide behind STRING (see MySQL's log_event.cc). */
export const realColumnType = (type: number, metadata: number): number => {
  if (type !== ColumnType.STRING) return type
  const b0 = metadata & 0xff
  // A CHAR longer than 255 bytes keeps two length bits in bits 4-5 of the first byte, inverted.
  return (b0 & 0x30) !== 0x30 ? b0 | 0x30 : b0
}

const isNumeric = (t: number, mariadb: boolean): boolean =>
  t === ColumnType.TINY ||
  t === ColumnType.SHORT ||
  t === ColumnType.INT24 ||
  t === ColumnType.LONG ||
  t === ColumnType.LONGLONG ||
  t === ColumnType.NEWDECIMAL ||
  t === ColumnType.FLOAT ||
  t === ColumnType.DOUBLE ||
  (mariadb && (t === ColumnType.YEAR || t === ColumnType.DECIMAL))

const isEnumOrSet = (t: number): boolean => t === ColumnType.ENUM || t === ColumnType.SET

const isCharacter = (t: number, mariadb: boolean): boolean =>
  t === ColumnType.STRING ||
  t === ColumnType.VAR_STRING ||
  t === ColumnType.VARCHAR ||
  t === ColumnType.BLOB ||
  (mariadb ? t === ColumnType.GEOMETRY : t === ColumnType.VECTOR)

const fail = (message: string, offset: number, field: string): never => {
  throw new WireError(message, offset, field)
}

/** Which columns each optional metadata field covers, in column order. */
interface Coverage {
  readonly numeric: Array<number>
  readonly character: Array<number>
  readonly enumOrSet: Array<number>
  readonly enums: Array<number>
  readonly sets: Array<number>
  readonly geometry: Array<number>
}

const coverage = (realTypes: ReadonlyArray<number>, mariadb: boolean): Coverage => {
  const c: Coverage = { numeric: [], character: [], enumOrSet: [], enums: [], sets: [], geometry: [] }
  for (let i = 0; i < realTypes.length; i++) {
    const t = realTypes[i]
    if (isNumeric(t, mariadb)) c.numeric.push(i)
    if (isCharacter(t, mariadb)) c.character.push(i)
    if (isEnumOrSet(t)) c.enumOrSet.push(i)
    if (t === ColumnType.ENUM) c.enums.push(i)
    if (t === ColumnType.SET) c.sets.push(i)
    if (t === ColumnType.GEOMETRY) c.geometry.push(i)
  }
  return c
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/** What the optional metadata says, per column, while it is being read. */
interface Optional {
  unsigned: Array<boolean | undefined>
  collation: Array<number | undefined>
  name: Array<string | undefined>
  enumValues: Array<ReadonlyArray<string> | undefined>
  setValues: Array<ReadonlyArray<string> | undefined>
  geometryType: Array<number | undefined>
  primaryKey: Array<number>
}

/** Reads collations (DEFAULT_CHARSET or COLUMN_CHARSET form) of the columns `targets` into `out`. */
const readCollations = (r: Reader, end: number, form: "default" | "column", targets: Array<number>, out: Optional) => {
  if (form === "column") {
    for (const c of targets) out.collation[c] = r.lenencNumber()
  } else {
    const fallback = r.lenencNumber()
    for (const c of targets) out.collation[c] = fallback
    while (r.pos < end) {
      const at = r.pos
      const k = r.lenencNumber()
      const collation = r.lenencNumber()
      if (k >= targets.length) fail(`collation for column ${k} of ${targets.length}`, at, "DEFAULT_CHARSET")
      out.collation[targets[k]] = collation
    }
  }
}

/** Reads ENUM or SET value lists for the columns `targets`. */
const readValueLists = (
  r: Reader,
  end: number,
  targets: Array<number>,
  out: Array<ReadonlyArray<string> | undefined>
) => {
  for (let k = 0; r.pos < end; k++) {
    const at = r.pos
    if (k >= targets.length) fail("more value lists than columns", at, "STR_VALUE")
    const count = r.lenencNumber()
    if (count > end - r.pos) fail(`${count} values do not fit`, at, "STR_VALUE")
    const values: Array<string> = []
    for (let i = 0; i < count; i++) values.push(r.lenencString())
    out[targets[k]] = values
  }
}

const readOptional = (r: Reader, realTypes: ReadonlyArray<number>, mariadb: boolean, out: Optional): void => {
  const n = realTypes.length
  let covered: Coverage | undefined
  while (!r.atEnd()) {
    const type = r.int1()
    const length = r.lenencLength()
    const end = r.pos + length
    const outer = r.end
    r.end = end
    covered ??= coverage(realTypes, mariadb)
    switch (type) {
      case TableMapField.SIGNEDNESS: {
        const numeric = covered.numeric
        const bits = r.fixedBytes((numeric.length + 7) >> 3)
        for (let k = 0; k < numeric.length; k++) out.unsigned[numeric[k]] = (bits[k >> 3] & (0x80 >> (k & 7))) !== 0
        break
      }
      case TableMapField.DEFAULT_CHARSET:
      case TableMapField.COLUMN_CHARSET:
        readCollations(r, end, type === TableMapField.DEFAULT_CHARSET ? "default" : "column", covered.character, out)
        break
      case TableMapField.ENUM_AND_SET_DEFAULT_CHARSET:
      case TableMapField.ENUM_AND_SET_COLUMN_CHARSET:
        readCollations(
          r,
          end,
          type === TableMapField.ENUM_AND_SET_DEFAULT_CHARSET ? "default" : "column",
          covered.enumOrSet,
          out
        )
        break
      case TableMapField.COLUMN_NAME:
        for (let c = 0; r.pos < end; c++) {
          if (c >= n) fail("more names than columns", r.pos, "COLUMN_NAME")
          out.name[c] = r.lenencString()
        }
        break
      case TableMapField.SET_STR_VALUE:
        readValueLists(r, end, covered.sets, out.setValues)
        break
      case TableMapField.ENUM_STR_VALUE:
        readValueLists(r, end, covered.enums, out.enumValues)
        break
      case TableMapField.GEOMETRY_TYPE:
        for (const c of covered.geometry) out.geometryType[c] = r.lenencNumber()
        break
      case TableMapField.SIMPLE_PRIMARY_KEY:
      case TableMapField.PRIMARY_KEY_WITH_PREFIX:
        while (r.pos < end) {
          const at = r.pos
          const c = r.lenencNumber()
          if (c >= n) fail(`primary key column ${c} of ${n}`, at, "PRIMARY_KEY")
          out.primaryKey.push(c)
          if (type === TableMapField.PRIMARY_KEY_WITH_PREFIX) r.lenencNumber()
        }
        break
    }
    // Fields this decoder does not use (COLUMN_VISIBILITY, newer ones) are skipped whole.
    r.pos = end
    r.end = outer
  }
}

/** Reads a TABLE_MAP body from after the post-header's table id width is known. */
export const unsafeReadTableMap = (
  r: Reader,
  header: EventHeader,
  postHeaderLength: number,
  mariadb: boolean
): TableMapEvent => {
  const tableId = postHeaderLength === 6 ? r.int4() : r.int6()
  const flags = r.int2()
  if (postHeaderLength > 8) r.skip(postHeaderLength - 8)
  const database = r.fixedString(r.int1())
  r.skip(1)
  const table = r.fixedString(r.int1())
  r.skip(1)
  const n = r.lenencNumber()
  const types = r.fixedBytes(n)
  const metadataLength = r.lenencLength()
  const metadataEnd = r.pos + metadataLength
  const metadata: Array<number> = new Array(n)
  const realTypes: Array<number> = new Array(n)
  for (let i = 0; i < n; i++) {
    const size = metadataSizes[types[i]]
    if (size < 0) fail(`unknown column type ${types[i]}`, r.pos, `column ${i}`)
    if (r.pos + size > metadataEnd) fail("metadata runs past its length", r.pos, `column ${i}`)
    const m = size === 0 ? 0 : size === 1 ? r.int1() : r.int2()
    metadata[i] = m
    realTypes[i] = realColumnType(types[i], m)
  }
  if (r.pos !== metadataEnd)
    fail(`metadata length ${metadataLength} disagrees with the column types`, r.pos, "metadata")
  const nulls = r.fixedBytes((n + 7) >> 3)
  const optional: Optional = {
    unsigned: new Array(n),
    collation: new Array(n),
    name: new Array(n),
    enumValues: new Array(n),
    setValues: new Array(n),
    geometryType: new Array(n),
    primaryKey: []
  }
  readOptional(r, realTypes, mariadb, optional)
  const columns: Array<TableColumn> = new Array(n)
  for (let i = 0; i < n; i++) {
    columns[i] = {
      type: types[i],
      metadata: metadata[i],
      nullable: (nulls[i >> 3] & (1 << (i & 7))) !== 0,
      name: optional.name[i],
      unsigned: optional.unsigned[i],
      collation: optional.collation[i],
      enumValues: optional.enumValues[i],
      setValues: optional.setValues[i],
      geometryType: optional.geometryType[i]
    }
  }
  return { _tag: "TableMap", header, tableId, flags, database, table, columns, primaryKey: optional.primaryKey }
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** The values of `pick` for `targets`: all defined, or none (undefined); some but not all is an error. */
const allOrNone = <A>(
  columns: ReadonlyArray<TableColumn>,
  targets: Array<number>,
  pick: (c: TableColumn) => A | undefined,
  field: string
): Array<A> | undefined => {
  const values = targets.map((c) => pick(columns[c]))
  const defined = values.filter((v) => v !== undefined).length
  if (defined === 0) return undefined
  if (defined < values.length) fail(`some columns have it, others not`, 0, field)
  return values as Array<A>
}

const writeField = (w: Writer, type: number, body: (v: Writer) => void): void => {
  const v = new Writer(32)
  body(v)
  w.int1(type).lenencBytes(v.finish())
}

/** Writes collations in the shorter of the two forms, with MySQL's and MariaDB's choice (init_charset_field). */
const writeCollations = (w: Writer, collations: Array<number>, defaultType: number, columnType: number): void => {
  const counts = new Map<number, number>()
  for (const c of collations) counts.set(c, (counts.get(c) ?? 0) + 1)
  let common = 0
  let commonCount = 0
  // Ties go to the lowest collation number: the servers walk an ordered map.
  for (const [c, k] of [...counts].sort((a, b) => a[0] - b[0])) {
    if (k > commonCount) {
      common = c
      commonCount = k
    }
  }
  if (collations.length < 1 + (collations.length - commonCount) * 2) {
    writeField(w, columnType, (v) => {
      for (const c of collations) v.lenencInt(c)
    })
  } else {
    writeField(w, defaultType, (v) => {
      v.lenencInt(common)
      collations.forEach((c, k) => {
        if (c !== common) v.lenencInt(k).lenencInt(c)
      })
    })
  }
}

const writeValueLists = (w: Writer, type: number, lists: Array<ReadonlyArray<string>>): void =>
  writeField(w, type, (v) => {
    for (const values of lists) {
      v.lenencInt(values.length)
      for (const s of values) v.lenencString(s)
    }
  })

/** The fields in the order both servers write them (Table_map_log_event::init_metadata_fields). */
const writeOptional = (w: Writer, e: TableMapEvent, realTypes: Array<number>, mariadb: boolean): void => {
  const cols = e.columns
  const c = coverage(realTypes, mariadb)
  const unsigned = allOrNone(cols, c.numeric, (col) => col.unsigned, "SIGNEDNESS")
  if (unsigned !== undefined) {
    writeField(w, TableMapField.SIGNEDNESS, (v) => {
      const bits = new Uint8Array((unsigned.length + 7) >> 3)
      unsigned.forEach((u, k) => {
        if (u) bits[k >> 3] |= 0x80 >> (k & 7)
      })
      v.bytes(bits)
    })
  }
  const character = allOrNone(cols, c.character, (col) => col.collation, "charset")
  if (character !== undefined)
    writeCollations(w, character, TableMapField.DEFAULT_CHARSET, TableMapField.COLUMN_CHARSET)
  const geometry = allOrNone(cols, c.geometry, (col) => col.geometryType, "GEOMETRY_TYPE")
  if (geometry !== undefined) {
    writeField(w, TableMapField.GEOMETRY_TYPE, (v) => {
      for (const g of geometry) v.lenencInt(g)
    })
  }
  const names = allOrNone(
    cols,
    cols.map((_, i) => i),
    (col) => col.name,
    "COLUMN_NAME"
  )
  if (names !== undefined) {
    writeField(w, TableMapField.COLUMN_NAME, (v) => {
      for (const name of names) v.lenencString(name)
    })
  }
  const enumSet = allOrNone(cols, c.enumOrSet, (col) => col.collation, "enum/set charset")
  if (enumSet !== undefined) {
    writeCollations(w, enumSet, TableMapField.ENUM_AND_SET_DEFAULT_CHARSET, TableMapField.ENUM_AND_SET_COLUMN_CHARSET)
  }
  const sets = allOrNone(cols, c.sets, (col) => col.setValues, "SET_STR_VALUE")
  if (sets !== undefined) writeValueLists(w, TableMapField.SET_STR_VALUE, sets)
  const enums = allOrNone(cols, c.enums, (col) => col.enumValues, "ENUM_STR_VALUE")
  if (enums !== undefined) writeValueLists(w, TableMapField.ENUM_STR_VALUE, enums)
  if (e.primaryKey.length > 0) {
    writeField(w, TableMapField.SIMPLE_PRIMARY_KEY, (v) => {
      for (const col of e.primaryKey) v.lenencInt(col)
    })
  }
}

/** Writes a TABLE_MAP post-header and body. */
export const unsafeWriteTableMap = (w: Writer, e: TableMapEvent, postHeaderLength: number, mariadb: boolean): void => {
  if (postHeaderLength === 6) w.int4(e.tableId)
  else w.int6(e.tableId)
  w.int2(e.flags)
  if (postHeaderLength > 8) w.zeros(postHeaderLength - 8)
  for (const name of [e.database, e.table]) {
    const bytes = encodeUtf8(name)
    if (bytes.length > 255) fail(`name "${name}" is longer than 255 bytes`, w.pos, "name")
    w.int1(bytes.length).nulBytes(bytes)
  }
  const n = e.columns.length
  w.lenencInt(n)
  const realTypes: Array<number> = []
  const metadata = new Writer(n * 2)
  for (let i = 0; i < n; i++) {
    const { metadata: m, type } = e.columns[i]
    const size = metadataSizes[type & 0xff]
    if (size < 0 || type > 0xff) fail(`unknown column type ${type}`, w.pos, `column ${i}`)
    w.int1(type)
    if (m < 0 || m >= 2 ** (8 * size) || !Number.isInteger(m))
      fail(`metadata ${m} does not fit in ${size} byte(s)`, w.pos, `column ${i}`)
    if (size === 1) metadata.int1(m)
    else if (size === 2) metadata.int2(m)
    realTypes.push(realColumnType(type, m))
  }
  w.lenencBytes(metadata.finish())
  const nulls = new Uint8Array((n + 7) >> 3)
  for (let i = 0; i < n; i++) if (e.columns[i].nullable) nulls[i >> 3] |= 1 << (i & 7)
  w.bytes(nulls)
  writeOptional(w, e, realTypes, mariadb)
}
