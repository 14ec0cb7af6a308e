import { Buffer } from "node:buffer"
import { assert, describe, it } from "@effect/vitest"
import { cutAndRelease } from "../src/internal/ChunkPieces.ts"

const counting = (size: number) => new Uint8Array(size).map((_, i) => (i * 7) & 0xff)

const joined = (pieces: ReadonlyArray<Uint8Array>) => {
  const all = new Uint8Array(pieces.reduce((n, piece) => n + piece.length, 0))
  let at = 0
  for (const piece of pieces) {
    all.set(piece, at)
    at += piece.length
  }
  return all
}

describe("cutAndRelease", () => {
  it("cuts a chunk into copies of at most the size, in order, and frees the chunk's buffer", () => {
    const chunk = counting(200_000)
    const expected = chunk.slice()
    const pieces = cutAndRelease(chunk, 64 * 1024)
    assert.deepStrictEqual(
      pieces.map((piece) => piece.length),
      [65_536, 65_536, 65_536, 3_392]
    )
    assert.deepStrictEqual(joined(pieces), expected)
    for (const piece of pieces) assert.notStrictEqual(piece.buffer, chunk.buffer)
    // Detached: its memory is gone now, not at the next collection.
    assert.strictEqual(chunk.buffer.byteLength, 0)
    assert.strictEqual(chunk.length, 0)
  })

  it("copies out of a Buffer, whose own slice would be a view", () => {
    const chunk = Buffer.from(counting(100_000))
    const expected = Uint8Array.from(chunk)
    const pieces = cutAndRelease(chunk, 40_000)
    assert.deepStrictEqual(joined(pieces), expected)
    for (const piece of pieces) {
      assert.strictEqual(piece.constructor, Uint8Array)
      assert.strictEqual(piece.byteOffset, 0)
      assert.strictEqual(piece.buffer.byteLength, piece.length)
    }
  })

  it("leaves a chunk that shares its buffer with other bytes as it is", () => {
    const whole = counting(300_000)
    const chunk = whole.subarray(1_000, 201_000)
    const expected = chunk.slice()
    const pieces = cutAndRelease(chunk, 64 * 1024)
    assert.deepStrictEqual(joined(pieces), expected)
    assert.strictEqual(whole.buffer.byteLength, 300_000)
    assert.deepStrictEqual(chunk, expected)
  })
})
