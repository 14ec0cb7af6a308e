/**
 * A measuring tool, not a driver: the least work a JavaScript client can do for the `replay`
 * workload, so that each run shows how far the drivers are from that limit. It logs in to the
 * replay server (which accepts anyone), sends the statement, and decodes the recorded result of
 * `SELECT * FROM bench_rows` straight from the socket's chunks into one object literal per row,
 * with the same JavaScript types effect-mysql gives (a BIGINT as a `number` while it is a safe
 * integer, a `bigint` beyond; a string for DECIMAL; a
 * `Date` in the local zone for DATETIME). A packet split across two chunks is the only copy. It
 * knows this one table and nothing else: no TLS, no authentication, no other statement.
 */
import * as Net from "node:net"
import type { Job } from "../Workload.ts"
import type { Driver, Prepared } from "./Driver.ts"

/** CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION */
const capabilities = 0x1 | 0x200 | 0x2000 | 0x8000
const utf8mb4 = 45
const columnNames = ["id", "counter", "name", "price", "created_at", "score", "body", "flag"]

/** The packet being decoded and the read position in it: module state, so readers return values only. */
let b: Buffer = Buffer.alloc(0)
let p = 0

/** A length-encoded integer (lengths here stay far below 2^32). */
const length = (): number => {
  const first = b[p++]!
  if (first < 0xfb) return first
  if (first === 0xfc) return b[p++]! | (b[p++]! << 8)
  if (first === 0xfd) return b[p++]! | (b[p++]! << 8) | (b[p++]! << 16)
  const low = b.readUInt32LE(p)
  p += 8
  return low
}

const isNull = () => {
  if (b[p] !== 0xfb) return false
  p++
  return true
}

const digits = (start: number, end: number): number => {
  let n = 0
  for (let i = start; i < end; i++) n = n * 10 + b[i]! - 48
  return n
}

const integer = (): number | null => {
  if (isNull()) return null
  const n = length()
  const start = p
  p += n
  return b[start] === 45 ? -digits(start + 1, p) : digits(start, p)
}

/** Reused arrays of character codes, one per length, for `String.fromCharCode`. */
const codes: Array<Array<number>> = []
const shortAscii = 32

/** Text: short ASCII from its character codes, anything else through Node's UTF-8 decoder. */
const text = (): string | null => {
  if (isNull()) return null
  const n = length()
  const start = p
  p += n
  if (n > shortAscii) return b.toString("utf8", start, p)
  let chars = codes[n]
  if (chars === undefined) {
    chars = new Array<number>(n).fill(0)
    codes[n] = chars
  }
  for (let i = 0; i < n; i++) {
    const c = b[start + i]!
    if (c >= 0x80) return b.toString("utf8", start, p)
    chars[i] = c
  }
  return String.fromCharCode.apply(null, chars)
}

const bigint = (): number | bigint | null => {
  const digitsText = text()
  if (digitsText === null) return null
  const value = Number(digitsText)
  return Number.isSafeInteger(value) ? value : BigInt(digitsText)
}

const double = (): number | null => {
  const numberText = text()
  return numberText === null ? null : Number(numberText)
}

/** `YYYY-MM-DD HH:MM:SS` in the local zone. */
const datetime = (): Date | null => {
  if (isNull()) return null
  const n = length()
  const s = p
  p += n
  if (n !== 19) throw new Error(`unexpected DATETIME of ${n} bytes`)
  return new Date(
    digits(s, s + 4),
    digits(s + 5, s + 7) - 1,
    digits(s + 8, s + 10),
    digits(s + 11, s + 13),
    digits(s + 14, s + 16),
    digits(s + 17, s + 19)
  )
}

const row = () => ({
  id: integer(),
  counter: bigint(),
  name: text(),
  price: text(),
  created_at: datetime(),
  score: double(),
  body: text(),
  flag: integer()
})

/** The name of a column definition: after catalog, schema, table and original table. */
const columnName = (): string => {
  for (let i = 0; i < 4; i++) {
    const skip = length()
    p += skip
  }
  const n = length()
  return b.toString("utf8", p, p + n)
}

/** An ERR packet: 0xff, error number, `#`, SQLSTATE, message. */
const fail = (end: number): never => {
  throw new Error(`server error: ${b.toString("utf8", p + 9, end)}`)
}

/**
 * Feeds every whole packet of the chunks `push`ed to the handler `next` was last given, with `b`
 * and `p` set on its payload; keeps the tail of a split packet for the next chunk.
 */
const packets = () => {
  let rest: Buffer | undefined
  let onPacket: (end: number) => void = () => {}
  let onError: (error: unknown) => void = () => {}
  const push = (chunk: Buffer) => {
    const data = rest === undefined ? chunk : Buffer.concat([rest, chunk])
    let at = 0
    try {
      while (at + 4 <= data.length) {
        const size = data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16)
        if (at + 4 + size > data.length) break
        b = data
        p = at + 4
        onPacket(p + size)
        at += 4 + size
      }
    } catch (error) {
      onError(error)
    }
    rest = at === data.length ? undefined : data.subarray(at)
  }
  const next = <A>(handler: (end: number, done: (value: A) => void) => void) =>
    new Promise<A>((resolve, reject) => {
      onError = reject
      onPacket = (end) => handler(end, resolve)
    })
  return { push, next }
}

const frame = (sequenceId: number, payload: Buffer) => {
  const header = Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, payload.length >> 16, sequenceId])
  return Buffer.concat([header, payload])
}

const handshakeResponse = (user: string) => {
  const fixed = Buffer.alloc(32)
  fixed.writeUInt32LE(capabilities, 0)
  fixed.writeUInt32LE(2 ** 24, 4)
  fixed[8] = utf8mb4
  return frame(1, Buffer.concat([fixed, Buffer.from(`${user}\0`), Buffer.from([0])]))
}

const query = (sql: string) => frame(0, Buffer.concat([Buffer.from([0x03]), Buffer.from(sql, "utf8")]))

type Row = ReturnType<typeof row>

/** A reader of one text result set: column count, definitions, EOF, rows, EOF. */
const resultSet = () => {
  let phase: "count" | "columns" | "eof" | "rows" = "count"
  let columnsLeft = 0
  const rows: Array<Row> = []
  return (end: number, done: (rows: Array<Row>) => void) => {
    if (b[p] === 0xff) fail(end)
    if (phase === "count") {
      columnsLeft = length()
      if (columnsLeft !== columnNames.length) throw new Error(`expected ${columnNames.length} columns`)
      phase = "columns"
    } else if (phase === "columns") {
      const index = columnNames.length - columnsLeft--
      if (columnName() !== columnNames[index]) throw new Error(`unexpected column ${index}`)
      if (columnsLeft === 0) phase = "eof"
    } else if (phase === "eof") {
      phase = "rows"
    } else if (b[p] === 0xfe && end - p < 9) {
      done(rows)
    } else {
      rows.push(row())
    }
  }
}

/**
 * Decodes a recorded answer to the statement, in chunks of `chunkSize` bytes as a socket would
 * hand them over: for the check that the reference gives the values the drivers give.
 */
export const decodeRecorded = (bytes: Uint8Array, chunkSize = 65_536): Promise<Array<Row>> => {
  const { push, next } = packets()
  const rows = next(resultSet())
  for (let at = 0; at < bytes.length; at += chunkSize) {
    push(Buffer.from(bytes.buffer, bytes.byteOffset + at, Math.min(chunkSize, bytes.length - at)))
  }
  return rows
}

/** Untimed decodes before the first job of the worker. */
let warmups = 3

const prepare = async (job: Job): Promise<Prepared> => {
  if (job.workload !== "replay") throw new Error("the plain-JS reference only reads the replay server")
  const socket = Net.connect(job.target.port, job.target.host)
  socket.setNoDelay(true)
  const { push, next } = packets()
  socket.on("data", push)
  await next<void>((_, done) => {
    socket.write(handshakeResponse(job.target.user))
    done()
  })
  await next<void>((end, done) => {
    if (b[p] !== 0x00) fail(end)
    done()
  })
  const run = () => {
    const result = next(resultSet())
    socket.write(query(job.sql))
    return result.then((decoded) => decoded.length)
  }
  // The drivers' row decoders are warm from the fetches before `replay`; this one runs only here.
  for (; warmups > 0; warmups--) await run()
  return {
    run,
    close: async () => {
      socket.end(frame(0, Buffer.from([0x01])))
    }
  }
}

export const driver: Driver = { prepare }
