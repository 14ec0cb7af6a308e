/**
 * Column type codes and column definition flags, as they travel in ColumnDefinition41, in the
 * parameter types of COM_STMT_EXECUTE and in binary rows.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/field__types_8h.html (enum_field_types)
 *        https://dev.mysql.com/doc/dev/mysql-server/latest/group__group__cs__column__definition__flags.html
 * MariaDB: https://mariadb.com/kb/en/result-set-packets/#field-types
 *          https://mariadb.com/kb/en/result-set-packets/#field-details-flag
 *
 * Plain `as const` objects: pure data, no IO.
 */

/** `enum_field_types`: the type byte of a column definition [1 byte]. */
export const ColumnType = {
  DECIMAL: 0x00,
  TINY: 0x01,
  SHORT: 0x02,
  LONG: 0x03,
  FLOAT: 0x04,
  DOUBLE: 0x05,
  NULL: 0x06,
  TIMESTAMP: 0x07,
  LONGLONG: 0x08,
  INT24: 0x09,
  DATE: 0x0a,
  TIME: 0x0b,
  DATETIME: 0x0c,
  YEAR: 0x0d,
  /** Internal to the server (pre-5.0 DATE); never sent to clients. */
  NEWDATE: 0x0e,
  VARCHAR: 0x0f,
  BIT: 0x10,
  /** Internal to the server (fractional TIMESTAMP storage); sent to clients as TIMESTAMP. */
  TIMESTAMP2: 0x11,
  /** Internal to the server; sent to clients as DATETIME. */
  DATETIME2: 0x12,
  /** Internal to the server; sent to clients as TIME. */
  TIME2: 0x13,
  /** MySQL 8.0.22+ replication only. */
  TYPED_ARRAY: 0x14,
  /** MySQL 9.0 VECTOR: packed little-endian float32 values. */
  VECTOR: 0xf2,
  /** Internal to the server. */
  INVALID: 0xf3,
  /** MySQL only: JSON columns (MariaDB sends JSON as a LONGTEXT/BLOB with extended type "json"). */
  JSON: 0xf5,
  NEWDECIMAL: 0xf6,
  /** Internal: ENUM columns are sent as STRING with the ENUM flag. */
  ENUM: 0xf7,
  /** Internal: SET columns are sent as STRING with the SET flag. */
  SET: 0xf8,
  TINY_BLOB: 0xf9,
  MEDIUM_BLOB: 0xfa,
  LONG_BLOB: 0xfb,
  BLOB: 0xfc,
  VAR_STRING: 0xfd,
  STRING: 0xfe,
  GEOMETRY: 0xff
} as const

export type ColumnType = (typeof ColumnType)[keyof typeof ColumnType]

/** Name of a type code, for messages and debugging ("LONGLONG"); `undefined` for unknown codes. */
export const columnTypeName = (code: number): string | undefined => columnTypeNames[code]

const columnTypeNames: Record<number, string> = Object.fromEntries(
  Object.entries(ColumnType).map(([name, code]) => [code, name])
)

/** Column definition flags [2 bytes] (MariaDB and MySQL agree on the low 16 bits). */
export const ColumnFlag = {
  /** Field can't be NULL. */
  NOT_NULL: 0x0001,
  /** Field is part of a primary key. */
  PRI_KEY: 0x0002,
  /** Field is part of a unique key. */
  UNIQUE_KEY: 0x0004,
  /** Field is part of a (non-unique) key. */
  MULTIPLE_KEY: 0x0008,
  /** Field is a BLOB or TEXT. */
  BLOB: 0x0010,
  /** Field is unsigned. Also the high bit (0x80) of the parameter type's flag byte in COM_STMT_EXECUTE. */
  UNSIGNED: 0x0020,
  /** Field is zero-filled. */
  ZEROFILL: 0x0040,
  /** Field has the binary collation (or is a binary string). */
  BINARY: 0x0080,
  /** Field is an ENUM. */
  ENUM: 0x0100,
  /** Field is AUTO_INCREMENT. */
  AUTO_INCREMENT: 0x0200,
  /** Field is a TIMESTAMP. */
  TIMESTAMP: 0x0400,
  /** Field is a SET. */
  SET: 0x0800,
  /** Field has no default value. */
  NO_DEFAULT_VALUE: 0x1000,
  /** Field is set to NOW on UPDATE. */
  ON_UPDATE_NOW: 0x2000,
  /** Field is numeric (used by old clients). */
  NUM: 0x8000
} as const

export type ColumnFlag = (typeof ColumnFlag)[keyof typeof ColumnFlag]

/**
 * Collation id 63, `binary`: a column with this collation holds bytes, not text (BLOB, BINARY,
 * VARBINARY, and the text form of numbers and dates).
 */
export const BINARY_COLLATION_ID = 63
