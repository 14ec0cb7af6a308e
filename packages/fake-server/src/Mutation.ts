/**
 * Seeded mutations of a transcript's server turns, for fuzzing a client with recorded sessions:
 * bit flips, truncation, duplication, insertion, deletion, and edits of the fields a decoder trusts
 * most (packet lengths, sequence ids, length-encoded integers). The same seed gives the same
 * mutations, so a failing case is reproduced from its seed alone.
 *
 * In a compressed turn, the `inner` mutation inflates the frames, mutates the packets inside, and
 * deflates them again with honest headers, so the decoders behind decompression are reached too.
 *
 * Bytes in, bytes out (with `node:zlib` for the compressed turns).
 */
import * as Zlib from "node:zlib"
import { concatBytes } from "@effect-mysql/protocol"
import { frameOffsets, type Turn } from "./Transcript.ts"

/** mulberry32: small, fast, and good enough to pick mutations. */
export class Rng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  pick<A>(items: ReadonlyArray<A>): A {
    return items[this.int(items.length)]!
  }
}

export const mutationKinds = [
  "bitflip",
  "truncate",
  "duplicate",
  "insert",
  "delete",
  "length",
  "sequence",
  "lenenc",
  "inner"
] as const

export type MutationKind = (typeof mutationKinds)[number]

/** What a case plays: the server turns (mutated) in transcript order, and how it was made. */
export interface Plan {
  readonly turns: ReadonlyArray<Turn>
  /** One line per mutation applied, for reports. */
  readonly mutations: ReadonlyArray<string>
  /** Seeds the cutting of server turns into separate writes (see `chunks`). */
  readonly chunkSeed: number
}

const splice = (bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array => {
  const out = new Uint8Array(bytes.length - remove + insert.length)
  out.set(bytes.subarray(0, at), 0)
  out.set(insert, at)
  out.set(bytes.subarray(at + remove), at + insert.length)
  return out
}

// Values that sit at the edges of what length fields and lenenc prefixes mean.
const interestingLengths = [0, 1, 2, 0xfa, 0xfb, 0xfc, 0xff, 0x100, 0xffff, 0x10000, 0xfffffe, 0xffffff]
const lenencMarkers = [0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0xfa]

/** The packets inside a turn's compressed frames, or undefined when they do not inflate. */
const inflated = (bytes: Uint8Array): { readonly inner: Uint8Array; readonly sequenceId: number } | undefined => {
  const offsets = frameOffsets(bytes, true)
  const parts: Array<Uint8Array> = []
  try {
    for (const at of offsets) {
      const length = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)
      const uncompressed = bytes[at + 4]! | (bytes[at + 5]! << 8) | (bytes[at + 6]! << 16)
      const body = bytes.subarray(at + 7, at + 7 + length)
      parts.push(uncompressed === 0 ? body : new Uint8Array(Zlib.inflateSync(body)))
    }
  } catch {
    return undefined
  }
  return offsets.length === 0 ? undefined : { inner: concatBytes(parts), sequenceId: bytes[offsets[0]! + 3]! }
}

/** `inner` in compressed frames of at most 16 MiB - 1, numbered from `sequenceId`. */
const deflated = (inner: Uint8Array, sequenceId: number): Uint8Array => {
  const frames: Array<Uint8Array> = []
  for (let at = 0, seq = sequenceId; at < inner.length || frames.length === 0; at += 0xffffff, seq++) {
    const piece = inner.subarray(at, at + 0xffffff)
    const body = new Uint8Array(Zlib.deflateSync(piece))
    const frame = new Uint8Array(7 + body.length)
    frame.set([body.length & 0xff, (body.length >>> 8) & 0xff, body.length >>> 16, seq & 0xff], 0)
    frame.set([piece.length & 0xff, (piece.length >>> 8) & 0xff, piece.length >>> 16], 4)
    frame.set(body, 7)
    frames.push(frame)
  }
  return concatBytes(frames)
}

/** Applies one mutation of `kind` to server turn `index`; yields the new turns and a description. */
const applyOne = (
  turns: Array<Turn>,
  index: number,
  kind: MutationKind,
  rng: Rng
): { readonly turns: Array<Turn>; readonly note: string } => {
  const turn = turns[index]!
  const bytes = turn.bytes
  const with_ = (next: Uint8Array, note: string) => {
    const out = [...turns]
    out[index] = { ...turn, bytes: next }
    return { turns: out, note: `turn ${index}: ${note}` }
  }
  const at = rng.int(Math.max(1, bytes.length))
  switch (kind) {
    case "bitflip": {
      const next = bytes.slice()
      const flips = 1 + rng.int(4)
      const where: Array<number> = []
      for (let i = 0; i < flips && next.length > 0; i++) {
        const byte = rng.int(next.length)
        next[byte]! ^= 1 << rng.int(8)
        where.push(byte)
      }
      return with_(next, `bit flips at ${where.join(",")}`)
    }
    case "truncate":
      // The server says no more after the cut: later turns are dropped.
      return {
        turns: [...turns.slice(0, index), { ...turn, bytes: bytes.subarray(0, at) }],
        note: `turn ${index}: truncated to ${at} of ${bytes.length} bytes, nothing after`
      }
    case "duplicate": {
      const length = 1 + rng.int(Math.min(64, bytes.length - at))
      return with_(splice(bytes, at, 0, bytes.slice(at, at + length)), `${length} bytes at ${at} duplicated`)
    }
    case "insert": {
      const noise = new Uint8Array(1 + rng.int(16))
      for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rng.next() * 256)
      return with_(splice(bytes, at, 0, noise), `${noise.length} random bytes inserted at ${at}`)
    }
    case "delete": {
      const length = 1 + rng.int(Math.min(32, bytes.length - at))
      return with_(splice(bytes, at, length, new Uint8Array(0)), `${length} bytes deleted at ${at}`)
    }
    case "length": {
      const headers = frameOffsets(bytes, turn.compressed)
      if (headers.length === 0) return with_(bytes, "no header to edit")
      const header = rng.pick(headers)
      // A compressed frame has two lengths: the frame's (0..2) and the uncompressed one (4..6).
      const field = turn.compressed && rng.next() < 0.5 ? header + 4 : header
      const current = bytes[field]! | (bytes[field + 1]! << 8) | (bytes[field + 2]! << 16)
      const value =
        rng.next() < 0.5 ? rng.pick(interestingLengths) : Math.max(0, Math.min(0xffffff, current + rng.int(17) - 8))
      const next = bytes.slice()
      next[field] = value & 0xff
      next[field + 1] = (value >>> 8) & 0xff
      next[field + 2] = (value >>> 16) & 0xff
      return with_(next, `length at ${field}: ${current} -> ${value}`)
    }
    case "sequence": {
      const headers = frameOffsets(bytes, turn.compressed)
      if (headers.length === 0) return with_(bytes, "no header to edit")
      const header = rng.pick(headers)
      const next = bytes.slice()
      next[header + 3] = rng.int(256)
      return with_(next, `sequence id at ${header + 3}: ${bytes[header + 3]} -> ${next[header + 3]}`)
    }
    case "inner": {
      const unpacked = turn.compressed ? inflated(bytes) : undefined
      if (unpacked === undefined) return applyOne(turns, index, "bitflip", rng)
      const plain: Turn = { from: "server", compressed: false, bytes: unpacked.inner }
      const kind = rng.pick(mutationKinds.filter((k) => k !== "inner"))
      const mutated = applyOne([plain], 0, kind, rng)
      return with_(
        deflated(mutated.turns[0]!.bytes, unpacked.sequenceId),
        `inside the compressed frames, ${mutated.note.replace(/^turn 0: /, "")}`
      )
    }
    case "lenenc": {
      const next = bytes.slice()
      const marker = rng.pick(lenencMarkers)
      next[at] = marker
      return with_(next, `byte ${at} -> 0x${marker.toString(16)}`)
    }
  }
}

/** A mutated plan of `turns`: one to three mutations of random server turns. */
export const plan = (turns: ReadonlyArray<Turn>, seed: number): Plan => {
  const rng = new Rng(seed)
  let current = [...turns]
  const notes: Array<string> = []
  const count = 1 + rng.int(3)
  for (let i = 0; i < count; i++) {
    const servers = current.flatMap((turn, index) => (turn.from === "server" && turn.bytes.length > 0 ? [index] : []))
    if (servers.length === 0) break
    const { turns: next, note } = applyOne(current, rng.pick(servers), rng.pick(mutationKinds), rng)
    current = next
    notes.push(note)
  }
  return { turns: current, mutations: notes, chunkSeed: rng.int(0x7fffffff) }
}

/** The transcript as recorded, played whole. */
export const faithful = (turns: ReadonlyArray<Turn>, chunkSeed = 0): Plan => ({ turns, mutations: [], chunkSeed })

/**
 * The pieces a server turn is written in: whole (a third of the time), else cut at random points,
 * down to single bytes for short turns.
 */
export const chunks = (bytes: Uint8Array, rng: Rng): Array<Uint8Array> => {
  if (bytes.length < 2 || rng.next() < 1 / 3) return [bytes]
  const cuts = new Set<number>()
  const wanted = bytes.length <= 16 && rng.next() < 0.5 ? bytes.length - 1 : 1 + rng.int(8)
  for (let i = 0; i < wanted; i++) cuts.add(1 + rng.int(bytes.length - 1))
  const sorted = [...cuts].sort((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let from = 0
  for (const cut of sorted) {
    out.push(bytes.subarray(from, cut))
    from = cut
  }
  out.push(bytes.subarray(from))
  return out
}
