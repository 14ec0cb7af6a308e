// Property tests over the binlog event decoder: truncated, bit-flipped and random events give an
// event or a ProtocolError, never an exception, and length fields larger than the event fail
// without allocating what they announce.
import * as Fs from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import { type BinlogFormat, EventType } from "../../src/binlog/BinlogEvent.ts"
import { crc32 } from "../../src/binlog/Checksum.ts"
import { decodeEvent, encodeEvent, initialFormat } from "../../src/binlog/EventCodec.ts"
import { err, fromHex } from "../support/bytes.ts"
import { walk } from "./support.ts"

const mysql: BinlogFormat = { ...initialFormat, serverVersion: "8.0.36", checksum: "crc32" }

/** Every event of the golden files, with the format it is read under. */
const corpus = ((): Array<{ bytes: Uint8Array; format: BinlogFormat }> => {
  const out: Array<{ bytes: Uint8Array; format: BinlogFormat }> = []
  for (const name of ["mariadb-bin.000001", "mariadb-bin.000002"]) {
    const file = new Uint8Array(Fs.readFileSync(new URL(`../fixtures/${name}`, import.meta.url)))
    let format = initialFormat
    for (const { start, end } of walk(file)) {
      const bytes = file.slice(start, end)
      const decoded = decodeEvent(bytes, 0, bytes.length, format)
      if (Result.isSuccess(decoded) && decoded.success._tag === "FormatDescription") format = decoded.success
      out.push({ bytes, format })
    }
  }
  return out
})()

/** `body` behind a header of `type`, with a valid size and (when the format says so) checksum. */
const frame = (type: number, body: Uint8Array, format: BinlogFormat): Uint8Array => {
  const crc = format.checksum === "crc32" && type !== EventType.FORMAT_DESCRIPTION ? 4 : 0
  const out = new Uint8Array(19 + body.length + crc)
  out[4] = type
  new DataView(out.buffer).setUint32(9, out.length, true)
  out.set(body, 19)
  if (crc) new DataView(out.buffer).setUint32(out.length - 4, crc32(out, 0, out.length - 4), true)
  return out
}

const bodyOf = (bytes: Uint8Array, format: BinlogFormat): Uint8Array =>
  bytes.subarray(
    19,
    format.checksum === "crc32" && bytes[4] !== EventType.FORMAT_DESCRIPTION ? bytes.length - 4 : bytes.length
  )

/** Decodes and checks the answer is an event or a ProtocolError; a decoded event re-decodes after encoding. */
const total = (bytes: Uint8Array, format: BinlogFormat): void => {
  const r = decodeEvent(bytes, 0, bytes.length, format)
  if (Result.isFailure(r)) {
    expect(r.failure._tag).toBe("ProtocolError")
    return
  }
  const encoded = encodeEvent(r.success, format)
  if (Result.isSuccess(encoded)) {
    const again = decodeEvent(encoded.success, 0, encoded.success.length, format)
    if (Result.isSuccess(again)) expect(again.success._tag).toBe(r.success._tag)
  }
}

const entry = fc.integer({ min: 0, max: corpus.length - 1 }).map((i) => corpus[i])

describe("malformed binlog events", () => {
  it("truncated bodies (size and checksum fixed up) decode or fail", () => {
    fc.assert(
      fc.property(entry, fc.nat(), ({ bytes, format }, cut) => {
        const body = bodyOf(bytes, format)
        total(frame(bytes[4], body.subarray(0, cut % (body.length + 1)), format), format)
      }),
      { numRuns: 1000 }
    )
  })

  it("truncated events as they are (size mismatch) fail", () => {
    fc.assert(
      fc.property(entry, fc.nat(), ({ bytes, format }, cut) => {
        const short = bytes.subarray(0, cut % bytes.length)
        expect(Result.isFailure(decodeEvent(short, 0, short.length, format))).toBe(true)
      }),
      { numRuns: 300 }
    )
  })

  it("flipped bytes in bodies (checksum fixed up) decode or fail", () => {
    fc.assert(
      fc.property(
        entry,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        ({ bytes, format }, flips) => {
          const body = bodyOf(bytes, format).slice()
          if (body.length === 0) return
          for (const [at, mask] of flips) body[at % body.length] ^= mask
          total(frame(bytes[4], body, format), format)
        }
      ),
      { numRuns: 2000 }
    )
  })

  it("flipped bytes with the checksum left alone fail", () => {
    fc.assert(
      fc.property(entry, fc.nat(), fc.integer({ min: 1, max: 255 }), ({ bytes, format }, at, mask) => {
        if (format.checksum !== "crc32" || bytes[4] === EventType.FORMAT_DESCRIPTION || bytes.length <= 23) return
        const copy = bytes.slice()
        copy[19 + (at % (copy.length - 23))] ^= mask
        expect(err(decodeEvent(copy, 0, copy.length, format)).detail).toMatch(/checksum mismatch/)
      }),
      { numRuns: 300 }
    )
  })

  it("random bodies of every event type decode or fail, under both flavors", () => {
    const formats = [corpus[0].format, mysql, initialFormat]
    fc.assert(
      fc.property(fc.nat(255), fc.uint8Array({ maxLength: 120 }), fc.nat(2), (type, body, f) => {
        total(frame(type, body, formats[f]), formats[f])
      }),
      { numRuns: 5000 }
    )
  })
})

describe("length fields larger than the event", () => {
  const cases: ReadonlyArray<[string, number, string]> = [
    ["table map column count", EventType.TABLE_MAP, "010000000000 0000 01 61 00 01 62 00 feffffffffffffff00"],
    ["table map metadata length", EventType.TABLE_MAP, "010000000000 0000 01 61 00 01 62 00 01 03 fdffffff"],
    ["rows column count", EventType.WRITE_ROWS_V1, "010000000000 0000 fdffffff"],
    ["rows v2 extra data", EventType.WRITE_ROWS_V2, "010000000000 0000 ffff"],
    ["GTID list count", EventType.GTID_LIST, "ffffff0f"],
    ["previous GTIDs sources", EventType.PREVIOUS_GTIDS, "ffffffffffffffff"],
    ["binlog checkpoint name", EventType.BINLOG_CHECKPOINT, "ffffffff"],
    ["query status variables", EventType.QUERY, "00000000 00000000 00 0000 ffff"],
    ["transaction payload field", EventType.TRANSACTION_PAYLOAD, "01 feffffffffffffff7f"],
    ["heartbeat v2 file name", EventType.HEARTBEAT_V2, "01 fdffffff"],
    ["MariaDB GTID xid", EventType.GTID, "0100000000000000 00000000 40 01000000 ff ff"]
  ]
  for (const [name, type, body] of cases) {
    it(name, () => {
      const bytes = frame(type, fromHex(body), mysql)
      const started = performance.now()
      expect(err(decodeEvent(bytes, 0, bytes.length, mysql))._tag).toBe("ProtocolError")
      expect(performance.now() - started).toBeLessThan(50)
    })
  }
})
