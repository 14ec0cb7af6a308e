/**
 * Row decoding micro-benchmark (a program, not a test): 100k rows of 8 mixed columns, ~10% NULLs,
 * synthesized as text and binary row payloads, decoded to objects and to arrays.
 *
 *   node packages/protocol/bench/rows.ts            (Node 24)
 *   deno run -A packages/protocol/bench/rows.ts
 *   bun packages/protocol/bench/rows.ts
 *
 * Columns: INT, BIGINT, VARCHAR(64), DECIMAL(12,2), DATETIME, DOUBLE, TEXT (~100 bytes), TINYINT.
 * Prints rows/s (best of the timed rounds) and µs per row, then the cost of one short text value
 * with and without the short-ASCII path of `utf8String`, and of decoding rows cut from a Buffer
 * against rows cut from a plain Uint8Array (what the client's PacketChannel hands over), and of
 * reading them at offsets into one buffer with `readObject`.
 */
import { Buffer } from "node:buffer"
import { Result } from "effect"
import { makeBinaryRowDecoder, makeBinaryRowEncoder } from "../src/BinaryResultsetRow.ts"
import { ColumnFlag, ColumnType } from "../src/ColumnType.ts"
import type { ProtocolError } from "../src/ProtocolError.ts"
import { makeTextRowDecoder, makeTextRowEncoder } from "../src/TextResultsetRow.ts"
import type { ColumnInfo } from "../src/values/ColumnPlan.ts"
import type { RowDecoder } from "../src/values/RowCodec.ts"
import { utf8String } from "../src/values/TextValue.ts"

const ROWS = 100_000
const ROUNDS = 7

const col = (name: string, type: number, collation: number, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({
  name,
  type,
  flags: 0,
  decimals: 0,
  collation,
  ...extra
})

const columns: ReadonlyArray<ColumnInfo> = [
  col("id", ColumnType.LONG, 63, { flags: ColumnFlag.NOT_NULL | ColumnFlag.PRI_KEY }),
  col("counter", ColumnType.LONGLONG, 63),
  col("name", ColumnType.VAR_STRING, 45, { columnLength: 256 }),
  col("price", ColumnType.NEWDECIMAL, 63, { decimals: 2 }),
  col("created_at", ColumnType.DATETIME, 63),
  col("score", ColumnType.DOUBLE, 63, { decimals: 31 }),
  col("body", ColumnType.BLOB, 45, { flags: ColumnFlag.BLOB }),
  col("flag", ColumnType.TINY, 63, { columnLength: 4 })
]

// Deterministic pseudo-random values.
let seed = 42
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed / 0x7fffffff
}
const words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu"]
const text = (n: number) => {
  let s = ""
  while (s.length < n) s += `${words[Math.floor(rand() * words.length)]} `
  return s.slice(0, n)
}
const maybe = <A>(v: A): A | null => (rand() < 0.1 ? null : v)

const values = (i: number): Array<unknown> => [
  i + 1,
  maybe(BigInt(Math.floor(rand() * 1e12))),
  maybe(text(8 + Math.floor(rand() * 40))),
  maybe((rand() * 1e6).toFixed(2)),
  maybe(new Date(2020, Math.floor(rand() * 12), 1 + Math.floor(rand() * 28), 12, 30, Math.floor(rand() * 60))),
  maybe(rand() * 1000),
  maybe(text(90 + Math.floor(rand() * 20))),
  maybe(Math.floor(rand() * 100))
]

const build = (encoderResult: ReturnType<typeof makeTextRowEncoder>): Array<Uint8Array> => {
  const encoder = Result.getOrThrow(encoderResult)
  const out: Array<Uint8Array> = []
  for (let i = 0; i < ROWS; i++) out.push(Result.getOrThrow(encoder.encode(values(i))))
  return out
}

seed = 42
const textRows = build(makeTextRowEncoder(columns))
seed = 42
const binaryRows = build(makeBinaryRowEncoder(columns))

const measure = (label: string, decoder: RowDecoder, rows: Array<Uint8Array>, asArray: boolean) => {
  let best = Number.POSITIVE_INFINITY
  let sink = 0
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now()
    for (let i = 0; i < rows.length; i++) {
      const r: Result.Result<unknown, ProtocolError> = asArray
        ? decoder.decodeArray(rows[i])
        : decoder.decodeObject(rows[i])
      if (Result.isFailure(r)) throw new Error(`${label}: ${r.failure.message}`)
      sink++
    }
    const ms = performance.now() - t0
    if (round > 0 && ms < best) best = ms // round 0 warms up
  }
  const perSecond = (ROWS / best) * 1000
  console.log(
    `${label.padEnd(22)} ${Math.round(perSecond).toLocaleString("en-US").padStart(11)} rows/s  ${((best * 1000) / ROWS).toFixed(2)} µs/row`
  )
  return sink
}

const runtime =
  typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
    ? "bun"
    : typeof (globalThis as { Deno?: unknown }).Deno !== "undefined"
      ? "deno"
      : `node ${(globalThis as { process?: { version?: string } }).process?.version ?? ""}`
const avg = (rows: Array<Uint8Array>) => Math.round(rows.reduce((n, r) => n + r.length, 0) / rows.length)
console.log(
  `${runtime}: ${ROWS} rows x ${columns.length} columns; text ${avg(textRows)} B/row, binary ${avg(binaryRows)} B/row`
)

const text_ = Result.getOrThrow(makeTextRowDecoder(columns))
const binary_ = Result.getOrThrow(makeBinaryRowDecoder(columns))
measure("text   -> objects", text_, textRows, false)
measure("text   -> arrays", text_, textRows, true)
measure("binary -> objects", binary_, binaryRows, false)
measure("binary -> arrays", binary_, binaryRows, true)

// The short-ASCII trick of TextValue.utf8String against a TextDecoder call per value.
const ascii = new Uint8Array(4096).map((_, i) => 97 + (i % 26))
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
for (const length of [8, 24]) {
  for (const [name, f] of [
    ["utf8String", (p: number) => utf8String(fatal, ascii, p, p + length)],
    ["TextDecoder", (p: number) => fatal.decode(ascii.subarray(p, p + length))]
  ] as const) {
    let best = Number.POSITIVE_INFINITY
    let sink = 0
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now()
      for (let i = 0; i < 1_000_000; i++) sink += f((i * 7) % 4000).length
      const ms = performance.now() - t0
      if (round > 0 && ms < best) best = ms
    }
    console.log(`${length}-byte ASCII, ${name.padEnd(11)} ${best.toFixed(0).padStart(5)} ns/value${sink < 0 ? "" : ""}`)
  }
}

// The same text rows decoded from views of one Buffer and of a plain Uint8Array over it, kept as a
// result set keeps them.
const kept = new Array<unknown>(ROWS)
const joined = Buffer.alloc(textRows.reduce((n, r) => n + r.length, 0))
const bounds: Array<number> = []
let at = 0
for (const row of textRows) {
  joined.set(row, at)
  bounds.push(at)
  at += row.length
}
bounds.push(at)
const plain = new Uint8Array(joined.buffer, joined.byteOffset, joined.length)
for (const [name, source] of [
  ["Buffer", joined],
  ["Uint8Array", plain]
] as const) {
  let best = Number.POSITIVE_INFINITY
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now()
    for (let i = 0; i < ROWS; i++) kept[i] = text_.decodeObject(source.subarray(bounds[i], bounds[i + 1]))
    const ms = performance.now() - t0
    if (round > 0 && ms < best) best = ms
  }
  console.log(`text rows cut from ${name.padEnd(10)} ${((best * 1000) / ROWS).toFixed(2)} µs/row`)
}

// The same rows read at offsets into the one buffer (`readObject`): no view and no `Result` per row,
// what a framing that hands out chunk offsets would give the response reader.
{
  let best = Number.POSITIVE_INFINITY
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now()
    for (let i = 0; i < ROWS; i++) kept[i] = text_.readObject(plain, bounds[i], bounds[i + 1])
    const ms = performance.now() - t0
    if (round > 0 && ms < best) best = ms
  }
  console.log(`text rows read at offsets  ${((best * 1000) / ROWS).toFixed(2)} µs/row`)
}
