// Encoder → compressed bytes cut anywhere → decoder → MySQL packet framing: what comes out is what went in.

import { describe, expect, it } from "@effect/vitest"
import { encodePacket, type Packet, PacketDecoder } from "@effect-mysql/protocol"
import { Result } from "effect"
import fc from "fast-check"
import { MAX_COMPRESSED_PAYLOAD } from "../src/CompressedPacket.ts"
import { CompressedPacketDecoder } from "../src/CompressedPacketDecoder.ts"
import { CompressedPacketEncoder } from "../src/CompressedPacketEncoder.ts"
import { type CompressionCodec, zlib, zstd } from "../src/CompressionCodec.ts"
import { concat, drain, noise, split, textLike, toHex } from "./support/bytes.ts"

const codecs: ReadonlyArray<CompressionCodec> = [zlib(), zlib(1), zstd(), zstd(12)]

/** Writes `writes` through an encoder, cuts the wire bytes at `cuts`, decodes. */
const roundTrip = (
  codec: CompressionCodec,
  writes: ReadonlyArray<Uint8Array>,
  cuts: ReadonlyArray<number>,
  maxWriteLength?: number
) => {
  const encoder = new CompressedPacketEncoder(codec, maxWriteLength === undefined ? {} : { maxWriteLength })
  const wire = concat(writes.flatMap((w) => Array.from(encoder.encode(w))))
  const decoded = drain(new CompressedPacketDecoder(codec), split(wire, cuts))
  if (Result.isFailure(decoded)) throw decoded.failure
  return { wire, bytes: concat(decoded.success), payloads: decoded.success }
}

const payloadArb = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 300 }),
  fc.tuple(fc.integer({ min: 0, max: 40_000 }), fc.integer()).map(([n, seed]) => textLike(n, seed)),
  fc.tuple(fc.integer({ min: 0, max: 5_000 }), fc.integer()).map(([n, seed]) => noise(n, seed))
)

describe("round trip", () => {
  it("returns the bytes written, whatever the sizes, codecs and cuts", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...codecs),
        fc.array(payloadArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.option(fc.integer({ min: 1, max: 40_000 }), { nil: undefined, freq: 2 }),
        (codec, writes, rawCuts, maxWriteLength) => {
          const total = writes.reduce((n, w) => n + w.length, 0)
          const cuts = rawCuts.map((c) => c % (total * 2 + 1))
          const { bytes } = roundTrip(codec, writes, cuts, maxWriteLength)
          expect(Buffer.compare(bytes, concat(writes))).toBe(0)
        }
      ),
      { numRuns: 100 }
    )
  }, 30_000)

  it("carries MySQL packets through, split points anywhere, into the packet framing", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...codecs),
        fc.array(payloadArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (codec, payloads, rawCuts) => {
          let sequenceId = 0
          const writes = payloads.map((payload) => {
            const framed = encodePacket(payload, sequenceId)
            sequenceId = framed.nextSequenceId
            return framed.bytes
          })
          const { payloads: chunks, wire } = roundTrip(codec, writes, rawCuts)
          const framing = new PacketDecoder()
          const packets: Array<Packet> = []
          for (const cut of split(concat(chunks), rawCuts)) {
            const out = framing.push(cut)
            if (Result.isFailure(out)) throw out.failure
            packets.push(...out.success)
          }
          expect(framing.idle).toBe(true)
          expect(packets.map((p) => toHex(p.payload))).toEqual(payloads.map(toHex))
          expect(wire.length).toBeGreaterThan(0)
        }
      ),
      { numRuns: 100 }
    )
  }, 30_000)

  it("carries a stream of many tiny packets, one chunk or byte by byte", () => {
    const writes = Array.from({ length: 5000 }, (_, i) => encodePacket(textLike(i % 60, i), i & 0xff).bytes)
    for (const codec of [zlib(), zstd()]) {
      const whole = roundTrip(codec, writes, [])
      expect(Buffer.compare(whole.bytes, concat(writes))).toBe(0)
      const bytewise = roundTrip(
        codec,
        writes.slice(0, 300),
        Array.from({ length: 20_000 }, (_, i) => i)
      )
      expect(Buffer.compare(bytewise.bytes, concat(writes.slice(0, 300)))).toBe(0)
    }
  })

  it("carries payloads of 16 MiB and more, compressed and stored", () => {
    const big = encodePacket(textLike(MAX_COMPRESSED_PAYLOAD + 4096, 3), 0).bytes
    const incompressible = encodePacket(noise(MAX_COMPRESSED_PAYLOAD * 2 + 17, 5), 0).bytes
    for (const codec of [zlib(1), zstd()]) {
      for (const data of [big, incompressible]) {
        for (const cut of [undefined, MAX_COMPRESSED_PAYLOAD]) {
          const { bytes, payloads } = roundTrip(codec, [data], [1, 7, 8, 65_536, 9_000_000, 16_777_222], cut)
          expect(bytes.length).toBe(data.length)
          expect(Buffer.compare(bytes, data)).toBe(0)
          expect(Math.max(...payloads.map((p) => p.length))).toBe(cut ?? 1 << 20)
        }
      }
    }
  }, 120_000)
})
