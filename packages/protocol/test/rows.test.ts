import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import { encodeBinaryRow, makeBinaryRowDecoder } from "../src/BinaryResultsetRow.ts"
import { ColumnFlag, ColumnType } from "../src/ColumnType.ts"
import { encodeTextRow, makeTextRowDecoder } from "../src/TextResultsetRow.ts"
import type { ColumnInfo } from "../src/values/ColumnPlan.ts"

const ok = <A, E>(r: Result.Result<A, E>): A => {
  if (Result.isFailure(r)) throw new Error(`unexpected failure: ${JSON.stringify(r.failure)}`)
  return r.success
}
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

const column = (name: string, type: number, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({
  name,
  type,
  flags: 0,
  decimals: 0,
  collation: 63,
  ...extra
})

const columns: ReadonlyArray<ColumnInfo> = [
  column("id", ColumnType.LONG),
  column("big", ColumnType.LONGLONG, { flags: ColumnFlag.UNSIGNED }),
  column("name", ColumnType.VAR_STRING, { collation: 45 }),
  column("price", ColumnType.NEWDECIMAL, { decimals: 2 }),
  column("at", ColumnType.DATETIME, { decimals: 6 }),
  column("score", ColumnType.DOUBLE),
  column("body", ColumnType.BLOB, { collation: 45 }),
  column("raw", ColumnType.BLOB),
  column("t", ColumnType.TIME),
  column("doc", ColumnType.JSON)
]

const row = [
  7,
  2n ** 64n - 1n,
  "Zoë 😀",
  "12.50",
  "2024-02-29 13:14:15.123456",
  0.5,
  null,
  Uint8Array.of(1, 2),
  "-01:00:00",
  { k: [1] }
]
const options = { dates: "string" } as const

describe("text rows", () => {
  it("decode to objects and to arrays", () => {
    const payload = ok(encodeTextRow(columns, row, options))
    const decoder = ok(makeTextRowDecoder(columns, options))
    expect(ok(decoder.decodeArray(payload))).toStrictEqual(row)
    const object = ok(decoder.decodeObject(payload))
    expect(Object.keys(object)).toStrictEqual(columns.map((c) => c.name))
    expect(object.name).toBe("Zoë 😀")
    expect(object.body).toBe(null)
  })

  it("the decoder is reused across rows", () => {
    const decoder = ok(makeTextRowDecoder(columns, options))
    const a = ok(encodeTextRow(columns, row, options))
    const b = ok(
      encodeTextRow(
        columns,
        columns.map(() => null),
        options
      )
    )
    expect(ok(decoder.decodeArray(a))).toStrictEqual(row)
    expect(ok(decoder.decodeArray(b))).toStrictEqual(columns.map(() => null))
    expect(ok(decoder.decodeArray(a))).toStrictEqual(row)
  })

  it("encodes from an object keyed by column name", () => {
    const byName = Object.fromEntries(columns.map((c, i) => [c.name, row[i]]))
    expect(hex(ok(encodeTextRow(columns, byName, options)))).toBe(hex(ok(encodeTextRow(columns, row, options))))
  })

  it("truncated rows, overlong lengths and trailing bytes are ProtocolErrors", () => {
    const decoder = ok(makeTextRowDecoder(columns, options))
    const payload = ok(encodeTextRow(columns, row, options))
    for (const cut of [0, 1, 5, payload.length - 1]) {
      const r = decoder.decodeArray(payload.subarray(0, cut))
      expect(Result.isFailure(r)).toBe(true)
    }
    const trailing = new Uint8Array([...payload, 0])
    const r = decoder.decodeObject(trailing)
    expect(Result.isFailure(r) && r.failure.message).toMatch(/trailing/)
    const lying = ok(makeTextRowDecoder([column("x", ColumnType.BLOB)]))
    const failure = lying.decodeArray(Uint8Array.of(0xfe, 0, 0, 0, 0, 0, 0, 0, 1, 0x41))
    expect(Result.isFailure(failure) && failure.failure.field).toBe("x")
  })

  it("an integer column with junk is a ProtocolError with the column and offset", () => {
    const decoder = ok(makeTextRowDecoder([column("a", ColumnType.LONG), column("b", ColumnType.LONG)]))
    const r = decoder.decodeObject(Uint8Array.of(1, 0x31, 2, 0x31, 0x78))
    expect(Result.isFailure(r)).toBe(true)
    if (Result.isFailure(r)) {
      expect(r.failure.packet).toBe("TextResultsetRow")
      expect(r.failure.field).toBe("b")
      expect(r.failure.offset).toBe(4)
    }
  })

  it("duplicate names: the later column wins; __proto__ is an ordinary key", () => {
    const cols = [column("id", ColumnType.LONG), column("id", ColumnType.LONG), column("__proto__", ColumnType.LONG)]
    const decoder = ok(makeTextRowDecoder(cols))
    const object = ok(decoder.decodeObject(ok(encodeTextRow(cols, [1, 2, 3]))))
    expect(object.id).toBe(2)
    expect(Object.getPrototypeOf(object)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(object, "__proto__")?.value).toBe(3)
  })
})

describe("binary rows", () => {
  it("decode to objects and arrays; NULLs live in the bitmap at offset 2", () => {
    const payload = ok(encodeBinaryRow(columns, row, options))
    expect(payload[0]).toBe(0)
    // 10 columns: (10 + 9) >> 3 = 2 bitmap bytes; "body" (index 6) is NULL: bit 8 → byte 1, bit 0
    expect(hex(payload.subarray(1, 3))).toBe("0001")
    const decoder = ok(makeBinaryRowDecoder(columns, options))
    expect(ok(decoder.decodeArray(payload))).toStrictEqual(row)
    expect(ok(decoder.decodeObject(payload)).doc).toStrictEqual({ k: [1] })
  })

  it("a row must start with 0x00 and hold its bitmap", () => {
    const decoder = ok(makeBinaryRowDecoder(columns, options))
    expect(Result.isFailure(decoder.decodeArray(Uint8Array.of(1, 0, 0)))).toBe(true)
    expect(Result.isFailure(decoder.decodeArray(Uint8Array.of(0, 0)))).toBe(true)
    expect(Result.isFailure(decoder.decodeArray(new Uint8Array(0)))).toBe(true)
  })

  it("all NULL", () => {
    const nulls = columns.map(() => null)
    const payload = ok(encodeBinaryRow(columns, nulls))
    expect(hex(payload)).toBe("00fc0f")
    expect(ok(ok(makeBinaryRowDecoder(columns)).decodeArray(payload))).toStrictEqual(nulls)
  })
})

describe("row decoders never throw", () => {
  const types = [
    ColumnType.TINY,
    ColumnType.SHORT,
    ColumnType.INT24,
    ColumnType.LONG,
    ColumnType.LONGLONG,
    ColumnType.FLOAT,
    ColumnType.DOUBLE,
    ColumnType.NEWDECIMAL,
    ColumnType.DATE,
    ColumnType.DATETIME,
    ColumnType.TIMESTAMP,
    ColumnType.TIME,
    ColumnType.YEAR,
    ColumnType.BIT,
    ColumnType.JSON,
    ColumnType.VECTOR,
    ColumnType.GEOMETRY,
    ColumnType.BLOB,
    ColumnType.VAR_STRING,
    ColumnType.STRING,
    ColumnType.NULL
  ]
  const arbColumn = fc.record({
    name: fc.string({ maxLength: 4 }),
    type: fc.constantFrom(...types),
    flags: fc.constantFrom(0, ColumnFlag.UNSIGNED, ColumnFlag.SET),
    decimals: fc.constantFrom(0, 2, 6, 31),
    collation: fc.constantFrom(63, 45, 33, 8, 95, 54, 60, 3, 9999)
  })
  const arbOptions = fc.record({
    bigint: fc.constantFrom("bigint" as const, "number" as const, "string" as const),
    dates: fc.constantFrom("date" as const, "string" as const),
    set: fc.constantFrom("string" as const, "array" as const),
    bit: fc.constantFrom("bytes" as const, "bigint" as const)
  })
  const arbBytes = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc
      .array(fc.constantFrom(0, 1, 4, 7, 8, 11, 12, 0x30, 0x2d, 0xfb, 0xfc, 0xfe, 0xff), { maxLength: 40 })
      .map((a) => Uint8Array.from(a))
  )

  it("text: any bytes give a row or a ProtocolError", () => {
    fc.assert(
      fc.property(fc.array(arbColumn, { maxLength: 6 }), arbOptions, arbBytes, (cols, opts, bytes) => {
        const decoder = ok(makeTextRowDecoder(cols, opts))
        const a = decoder.decodeArray(bytes)
        const o = decoder.decodeObject(bytes)
        if (Result.isFailure(a)) expect(a.failure._tag).toBe("ProtocolError")
        if (Result.isFailure(o)) expect(o.failure._tag).toBe("ProtocolError")
      }),
      { numRuns: 3000 }
    )
  })

  it("binary: any bytes give a row or a ProtocolError", () => {
    fc.assert(
      fc.property(fc.array(arbColumn, { maxLength: 6 }), arbOptions, arbBytes, (cols, opts, bytes) => {
        const decoder = ok(makeBinaryRowDecoder(cols, opts))
        const withHeader = new Uint8Array([0, ...bytes])
        const a = decoder.decodeArray(bytes)
        const o = decoder.decodeObject(withHeader)
        const h = decoder.decodeArray(withHeader)
        if (Result.isFailure(a)) expect(a.failure._tag).toBe("ProtocolError")
        if (Result.isFailure(o)) expect(o.failure._tag).toBe("ProtocolError")
        if (Result.isFailure(h)) expect(h.failure._tag).toBe("ProtocolError")
      }),
      { numRuns: 3000 }
    )
  })

  it("integers round-trip through both protocols", () => {
    const cols = [
      column("a", ColumnType.LONG),
      column("b", ColumnType.LONGLONG),
      column("c", ColumnType.SHORT, { flags: ColumnFlag.UNSIGNED })
    ]
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
        fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
        fc.option(fc.integer({ min: 0, max: 65535 })),
        (a, b, c) => {
          const values = [a, b, c]
          expect(ok(ok(makeTextRowDecoder(cols)).decodeArray(ok(encodeTextRow(cols, values))))).toStrictEqual(values)
          expect(ok(ok(makeBinaryRowDecoder(cols)).decodeArray(ok(encodeBinaryRow(cols, values))))).toStrictEqual(
            values
          )
        }
      )
    )
  })

  it("utf8mb4 strings round-trip through both protocols", () => {
    const cols = [column("s", ColumnType.VAR_STRING, { collation: 45 })]
    fc.assert(
      fc.property(fc.option(fc.string({ unit: "binary", maxLength: 300 })), (s) => {
        expect(ok(ok(makeTextRowDecoder(cols)).decodeArray(ok(encodeTextRow(cols, [s]))))).toStrictEqual([s])
        expect(ok(ok(makeBinaryRowDecoder(cols)).decodeArray(ok(encodeBinaryRow(cols, [s]))))).toStrictEqual([s])
      })
    )
  })
})

describe("row objects", () => {
  const strange = [
    'a"b',
    "back\\slash",
    "line\nbreak",
    "sep\u2028arator",
    "",
    "1",
    "constructor",
    "toString",
    '"}; globalThis.injected = 1; ({"',
    // A template placeholder, in case a name ever lands inside backquotes.
    "x`$" + "{globalThis.injected = 2}`",
    "ünïcödé 😀"
  ]

  it("any column name is a key as written, and no name runs as code", () => {
    const cols = strange.map((name) => column(name, ColumnType.LONG))
    const values = strange.map((_, i) => i)
    for (const [make, encode] of [
      [makeTextRowDecoder, encodeTextRow],
      [makeBinaryRowDecoder, encodeBinaryRow]
    ] as const) {
      const object = ok(ok(make(cols)).decodeObject(ok(encode(cols, values))))
      expect(Object.getPrototypeOf(object)).toBe(Object.prototype)
      expect(Object.keys(object).sort()).toStrictEqual([...strange].sort())
      for (const [i, name] of strange.entries()) expect(Object.getOwnPropertyDescriptor(object, name)?.value).toBe(i)
    }
    expect((globalThis as { injected?: unknown }).injected).toBeUndefined()
  })

  it("columns named __proto__, repeated, are own keys; the later wins", () => {
    const cols = [
      column("__proto__", ColumnType.LONG),
      column("a", ColumnType.LONG),
      column("__proto__", ColumnType.LONG)
    ]
    for (const [make, encode] of [
      [makeTextRowDecoder, encodeTextRow],
      [makeBinaryRowDecoder, encodeBinaryRow]
    ] as const) {
      const object = ok(ok(make(cols)).decodeObject(ok(encode(cols, [1, 2, 3]))))
      expect(Object.getPrototypeOf(object)).toBe(Object.prototype)
      expect(Object.keys(object)).toStrictEqual(["__proto__", "a"])
      expect(Object.getOwnPropertyDescriptor(object, "__proto__")?.value).toBe(3)
    }
  })

  it("an earlier column named __proto__ holding an object does not become the prototype", () => {
    const cols = [column("__proto__", ColumnType.JSON), column("__proto__", ColumnType.LONG)]
    for (const [make, encode] of [
      [makeTextRowDecoder, encodeTextRow],
      [makeBinaryRowDecoder, encodeBinaryRow]
    ] as const) {
      const object = ok(ok(make(cols)).decodeObject(ok(encode(cols, [{ polluted: true }, 2]))))
      expect(Object.getPrototypeOf(object)).toBe(Object.prototype)
      expect((object as { polluted?: unknown }).polluted).toBeUndefined()
      expect(Object.getOwnPropertyDescriptor(object, "__proto__")?.value).toBe(2)
    }
  })

  it("each row is a new object", () => {
    const cols = [column("a", ColumnType.LONG)]
    const decoder = ok(makeTextRowDecoder(cols))
    const first = ok(decoder.decodeObject(ok(encodeTextRow(cols, [1]))))
    const second = ok(decoder.decodeObject(ok(encodeTextRow(cols, [2]))))
    expect(first).not.toBe(second)
    expect([first.a, second.a]).toStrictEqual([1, 2])
  })
})

describe("rows read at offsets", () => {
  /** `payload` inside a larger buffer, with bytes that are not the row's on both sides. */
  const embed = (payload: Uint8Array): Uint8Array => {
    const buf = new Uint8Array(payload.length + 10).fill(0xff)
    buf.set(payload, 7)
    return buf
  }

  for (const [name, make, encode] of [
    ["text", makeTextRowDecoder, encodeTextRow],
    ["binary", makeBinaryRowDecoder, encodeBinaryRow]
  ] as const) {
    it(`${name}: a row inside a larger buffer reads as the row alone`, () => {
      const payload = ok(encode(columns, row, options))
      const decoder = ok(make(columns, options))
      const buf = embed(payload)
      expect(decoder.readArray(buf, 7, 7 + payload.length)).toStrictEqual(ok(decoder.decodeArray(payload)))
      expect(decoder.readObject(buf, 7, 7 + payload.length)).toStrictEqual(ok(decoder.decodeObject(payload)))
    })

    it(`${name}: a malformed row answers undefined, its failure counted from the row's start`, () => {
      const cols = [column("a", ColumnType.LONG), column("b", ColumnType.LONG)]
      const payload = ok(encode(cols, [1, 2]))
      const decoder = ok(make(cols))
      const short = payload.subarray(0, payload.length - 1)
      const alone = decoder.decodeArray(short)
      if (Result.isSuccess(alone)) throw new Error("a truncated row decoded")
      const buf = embed(short)
      expect(decoder.readArray(buf, 7, 7 + short.length)).toBeUndefined()
      expect(decoder.failure).toStrictEqual(alone.failure)
      expect(decoder.readObject(buf, 7, 7 + short.length)).toBeUndefined()
      expect(decoder.failure).toStrictEqual(alone.failure)
      const long = embed(new Uint8Array([...payload, 0]))
      expect(decoder.readObject(long, 7, 7 + payload.length + 1)).toBeUndefined()
      expect(decoder.failure?.message).toContain("1 trailing byte(s)")
      expect(decoder.failure?.offset).toBe(payload.length)
    })
  }
})
