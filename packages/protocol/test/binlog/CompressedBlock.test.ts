import * as Zlib from "node:zlib"
import { describe, expect, it } from "@effect/vitest"
import { crc32 } from "../../src/binlog/Checksum.ts"
import { readCompressedBlock, splitPayloadEvents, writeCompressedBlock } from "../../src/binlog/CompressedBlock.ts"
import { err, fromHex, ok, toHex } from "../support/bytes.ts"

describe("crc32", () => {
  it("is zlib's CRC32 (IEEE)", () => {
    const text = new TextEncoder().encode("123456789")
    expect(crc32(text, 0, text.length)).toBe(0xcbf43926)
    expect(crc32(new Uint8Array(0), 0, 0)).toBe(0)
    const padded = new TextEncoder().encode("xx123456789yy")
    expect(crc32(padded, 2, 11)).toBe(0xcbf43926)
    const fox = new TextEncoder().encode("The quick brown fox jumps over the lazy dog")
    expect(crc32(fox, 0, fox.length)).toBe(0x414fa339)
  })
})

describe("MariaDB compressed blocks", () => {
  it("announce the length in as few big-endian bytes as it needs", () => {
    const cases: ReadonlyArray<[number, string]> = [
      [0, "8100"],
      [255, "81ff"],
      [256, "820100"],
      [65536, "83010000"],
      [0x1000000, "8401000000"],
      [0xffffffff, "84ffffffff"]
    ]
    for (const [length, header] of cases) {
      const block = ok(writeCompressedBlock(length, fromHex("789c")))
      expect(toHex(block)).toBe(`${header}789c`)
      expect(ok(readCompressedBlock(block))).toEqual({ uncompressedLength: length, deflated: fromHex("789c") })
    }
    expect(err(writeCompressedBlock(-1, new Uint8Array(0))).kind).toBe("encode")
    expect(err(writeCompressedBlock(2 ** 32, new Uint8Array(0))).kind).toBe("encode")
  })

  it("carry a zlib stream a runtime inflates", () => {
    const text = new TextEncoder().encode("SELECT 1 ".repeat(50))
    const block = ok(writeCompressedBlock(text.length, Zlib.deflateSync(text)))
    const read = ok(readCompressedBlock(block))
    expect(Zlib.inflateSync(read.deflated)).toEqual(Buffer.from(text))
  })

  it("refuse malformed headers", () => {
    expect(err(readCompressedBlock(new Uint8Array(0))).detail).toMatch(/empty/)
    expect(err(readCompressedBlock(fromHex("01"))).detail).toMatch(/bit 7/)
    expect(err(readCompressedBlock(fromHex("9100"))).detail).toMatch(/unknown algorithm 1/)
    expect(err(readCompressedBlock(fromHex("80"))).detail).toMatch(/0 length bytes/)
    expect(err(readCompressedBlock(fromHex("85"))).detail).toMatch(/5 length bytes/)
    expect(err(readCompressedBlock(fromHex("8301"))).detail).toMatch(/truncated/)
  })
})

describe("TRANSACTION_PAYLOAD content", () => {
  const inner = (type: number, body: string) => {
    const b = fromHex(body)
    const e = new Uint8Array(19 + b.length)
    e[4] = type
    new DataView(e.buffer).setUint32(9, e.length, true)
    e.set(b, 19)
    return e
  }

  it("splits into events without checksums", () => {
    const xid = inner(16, "0900000000000000")
    const query = inner(2, "00".repeat(13))
    const payload = new Uint8Array([...query, ...xid])
    expect(ok(splitPayloadEvents(payload))).toEqual([
      { start: 0, end: query.length },
      { start: query.length, end: payload.length }
    ])
    expect(ok(splitPayloadEvents(new Uint8Array(0)))).toEqual([])
  })

  it("refuses truncated events and impossible sizes", () => {
    const xid = inner(16, "0900000000000000")
    expect(err(splitPayloadEvents(xid.subarray(0, 10))).detail).toMatch(/truncated event header/)
    expect(err(splitPayloadEvents(xid.subarray(0, xid.length - 1))).detail).toMatch(/does not fit/)
    const tiny = xid.slice()
    tiny[9] = 3
    expect(err(splitPayloadEvents(tiny)).detail).toMatch(/event size 3/)
  })
})

describe("the package index", () => {
  it("exports the binlog codecs as the Binlog namespace", async () => {
    const { Binlog } = await import("../../src/index.ts")
    expect(typeof Binlog.decodeEvent).toBe("function")
    expect(typeof Binlog.readCompressedBlock).toBe("function")
    expect(Binlog.EventType.TABLE_MAP).toBe(19)
    expect("unsafeReadUuid" in Binlog).toBe(false)
  })
})
