// The fuzzing harness: transcripts round-trip through JSON, mutations are reproducible from their
// seed, and the replay server plays what it is given, in pieces that add up to the whole.
import * as Net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Mutation from "../src/Mutation.ts"
import * as ReplayServer from "../src/ReplayServer.ts"
import * as Transcript from "../src/Transcript.ts"

const bytes = (...values: Array<number>) => Uint8Array.from(values)

// A greeting-like server packet, the client's answer, then two packets in one server turn.
const turns: ReadonlyArray<Transcript.Turn> = [
  { from: "server", compressed: false, bytes: bytes(3, 0, 0, 0, 0x0a, 0x35, 0x00) },
  { from: "client", compressed: false, bytes: bytes(2, 0, 0, 1, 0x61, 0x62) },
  { from: "server", compressed: false, bytes: bytes(1, 0, 0, 2, 0x01, 2, 0, 0, 3, 0x00, 0x00) }
]

/** Connects, sends the client turn once the first server turn is in, and collects what comes. */
const converse = (port: number) =>
  Effect.callback<Uint8Array>((resume) => {
    const received: Array<number> = []
    const socket = Net.connect({ host: "127.0.0.1", port })
    let answered = false
    socket.on("data", (chunk: Buffer) => {
      received.push(...chunk)
      if (!answered && received.length >= turns[0]!.bytes.length) {
        answered = true
        socket.write(turns[1]!.bytes)
      }
    })
    socket.on("error", () => {})
    socket.on("close", () => resume(Effect.succeed(Uint8Array.from(received))))
    return Effect.sync(() => socket.destroy())
  })

describe("fuzzing harness", () => {
  it("transcripts round-trip through JSON", () => {
    const transcript: Transcript.Transcript = { name: "t", description: "d", server: "10.11", turns }
    assert.deepStrictEqual(Transcript.fromJson(Transcript.toJson(transcript)), transcript)
  })

  it("finds packet and compressed frame headers", () => {
    assert.deepStrictEqual(Transcript.frameOffsets(turns[2]!.bytes, false), [0, 5])
    assert.deepStrictEqual(Transcript.frameOffsets(bytes(1, 0, 0, 0, 0, 0, 0, 9, 1, 0, 0, 1, 0, 0, 0, 8), true), [0, 8])
  })

  it("marks the turns after a compressed login", () => {
    const raw = turns.map((turn) => ({ from: turn.from, chunks: [turn.bytes] }))
    const marked = Transcript.toTurns([...raw, { from: "client", chunks: [bytes(0)] }], true)
    assert.deepStrictEqual(
      marked.map((turn) => turn.compressed),
      [false, false, false, true]
    )
  })

  it("the same seed gives the same plan; another seed another one", () => {
    const a = Mutation.plan(turns, 42)
    assert.deepStrictEqual(Mutation.plan(turns, 42), a)
    assert.isAtLeast(a.mutations.length, 1)
    const differs = [43, 44, 45, 46].some(
      (seed) => JSON.stringify(Mutation.plan(turns, seed).turns) !== JSON.stringify(a.turns)
    )
    assert.isTrue(differs)
    // Client turns are never touched.
    for (let seed = 0; seed < 200; seed++) {
      for (const turn of Mutation.plan(turns, seed).turns) {
        if (turn.from === "client") assert.deepStrictEqual(turn.bytes, turns[1]!.bytes)
      }
    }
  })

  it("chunks cover the bytes exactly, in order", () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)
    for (let seed = 0; seed < 100; seed++) {
      const pieces = Mutation.chunks(data, new Mutation.Rng(seed))
      assert.deepStrictEqual(Uint8Array.from(pieces.flatMap((piece) => [...piece])), data)
    }
  })

  it.live("the replay server plays the server turns and closes when the script is over", () =>
    Effect.gen(function* () {
      const server = yield* ReplayServer.start(Mutation.faithful(turns, 7), { idleMillis: 100 })
      const received = yield* converse(server.port)
      assert.deepStrictEqual(received, Uint8Array.from([...turns[0]!.bytes, ...turns[2]!.bytes]))
      assert.strictEqual(server.accepted(), 1)
    }).pipe(Effect.scoped)
  )

  it.live("a truncated plan ends with the connection closed, not a wait", () =>
    Effect.gen(function* () {
      const truncated: Mutation.Plan = { turns: [turns[0]!, turns[1]!], mutations: ["cut"], chunkSeed: 0 }
      const server = yield* ReplayServer.start(truncated, { idleMillis: 100 })
      const started = Date.now()
      const received = yield* converse(server.port)
      assert.deepStrictEqual(received, turns[0]!.bytes)
      assert.isBelow(Date.now() - started, 2_000)
    }).pipe(Effect.scoped)
  )
})
