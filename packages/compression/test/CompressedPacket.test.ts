import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { COMPRESSED_HEADER_LENGTH, MAX_COMPRESSED_PAYLOAD, readHeader, writeHeader } from "../src/CompressedPacket.ts"
import { fromHex, toHex } from "./support/bytes.ts"

describe("CompressedPacket header", () => {
  it("lays out compressed length, sequence id and uncompressed length little-endian", () => {
    const out = new Uint8Array(COMPRESSED_HEADER_LENGTH)
    writeHeader(out, 0, { compressedLength: 0x22, sequenceId: 0, uncompressedLength: 0x32 })
    expect(toHex(out)).toBe("22000000320000")
    writeHeader(out, 0, { compressedLength: 0x123456, sequenceId: 0xfe, uncompressedLength: 0 })
    expect(toHex(out)).toBe("563412fe000000")
  })

  it("reads what the MySQL documentation's example header says", () => {
    expect(readHeader(fromHex("22 00 00 00 32 00 00"), 0)).toEqual({
      compressedLength: 34,
      sequenceId: 0,
      uncompressedLength: 50
    })
    expect(readHeader(fromHex("aa ff ff ff 01 ff ff ff"), 1)).toEqual({
      compressedLength: MAX_COMPRESSED_PAYLOAD,
      sequenceId: 1,
      uncompressedLength: MAX_COMPRESSED_PAYLOAD
    })
  })

  it("round-trips every header at any offset", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_COMPRESSED_PAYLOAD }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: MAX_COMPRESSED_PAYLOAD }),
        fc.integer({ min: 0, max: 9 }),
        (compressedLength, sequenceId, uncompressedLength, offset) => {
          const buffer = new Uint8Array(offset + COMPRESSED_HEADER_LENGTH)
          const header = { compressedLength, sequenceId, uncompressedLength }
          writeHeader(buffer, offset, header)
          expect(readHeader(buffer, offset)).toEqual(header)
        }
      )
    )
  })
})
