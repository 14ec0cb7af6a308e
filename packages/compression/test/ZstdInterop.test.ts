// Our zstd frames against an independent implementation: Debian's `zstd` command line tool.

import { spawnSync } from "node:child_process"
import { describe, expect, it } from "@effect/vitest"
import { encodePacket } from "@effect-mysql/protocol"
import { Result } from "effect"
import { COMPRESSED_HEADER_LENGTH, readHeader, writeHeader } from "../src/CompressedPacket.ts"
import { CompressedPacketDecoder } from "../src/CompressedPacketDecoder.ts"
import { CompressedPacketEncoder } from "../src/CompressedPacketEncoder.ts"
import { zstd } from "../src/CompressionCodec.ts"
import { concat, drain, textLike } from "./support/bytes.ts"

const ZSTD = "/usr/bin/zstd"

const cli = (args: ReadonlyArray<string>, input: Uint8Array): Uint8Array => {
  const run = spawnSync(ZSTD, ["-q", ...args], { input, maxBuffer: 64 * 1024 * 1024 })
  if (run.error !== undefined) throw new Error(`${ZSTD}: ${run.error.message} (apt-get install -y zstd)`)
  if (run.status !== 0) throw new Error(`zstd ${args.join(" ")} failed: ${run.stderr}`)
  return run.stdout
}

const sizes = [200, 1000, 65_536, 1_000_000]

describe("zstd interop with the zstd CLI", () => {
  it.each([1, 3, 12, 19])(
    "frames written here at level %i decode there",
    (level) => {
      const encoder = new CompressedPacketEncoder(zstd(level))
      for (const size of sizes) {
        const framed = encodePacket(textLike(size, size), 0).bytes
        const [packet] = Array.from(encoder.encode(framed))
        const header = readHeader(packet, 0)
        expect(header.uncompressedLength).toBe(framed.length)
        const decoded = cli(["-d", "-c"], packet.subarray(COMPRESSED_HEADER_LENGTH))
        expect(Buffer.compare(decoded, framed)).toBe(0)
      }
    },
    60_000
  )

  it.each([
    { label: "-1", args: ["-1"] },
    { label: "-3", args: ["-3"] },
    { label: "-19", args: ["-19"] },
    { label: "--ultra -22", args: ["--ultra", "-22"] },
    { label: "-3 --no-check", args: ["-3", "--no-check"] }
  ])(
    "frames written there with $label decode here",
    ({ args }) => {
      for (const size of sizes) {
        const framed = encodePacket(textLike(size, size + 1), 3).bytes
        // from stdin the CLI writes frames without a content size: the decoder must not need one
        const body = cli([...args, "-c"], framed)
        const packet = new Uint8Array(COMPRESSED_HEADER_LENGTH + body.length)
        writeHeader(packet, 0, { compressedLength: body.length, sequenceId: 1, uncompressedLength: framed.length })
        packet.set(body, COMPRESSED_HEADER_LENGTH)
        const out = drain(new CompressedPacketDecoder(zstd()), [packet])
        expect(Result.isSuccess(out) && Buffer.compare(concat(out.success), framed)).toBe(0)
      }
    },
    60_000
  )
})
