// Random table maps under both flavors: every column type the table map knows, with and without
// the optional metadata, decode to what was encoded. Which columns a field covers is restated here
// from the servers' rules (see TableMap.ts), independently of the codec.
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { type BinlogFormat, EventType, type TableColumn, type TableMapEvent } from "../../src/binlog/BinlogEvent.ts"
import { decodeEvent, encodeEvent, initialFormat } from "../../src/binlog/EventCodec.ts"
import { ColumnType as T } from "../../src/ColumnType.ts"
import { ok } from "../support/bytes.ts"
import { header, sized } from "./support.ts"

const mariadb: BinlogFormat = { ...initialFormat, serverVersion: "10.11.18-MariaDB", checksum: "crc32" }
const mysql: BinlogFormat = { ...initialFormat, serverVersion: "8.4.3", checksum: "none" }

const sizes: ReadonlyArray<[number, 0 | 1 | 2]> = [
  [T.TINY, 0],
  [T.SHORT, 0],
  [T.INT24, 0],
  [T.LONG, 0],
  [T.LONGLONG, 0],
  [T.YEAR, 0],
  [T.DATE, 0],
  [T.DECIMAL, 0],
  [T.NULL, 0],
  [T.TIMESTAMP, 0],
  [T.DATETIME, 0],
  [T.TIME, 0],
  [T.FLOAT, 1],
  [T.DOUBLE, 1],
  [T.BLOB, 1],
  [T.GEOMETRY, 1],
  [T.JSON, 1],
  [T.TIMESTAMP2, 1],
  [T.DATETIME2, 1],
  [T.TIME2, 1],
  [T.VECTOR, 1],
  [T.VARCHAR, 2],
  [T.VAR_STRING, 2],
  [T.BIT, 2],
  [T.NEWDECIMAL, 2],
  [T.STRING, 2]
]

/** STRING's first metadata byte: CHAR, ENUM, SET, or a long CHAR (length bits 4-5 inverted). */
const stringKinds = [T.STRING, T.ENUM, T.SET, T.STRING ^ 0x10, T.STRING ^ 0x20, T.STRING ^ 0x30]

const realType = (c: { type: number; metadata: number }) =>
  c.type === T.STRING ? ((c.metadata & 0x30) !== 0x30 ? (c.metadata & 0xff) | 0x30 : c.metadata & 0xff) : c.type

const isNumeric = (t: number, maria: boolean) =>
  [T.TINY, T.SHORT, T.INT24, T.LONG, T.LONGLONG, T.NEWDECIMAL, T.FLOAT, T.DOUBLE].includes(t as never) ||
  (maria && (t === T.YEAR || t === T.DECIMAL))
const isCharacter = (t: number, maria: boolean) =>
  [T.STRING, T.VAR_STRING, T.VARCHAR, T.BLOB].includes(t as never) || t === (maria ? T.GEOMETRY : T.VECTOR)

const bare = fc
  .record({
    kind: fc.constantFrom(...sizes),
    metadata: fc.nat(0xffff),
    stringKind: fc.constantFrom(...stringKinds),
    nullable: fc.boolean()
  })
  .map(({ kind: [type, size], metadata, stringKind, nullable }) => ({
    type,
    metadata:
      type === T.STRING
        ? stringKind | ((metadata & 0xff) << 8)
        : size === 0
          ? 0
          : size === 1
            ? metadata & 0xff
            : metadata,
    nullable
  }))

const name = fc.string({ maxLength: 12 })
const values = fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 })
const collation = fc.integer({ min: 1, max: 2047 })

/** A column with its optional metadata filled in where the flavor's rules say it goes. */
const column = (maria: boolean, full: boolean): fc.Arbitrary<TableColumn> =>
  fc
    .record({
      base: bare,
      name,
      unsigned: fc.boolean(),
      collation,
      enumValues: values,
      setValues: values,
      geometry: fc.nat(7)
    })
    .map(({ base, ...o }) => {
      const t = realType(base)
      return {
        ...base,
        name: full ? o.name : undefined,
        unsigned: full && isNumeric(t, maria) ? o.unsigned : undefined,
        collation: full && (isCharacter(t, maria) || t === T.ENUM || t === T.SET) ? o.collation : undefined,
        enumValues: full && t === T.ENUM ? o.enumValues : undefined,
        setValues: full && t === T.SET ? o.setValues : undefined,
        geometryType: full && t === T.GEOMETRY ? o.geometry : undefined
      }
    })

const tableMap = (maria: boolean): fc.Arbitrary<TableMapEvent> =>
  fc.boolean().chain((full) =>
    fc
      .record({
        columns: fc.array(column(maria, full), { maxLength: 20 }),
        tableId: fc.nat(2 ** 48 - 1),
        flags: fc.nat(0xffff),
        database: fc.string({ maxLength: 10 }).map((s) => s.replaceAll("\u0000", "")),
        table: fc.string({ maxLength: 10 }).map((s) => s.replaceAll("\u0000", "")),
        key: fc.array(fc.nat(19), { maxLength: 3 })
      })
      .map(({ columns, key, ...rest }) => ({
        _tag: "TableMap" as const,
        header: header(EventType.TABLE_MAP),
        ...rest,
        columns,
        primaryKey: full ? key.filter((k) => k < columns.length) : []
      }))
  )

describe("table maps", () => {
  for (const [flavor, format] of [
    ["MariaDB", mariadb],
    ["MySQL", mysql]
  ] as const) {
    it(`round-trip under ${flavor}'s rules`, () => {
      fc.assert(
        fc.property(tableMap(flavor === "MariaDB"), (event) => {
          const e = sized(event, format)
          const bytes = ok(encodeEvent(e, format))
          expect(ok(decodeEvent(bytes, 0, bytes.length, format))).toEqual(e)
        }),
        { numRuns: 500 }
      )
    })
  }
})
