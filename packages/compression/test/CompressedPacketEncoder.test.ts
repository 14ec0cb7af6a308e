import { describe, expect, it } from "@effect/vitest"
import { encodePacket, encodePackets } from "@effect-mysql/protocol"
import { Result } from "effect"
import { MAX_COMPRESSED_PAYLOAD, MIN_COMPRESS_LENGTH, readHeader } from "../src/CompressedPacket.ts"
import { CompressedPacketEncoder, DEFAULT_MAX_WRITE_LENGTH } from "../src/CompressedPacketEncoder.ts"
import { zlib, zstd } from "../src/CompressionCodec.ts"
import { concat, noise, textLike, toHex } from "./support/bytes.ts"

const encode = (encoder: CompressedPacketEncoder, data: Uint8Array) => Array.from(encoder.encode(data))

const text = new TextEncoder()

describe("CompressedPacketEncoder", () => {
  it("compresses the MySQL documentation's 50-byte COM_QUERY, and it inflates back", () => {
    const query = concat([Uint8Array.of(0x03), text.encode('select "012345678901234567890123456789012345"')])
    const framed = encodePacket(query, 0).bytes
    expect(framed.length).toBe(50)
    const [packet, ...rest] = encode(new CompressedPacketEncoder(zlib()), framed)
    expect(rest).toEqual([])
    const header = readHeader(packet, 0)
    // compressed length differs between zlib builds; sequence id and uncompressed length do not
    expect(toHex(packet.subarray(3, 7))).toBe("00320000")
    expect(header.compressedLength).toBe(packet.length - 7)
    expect(toHex(packet.subarray(7, 9))).toBe("789c")
    const inflated = zlib().decompress(packet.subarray(7), header.uncompressedLength)
    expect(Result.isSuccess(inflated) && toHex(inflated.success)).toBe(toHex(framed))
  })

  it("stores what is shorter than 50 bytes", () => {
    const framed = encodePacket(new Uint8Array(MIN_COMPRESS_LENGTH - 5), 0).bytes
    expect(framed.length).toBe(MIN_COMPRESS_LENGTH - 1)
    const [packet] = encode(new CompressedPacketEncoder(zlib()), framed)
    expect(readHeader(packet, 0)).toEqual({ compressedLength: 49, sequenceId: 0, uncompressedLength: 0 })
    expect(toHex(packet.subarray(7))).toBe(toHex(framed))
  })

  it("stores what would not shrink", () => {
    for (const codec of [zlib(), zstd()]) {
      const framed = encodePacket(noise(1000), 0).bytes
      const [packet] = encode(new CompressedPacketEncoder(codec), framed)
      expect(readHeader(packet, 0).uncompressedLength).toBe(0)
      expect(packet.length).toBe(7 + framed.length)
    }
  })

  it("honours another threshold", () => {
    const framed = encodePacket(textLike(200), 0).bytes
    const [packet] = encode(new CompressedPacketEncoder(zstd(), { minCompressLength: 1000 }), framed)
    expect(readHeader(packet, 0).uncompressedLength).toBe(0)
  })

  it("puts several MySQL packets written together into one compressed packet", () => {
    const framed = encodePackets([textLike(100, 1), textLike(100, 2), textLike(100, 3)], 0).bytes
    const packets = encode(new CompressedPacketEncoder(zlib()), framed)
    expect(packets.length).toBe(1)
    expect(readHeader(packets[0], 0).uncompressedLength).toBe(framed.length)
  })

  it("cuts a long write into compressed packets of 1 MiB", () => {
    const framed = encodePacket(textLike(3 * DEFAULT_MAX_WRITE_LENGTH + 1000), 0).bytes
    const headers = encode(new CompressedPacketEncoder(zstd()), framed).map((p) => readHeader(p, 0))
    expect(headers.map((h) => h.uncompressedLength)).toEqual([
      DEFAULT_MAX_WRITE_LENGTH,
      DEFAULT_MAX_WRITE_LENGTH,
      DEFAULT_MAX_WRITE_LENGTH,
      1004
    ])
  })

  it("cuts at 16 MiB - 1 at most", () => {
    const framed = encodePacket(textLike(MAX_COMPRESSED_PAYLOAD + 1000), 0).bytes
    const encoder = new CompressedPacketEncoder(zstd(), { maxWriteLength: 1 << 30 })
    const headers = encode(encoder, framed).map((p) => readHeader(p, 0))
    expect(headers.map((h) => [h.sequenceId, h.uncompressedLength])).toEqual([
      [0, MAX_COMPRESSED_PAYLOAD],
      [1, framed.length - MAX_COMPRESSED_PAYLOAD]
    ])
    expect(encoder.sequenceId).toBe(2)
  })

  it("restarts the compressed sequence id with each command, and only then", () => {
    const encoder = new CompressedPacketEncoder(zlib())
    const ids = (data: Uint8Array) => encode(encoder, data).map((p) => p[3])
    const command = encodePacket(text.encode("\x03SELECT 1"), 0).bytes
    expect(ids(command)).toEqual([0])
    expect(ids(command)).toEqual([0])
    // a read continues the count (LOCAL INFILE data follows the server's request)
    encoder.sequenceId = 5
    expect(ids(encodePacket(textLike(10), 2).bytes)).toEqual([5])
    expect(ids(encodePacket(new Uint8Array(0), 3).bytes)).toEqual([6])
    // a payload split over writes: the second write starts mid-packet, a 0 in its 4th byte means nothing
    const long = encodePacket(new Uint8Array(100), 0).bytes
    expect(ids(long.subarray(0, 10))).toEqual([0])
    expect(ids(long.subarray(10))).toEqual([1])
    // a header split over writes is followed too
    const next = encodePackets([textLike(20), textLike(30)], 4).bytes
    encoder.sequenceId = 9
    expect(ids(next.subarray(0, 2))).toEqual([9])
    expect(ids(next.subarray(2, 30))).toEqual([10])
    expect(ids(next.subarray(30))).toEqual([11])
    expect(ids(command)).toEqual([0])
  })

  it("wraps the compressed sequence id at 255", () => {
    const encoder = new CompressedPacketEncoder(zlib(), { maxWriteLength: 10 })
    encoder.sequenceId = 254
    const ids = encode(encoder, encodePacket(textLike(30), 7).bytes).map((p) => p[3])
    expect(ids).toEqual([254, 255, 0, 1])
  })
})
