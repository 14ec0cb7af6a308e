// Helpers shared by the compression tests.
import { Result } from "effect"
import type { CompressedPacketDecoder } from "../../src/CompressedPacketDecoder.ts"

export { concatBytes as concat } from "@effect-mysql/protocol"

export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

export const fromHex = (hex: string): Uint8Array =>
  Uint8Array.from(hex.replace(/\s+/g, "").match(/../g) ?? [], (h) => Number.parseInt(h, 16))

/** Deterministic bytes that compress about as well as result-set rows (text with repeats). */
export const textLike = (length: number, seed = 1): Uint8Array => {
  const out = new Uint8Array(length)
  const words = ["id", "name", "alice", "bob", "2026-11-05", "12:30:00", "NULL", "shop", "order", "42", "\t", "\n"]
  let s = seed >>> 0
  let at = 0
  while (at < length) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    const word = words[s % words.length]!
    for (let i = 0; i < word.length && at < length; i++) out[at++] = word.charCodeAt(i)
    if (s & 0x100 && at < length) out[at++] = 48 + ((s >>> 9) % 10)
  }
  return out
}

/** Deterministic bytes that do not compress. */
export const noise = (length: number, seed = 7): Uint8Array => {
  const out = new Uint8Array(length)
  let s = seed >>> 0
  for (let i = 0; i < length; i++) {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    out[i] = s & 0xff
  }
  return out
}

/** Cuts `bytes` at `cuts` (sorted or not, clamped) into chunks. */
export const split = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b)
  const chunks: Array<Uint8Array> = []
  let from = 0
  for (const point of [...points, bytes.length]) {
    if (point > from) chunks.push(bytes.subarray(from, point))
    from = point
  }
  return chunks
}

/** Pushes every chunk, draining the decoder after each; the payloads in order, or the first error. */
export const drain = (decoder: CompressedPacketDecoder, chunks: ReadonlyArray<Uint8Array>) => {
  const out: Array<Uint8Array> = []
  for (const chunk of chunks) {
    decoder.push(chunk)
    while (true) {
      const next = decoder.next()
      if (Result.isFailure(next)) return Result.fail(next.failure)
      if (next.success === undefined) break
      out.push(next.success)
    }
  }
  return Result.succeed(out)
}
