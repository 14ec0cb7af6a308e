// What a hostile or broken peer can send: every case ends in a typed error, with bounded memory.

import * as Zlib from "node:zlib"
import { describe, expect, it } from "@effect/vitest"
import { ProtocolError } from "@effect-mysql/protocol"
import { Result } from "effect"
import fc from "fast-check"
import { COMPRESSED_HEADER_LENGTH, MAX_COMPRESSED_PAYLOAD, writeHeader } from "../src/CompressedPacket.ts"
import { CompressedPacketDecoder } from "../src/CompressedPacketDecoder.ts"
import { type CompressionCodec, zlib, zstd } from "../src/CompressionCodec.ts"
import { concat, drain, noise, split, textLike } from "./support/bytes.ts"

const frame = (body: Uint8Array, uncompressedLength: number, sequenceId = 0) => {
  const out = new Uint8Array(COMPRESSED_HEADER_LENGTH + body.length)
  writeHeader(out, 0, { compressedLength: body.length, sequenceId, uncompressedLength })
  out.set(body, COMPRESSED_HEADER_LENGTH)
  return out
}

const failure = (codec: CompressionCodec, wire: Uint8Array, options = {}) => {
  const decoded = drain(new CompressedPacketDecoder(codec, options), [wire])
  expect(Result.isFailure(decoded)).toBe(true)
  const error = (decoded as Result.Failure<unknown, ProtocolError>).failure
  expect(error).toBeInstanceOf(ProtocolError)
  expect(error._tag).toBe("ProtocolError")
  return error
}

/** A codec that records whether it was asked to decompress. */
const spy = (codec: CompressionCodec) => {
  const calls: Array<number> = []
  return {
    calls,
    codec: {
      ...codec,
      decompress: (input: Uint8Array, n: number) => {
        calls.push(n)
        return codec.decompress(input, n)
      }
    }
  }
}

/** `gib` GiB of zeros through a streaming compressor, never held whole. */
const bomb = (compressor: Zlib.Deflate | Zlib.ZstdCompress, gib: number) =>
  new Promise<Uint8Array>((resolve, reject) => {
    const out: Array<Uint8Array> = []
    compressor.on("data", (d: Uint8Array) => out.push(d))
    compressor.on("end", () => resolve(concat(out)))
    compressor.on("error", reject)
    const zeros = new Uint8Array(1 << 20)
    let written = 0
    const pump = () => {
      while (written < gib * 1024) {
        written++
        if (!compressor.write(zeros)) return void compressor.once("drain", pump)
      }
      compressor.end()
    }
    pump()
  })

/** Resident memory after a collection where the runtime offers one (Bun's collector otherwise lags by hundreds of MB). */
const rss = () => {
  ;(globalThis as { Bun?: { gc: (force: boolean) => void } }).Bun?.gc(true)
  return process.memoryUsage().rss
}

describe.each([zlib(), zstd()])("hostile input, $algorithm", (codec) => {
  const data = textLike(1000)
  const body = codec.compress(data)

  it("refuses an uncompressed length that claims more than the payload holds", () => {
    const error = failure(codec, frame(body, 1500))
    expect(error.message).toMatch(/expands to 1000 bytes, its header claims 1500/)
  })

  it("refuses an uncompressed length that claims less, without producing more than the claim", () => {
    const error = failure(codec, frame(body, 999))
    expect(error.message).toMatch(/beyond the 999 bytes/)
  })

  it("refuses a truncated compressed payload", () => {
    failure(codec, frame(body.subarray(0, body.length - 5), 1000))
    failure(codec, frame(body.subarray(0, 3), 1000))
  })

  it("waits for the rest of a frame cut short, holding only what arrived", () => {
    const wire = frame(body, 1000)
    const decoder = new CompressedPacketDecoder(codec)
    const out = drain(decoder, [wire.subarray(0, wire.length - 1)])
    expect(Result.isSuccess(out) && out.success).toEqual([])
    expect(decoder.idle).toBe(false)
    expect(decoder.bufferedBytes).toBe(wire.length - 1 - COMPRESSED_HEADER_LENGTH)
  })

  it("refuses garbage as payload", () => {
    failure(codec, frame(noise(200), 5000))
    failure(codec, frame(new Uint8Array(0), 10))
  })

  it("never throws on arbitrary bytes and never returns more than its limit", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(400)), (bytes, cuts) => {
        const decoder = new CompressedPacketDecoder(codec, { maxReadLength: 4096 })
        const out = drain(decoder, split(bytes, cuts))
        if (Result.isSuccess(out)) for (const p of out.success) expect(p.length).toBeLessThanOrEqual(4096)
        else expect(out.failure).toBeInstanceOf(ProtocolError)
      }),
      { numRuns: 300 }
    )
  })

  it("refuses lengths over the limit before decompressing anything", () => {
    const { calls, codec: watched } = spy(codec)
    const error = failure(watched, frame(body, 1000), { maxReadLength: 999 })
    expect(error.field).toBe("length of uncompressed payload")
    expect(calls).toEqual([])
    expect(failure(watched, frame(data, 0), { maxReadLength: 999 }).field).toBe("length of compressed payload")
    expect(failure(watched, frame(noise(2000), 10), { maxReadLength: 999 }).field).toBe("length of compressed payload")
    expect(calls).toEqual([])
  })

  it("stays failed after an error", () => {
    const decoder = new CompressedPacketDecoder(codec)
    expect(Result.isFailure(drain(decoder, [frame(body, 1)]))).toBe(true)
    decoder.push(frame(body, 1000))
    expect(Result.isFailure(decoder.next())).toBe(true)
    expect(decoder.error).toBeInstanceOf(ProtocolError)
  })

  it("follows the peer's compressed sequence id, or checks it when asked", () => {
    const wire = concat([frame(data, 0, 3), frame(data, 0, 9)])
    const decoder = new CompressedPacketDecoder(codec)
    expect(Result.isSuccess(drain(decoder, [wire]))).toBe(true)
    expect(decoder.nextSequenceId).toBe(10)
    const strict = new CompressedPacketDecoder(codec, { checkSequence: true })
    strict.expectSequenceId(3)
    expect(failure(codec, wire, { checkSequence: true }).field).toBe("compressed sequence id")
    const out = drain(strict, [wire])
    expect(Result.isFailure(out) && out.failure.message).toMatch(/expected sequence id 4, got 9/)
  })

  it("skips an empty stored packet", () => {
    const out = drain(new CompressedPacketDecoder(codec), [concat([frame(new Uint8Array(0), 0), frame(data, 0)])])
    expect(Result.isSuccess(out) && out.success.map((p) => p.length)).toEqual([1000])
  })
})

describe("decompression bombs", () => {
  const cases = [
    ["zlib", zlib(), () => Zlib.createDeflate({ level: 1 })],
    ["zstd", zstd(), () => Zlib.createZstdCompress({ params: { [Zlib.constants.ZSTD_c_compressionLevel]: 3 } })]
  ] as const

  it.each(cases)(
    "1 GiB of zeros in %s costs an error and little memory",
    async (_, codec, compressor) => {
      const payload = await bomb(compressor(), 1)
      expect(payload.length).toBeLessThan(MAX_COMPRESSED_PAYLOAD)
      const before = rss()
      for (const claim of [100, MAX_COMPRESSED_PAYLOAD]) {
        const error = failure(codec, frame(payload, claim))
        expect(error.message).toMatch(new RegExp(`beyond the ${claim} bytes`))
      }
      // the claim bounds the output (16 MiB here); the bomb would be 1024 MiB
      expect(rss() - before).toBeLessThan(96 * 1024 * 1024)
    },
    60_000
  )

  it("a chunk of small zstd frames claiming 16 MiB each is decompressed one frame per read", () => {
    const one = zstd().compress(new Uint8Array(MAX_COMPRESSED_PAYLOAD))
    const wire = concat(Array.from({ length: 64 }, (_, i) => frame(one, MAX_COMPRESSED_PAYLOAD, i)))
    expect(wire.length).toBeLessThan(64_000)
    const decoder = new CompressedPacketDecoder(zstd())
    decoder.push(wire)
    const before = rss()
    let peak = 0
    for (let i = 0; i < 64; i++) {
      const next = decoder.next()
      expect(Result.isSuccess(next) && next.success?.length).toBe(MAX_COMPRESSED_PAYLOAD)
      peak = Math.max(peak, rss() - before)
    }
    // all at once would be 1 GiB
    expect(peak).toBeLessThan(256 * 1024 * 1024)
  }, 60_000)
})
