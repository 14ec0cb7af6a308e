import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { ReadBuffer } from "../src/internal/ReadBuffer.ts"

const chunk = (size: number) => new Uint8Array(size)

const make = (limit: number) => {
  const events: Array<string> = []
  const buffer = new ReadBuffer<string>(
    limit,
    () => events.push("pause"),
    () => events.push("resume")
  )
  return { buffer, events }
}

describe("ReadBuffer", () => {
  it("pauses the source at the limit and resumes it below half", () => {
    const { buffer, events } = make(100)
    buffer.push(chunk(60))
    assert.deepStrictEqual(events, [])
    buffer.push(chunk(60))
    assert.deepStrictEqual(events, ["pause"])
    assert.strictEqual(buffer.size, 120)
    buffer.poll()
    assert.deepStrictEqual(events, ["pause"])
    buffer.poll()
    assert.deepStrictEqual(events, ["pause", "resume"])
    assert.strictEqual(buffer.size, 0)
  })

  it("hands a chunk straight to a waiting reader without queueing it", () => {
    const { buffer } = make(100)
    const received: Array<number> = []
    buffer.await((result) => received.push(Result.getOrThrow(result).length))
    buffer.push(chunk(7))
    assert.deepStrictEqual(received, [7])
    assert.strictEqual(buffer.size, 0)
  })

  it("gives queued chunks before the end, then the first failure on every read", () => {
    const { buffer } = make(100)
    buffer.push(chunk(3))
    buffer.end(() => "closed")
    buffer.end(() => "reset")
    assert.strictEqual(Result.getOrThrow(buffer.poll()!).length, 3)
    assert.deepStrictEqual(buffer.poll(), Result.fail("closed"))
    assert.deepStrictEqual(buffer.poll(), Result.fail("closed"))
  })

  it("wakes a waiting reader with the failure, and a cancelled reader with nothing", () => {
    const { buffer } = make(100)
    const seen: Array<string> = []
    const cancel = buffer.await(() => seen.push("cancelled reader"))
    cancel()
    buffer.await((result) => seen.push(Result.isFailure(result) ? result.failure : "chunk"))
    buffer.end(() => "closed")
    assert.deepStrictEqual(seen, ["closed"])
  })
})
