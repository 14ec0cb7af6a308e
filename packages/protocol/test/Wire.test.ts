import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import { decodeWith, encodeWith } from "../src/Packet.ts"
import {
  lenencIntLength,
  lenencSize,
  Reader,
  readInt3,
  readSint2,
  readUint64,
  WireError,
  type Writer
} from "../src/Wire.ts"
import { err, fromHex, ok, toHex } from "./support/bytes.ts"

const encode = (f: (w: Writer) => void) => ok(encodeWith("test", f))

describe("Wire", () => {
  it("length-encoded integers at every boundary", () => {
    const cases: Array<[number | bigint, string]> = [
      [0, "00"],
      [250, "fa"],
      [251, "fcfb00"],
      [0xffff, "fcffff"],
      [0x10000, "fd000001"],
      [0xffffff, "fdffffff"],
      [0x1000000, "fe0000000100000000"],
      [Number.MAX_SAFE_INTEGER, "feffffffffffff1f00"],
      [2n ** 53n, "fe0000000000002000"],
      [2n ** 64n - 1n, "feffffffffffffffff"]
    ]
    for (const [value, hex] of cases) {
      expect(toHex(encode((w) => w.lenencInt(value)))).toBe(hex)
      expect(ok(decodeWith("test", fromHex(hex), (r) => r.lenencInt()))).toBe(value)
      expect(lenencSize(fromHex(hex)[0])).toBe(hex.length / 2)
      expect(lenencIntLength(value)).toBe(hex.length / 2)
    }
    expect(ok(decodeWith("test", fromHex("fb"), (r) => r.lenencInt()))).toBeNull()
    expect(toHex(encode((w) => w.lenencInt(null)))).toBe("fb")
    expect(err(decodeWith("test", fromHex("ff"), (r) => r.lenencInt())).message).toMatch(/0xFF/)
  })

  it("values above 2^53 - 1 come back as bigint, the others as number", () => {
    expect(readUint64(fromHex("ffffffffffff1f00"), 0)).toBe(Number.MAX_SAFE_INTEGER)
    expect(readUint64(fromHex("0000000000002000"), 0)).toBe(2n ** 53n)
  })

  it("every read is bounds checked and reports the offset", () => {
    const e = err(decodeWith("Demo", fromHex("0102"), (r) => [r.int1(), r.int4()]))
    expect(e._tag).toBe("ProtocolError")
    expect(e.packet).toBe("Demo")
    expect(e.offset).toBe(1)
    expect(err(decodeWith("Demo", fromHex("05616263"), (r) => r.lenencString())).offset).toBe(1)
    expect(err(decodeWith("Demo", fromHex("616263"), (r) => r.nulString())).message).toMatch(/NUL/)
    expect(() => readInt3(fromHex("0102"), 0)).toThrow(WireError)
  })

  it("signed readers and writers use two's complement", () => {
    expect(
      readSint2(
        encode((w) => w.int2(-2)),
        0
      )
    ).toBe(-2)
    const r = new Reader(encode((w) => w.int8(-1n).int8(-5)))
    expect(r.int8()).toBe(2n ** 64n - 1n)
    expect(BigInt.asIntN(64, r.int8())).toBe(-5n)
    // Numbers take a path without bigints: the same bytes for every safe integer.
    fc.assert(
      fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(encode((w) => w.int8(n))).toEqual(encode((w) => w.int8(BigInt(n))))
      })
    )
  })

  it("writers refuse values that do not fit", () => {
    expect(Result.isFailure(encodeWith("t", (w) => w.int1(256)))).toBe(true)
    expect(Result.isFailure(encodeWith("t", (w) => w.int2(1.5)))).toBe(true)
    expect(Result.isFailure(encodeWith("t", (w) => w.lenencInt(-1)))).toBe(true)
    expect(Result.isFailure(encodeWith("t", (w) => w.nulString("a\u0000b")))).toBe(true)
  })

  it("strings: lenenc, NUL-terminated, fixed, rest; UTF-8", () => {
    const bytes = encode((w) => w.lenencString("héllo").nulString("wörld").string("abc").lenencString("x".repeat(300)))
    const r = new Reader(bytes)
    expect(r.lenencString()).toBe("héllo")
    expect(r.nulString()).toBe("wörld")
    expect(r.fixedString(3)).toBe("abc")
    expect(r.lenencString()).toBe("x".repeat(300))
    expect(r.atEnd()).toBe(true)
  })

  it("property: every writer/reader pair is an identity", () => {
    fc.assert(
      fc.property(
        fc.nat(255),
        fc.nat(0xffff),
        fc.nat(0xffffff),
        fc.nat(0xffffffff),
        fc.integer({ min: 0, max: 2 ** 48 - 1 }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.string({ unit: "grapheme" }),
        fc.uint8Array(),
        fc.double({ noNaN: true }),
        (a, b, c, d, e, f, s, bytes, x) => {
          const out = encode((w) =>
            w.int1(a).int2(b).int3(c).int4(d).int6(e).int8(f).lenencInt(f).lenencString(s).lenencBytes(bytes).float8(x)
          )
          const r = new Reader(out)
          expect([r.int1(), r.int2(), r.int3(), r.int4(), r.int6(), r.int8()]).toEqual([a, b, c, d, e, f])
          const v = r.lenencInt()
          expect(typeof v === "bigint" ? v : BigInt(v!)).toBe(f)
          expect(r.lenencString()).toBe(s)
          expect(r.lenencBytes()).toEqual(bytes)
          expect(Object.is(r.float8(), x)).toBe(true)
          expect(r.atEnd()).toBe(true)
        }
      )
    )
  })
})
