/**
 * ColumnDefinition41: one column of a result set, or one parameter of a prepared statement.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_column_definition.html
 * MariaDB: https://mariadb.com/kb/en/result-set-packets/#column-definition-packet
 *
 * ```
 * string<lenenc> catalog              // always "def"
 * string<lenenc> schema
 * string<lenenc> table                // table alias
 * string<lenenc> org_table            // physical table
 * string<lenenc> name                 // column alias
 * string<lenenc> org_name             // physical column
 * if MARIADB_CLIENT_EXTENDED_METADATA:
 *   string<lenenc> extended type info: repeated
 *     int<1>         key              // [1 byte] 0: data type name ("json", "uuid", "point"…), 1: format name
 *     string<lenenc> value
 * int<lenenc>    length of fixed fields  // always 0x0C
 * int<2>         character set        // [2 bytes] collation id (63 = binary)
 * int<4>         column length        // [4 bytes] maximum display length
 * int<1>         type                 // [1 byte]  ColumnType
 * int<2>         flags                // [2 bytes] ColumnFlag
 * int<1>         decimals             // [1 byte]
 * int<2>         filler               // [2 bytes] 0x0000
 * ```
 *
 * The decoded shape is what the row decoders consume: `ColumnDefinition`.
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Schema } from "effect"
import { MariaDbCapability } from "./Capabilities.ts"
import { mariaDbCapability } from "./internal/conditions.ts"
import {
  define,
  type FieldCodec,
  int1,
  int2,
  int4,
  lenencString,
  type PacketCodec,
  UInt8,
  UInt16,
  UInt32
} from "./Packet.ts"
import { Reader, Writer } from "./Wire.ts"

/** MariaDB extended type information (MARIADB_CLIENT_EXTENDED_METADATA). */
export const ExtendedTypeInfoSchema: Schema.Struct<{
  /** Key 0: the data type's name, e.g. "json", "uuid", "inet6", "point", "geometry". */
  readonly dataTypeName: Schema.optionalKey<Schema.String>
  /** Key 1: the format's name, e.g. "json". */
  readonly formatName: Schema.optionalKey<Schema.String>
}> = Schema.Struct({
  dataTypeName: Schema.optionalKey(Schema.String),
  formatName: Schema.optionalKey(Schema.String)
})

export type ExtendedTypeInfo = typeof ExtendedTypeInfoSchema.Type

/** The decoded column definition. */
export const ColumnDefinitionSchema: Schema.Struct<{
  readonly catalog: Schema.String
  readonly schema: Schema.String
  readonly table: Schema.String
  readonly orgTable: Schema.String
  readonly name: Schema.String
  readonly orgName: Schema.String
  /** Collation id of the column's character set (63 = binary). */
  readonly collation: typeof UInt16
  /** Maximum display length. */
  readonly columnLength: typeof UInt32
  /** `ColumnType` code. */
  readonly type: typeof UInt8
  /** `ColumnFlag` bits. */
  readonly flags: typeof UInt16
  readonly decimals: typeof UInt8
  /** Present when MARIADB_CLIENT_EXTENDED_METADATA is negotiated. */
  readonly extendedType: Schema.optionalKey<typeof ExtendedTypeInfoSchema>
}> = Schema.Struct({
  catalog: Schema.String,
  schema: Schema.String,
  table: Schema.String,
  orgTable: Schema.String,
  name: Schema.String,
  orgName: Schema.String,
  collation: UInt16,
  columnLength: UInt32,
  type: UInt8,
  flags: UInt16,
  decimals: UInt8,
  extendedType: Schema.optionalKey(ExtendedTypeInfoSchema)
})

/** One column (or parameter) definition, as the row decoders consume it. */
export type ColumnDefinition = typeof ColumnDefinitionSchema.Type

const DATA_TYPE_NAME = 0
const FORMAT_NAME = 1

/** The extended type information block. Unknown keys are skipped. */
const extendedTypeInfo: FieldCodec<ExtendedTypeInfo> = {
  read: (r) => {
    const inner = new Reader(r.lenencBytes())
    let dataTypeName: string | undefined
    let formatName: string | undefined
    while (!inner.atEnd()) {
      const key = inner.int1()
      const value = inner.lenencString()
      if (key === DATA_TYPE_NAME) dataTypeName = value
      else if (key === FORMAT_NAME) formatName = value
    }
    return {
      ...(dataTypeName === undefined ? {} : { dataTypeName }),
      ...(formatName === undefined ? {} : { formatName })
    }
  },
  write: (w, v) => {
    const inner = new Writer(32)
    if (v.dataTypeName !== undefined) inner.int1(DATA_TYPE_NAME).lenencString(v.dataTypeName)
    if (v.formatName !== undefined) inner.int1(FORMAT_NAME).lenencString(v.formatName)
    w.lenencBytes(inner.finish())
  }
}

/** Length of the fixed-length fields that follow the names. */
export const FIXED_FIELDS_LENGTH = 0x0c

/** The column definition codec. */
export const ColumnDefinition41: PacketCodec<ColumnDefinition> = define(
  "ColumnDefinition41",
  ColumnDefinitionSchema,
  (L) => [
    L.field("catalog", lenencString),
    L.field("schema", lenencString),
    L.field("table", lenencString),
    L.field("orgTable", lenencString),
    L.field("name", lenencString),
    L.field("orgName", lenencString),
    L.when(
      mariaDbCapability(MariaDbCapability.MARIADB_CLIENT_EXTENDED_METADATA),
      L.custom(
        "extendedType",
        (r, acc) => {
          acc.extendedType = extendedTypeInfo.read(r)
        },
        (w, v) => {
          extendedTypeInfo.write(w, v.extendedType ?? {})
        }
      )
    ),
    L.header("lengthOfFixedFields", FIXED_FIELDS_LENGTH),
    L.field("collation", int2),
    L.field("columnLength", int4),
    L.field("type", int1),
    L.field("flags", int2),
    L.field("decimals", int1),
    L.zeros("filler", 2)
  ],
  { capacity: 64 }
)

/** A column definition with the usual defaults ("def" catalog, empty names), for servers and mocks. */
export const makeColumnDefinition = (
  fields: Partial<ColumnDefinition> & Pick<ColumnDefinition, "name" | "type">
): ColumnDefinition => ({
  catalog: "def",
  schema: "",
  table: "",
  orgTable: "",
  orgName: fields.name,
  collation: 63,
  columnLength: 0,
  flags: 0,
  decimals: 0,
  ...fields
})
