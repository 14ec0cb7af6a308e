import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import { ColumnType } from "../src/ColumnType.ts"
import * as ComStmtBulkExecute from "../src/ComStmtBulkExecute.ts"
import * as ComStmtExecute from "../src/ComStmtExecute.ts"
import { encodePacket } from "../src/Framing.ts"

const ok = <A, E>(r: Result.Result<A, E>): A => {
  if (Result.isFailure(r)) throw new Error(`unexpected failure: ${JSON.stringify(r.failure)}`)
  return r.success
}
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

/** The payload of a framed packet (one packet: 4 bytes of header). */
const payloadOf = (packet: ComStmtBulkExecute.BulkPacket) => packet.framed.bytes.subarray(4)

describe("COM_STMT_BULK_EXECUTE", () => {
  it("encodes the documented layout", () => {
    const rows = [
      [1, "ab", null],
      [null, "c", 2n ** 64n - 1n]
    ]
    expect(hex(ok(ComStmtBulkExecute.encode({ statementId: 7, rows })))).toBe(
      [
        "fa", // COM_STMT_BULK_EXECUTE
        "07000000", // statement_id
        "8000", // bulk_flags: SEND_TYPES_TO_SERVER
        "0800", // LONGLONG
        "fd00", // VAR_STRING
        "0880", // LONGLONG UNSIGNED
        "00", // row 1: NONE
        "0100000000000000", // 1
        "00026162", // NONE "ab"
        "01", // NULL
        "01", // row 2: NULL
        "000163", // NONE "c"
        "00ffffffffffffffff" // NONE 2^64 - 1
      ].join("")
    )
  })

  it("gives a column of NULLs a type, whose values are never read", () => {
    expect(hex(ok(ComStmtBulkExecute.encode({ statementId: 1, rows: [[null], [undefined]] })))).toBe(
      "fa01000000" + "8000" + "fd00" + "01" + "01"
    )
  })

  it("frames the payload of encode behind its packet header", () => {
    const input = {
      statementId: 3,
      rows: [
        [1, "x"],
        [2, "y"]
      ]
    }
    const packet = ok(ComStmtBulkExecute.frameFrom(input, 0))
    expect(packet.end).toBe(2)
    expect(hex(packet.framed.bytes)).toBe(hex(encodePacket(ok(ComStmtBulkExecute.encode(input)), 0).bytes))
    expect(packet.framed.nextSequenceId).toBe(1)
  })

  it("ends a packet at the payload limit, each holding as many rows as fit", () => {
    // 7 bytes of header, 2 of types, then 9 bytes per row (indicator and LONGLONG).
    const rows = Array.from({ length: 10 }, (_, i) => [i])
    const options = { maxPayload: 7 + 2 + 9 * 3 }
    const packets: Array<ComStmtBulkExecute.BulkPacket> = []
    for (let from = 0; from < rows.length; from = packets.at(-1)!.end) {
      packets.push(ok(ComStmtBulkExecute.frameFrom({ statementId: 1, rows }, from, options)))
    }
    expect(packets.map((p) => p.end)).toStrictEqual([3, 6, 9, 10])
    for (const p of packets) expect(payloadOf(p).length).toBeLessThanOrEqual(options.maxPayload)
    const decoded = packets.flatMap((p) => ok(ComStmtBulkExecute.decode(payloadOf(p), { paramCount: 1 })).rows)
    expect(decoded.map((row) => row[0]!.value)).toStrictEqual(rows.map(([n]) => BigInt(n!)))
  })

  it("ends a packet where a row's types differ from the rows before it", () => {
    const rows = [
      [1, null],
      [2, "a"],
      [2.5, "b"],
      [null, 3]
    ]
    const first = ok(ComStmtBulkExecute.frameFrom({ statementId: 1, rows }, 0))
    expect(first.end).toBe(2)
    const second = ok(ComStmtBulkExecute.frameFrom({ statementId: 1, rows }, 2))
    expect(second.end).toBe(3)
    const decoded = ok(ComStmtBulkExecute.decode(payloadOf(second), { paramCount: 2 }))
    expect(decoded.types).toStrictEqual([
      { type: ColumnType.DOUBLE, unsigned: false },
      { type: ColumnType.VAR_STRING, unsigned: false }
    ])
    expect(ok(ComStmtBulkExecute.frameFrom({ statementId: 1, rows }, 3)).end).toBe(4)
    expect(Result.isFailure(ComStmtBulkExecute.encode({ statementId: 1, rows }))).toBe(true)
  })

  it("refuses a first row larger than the limit, and rows of unequal length", () => {
    const big = ComStmtBulkExecute.frameFrom({ statementId: 1, rows: [["x".repeat(100)]] }, 0, { maxPayload: 50 })
    expect(Result.isFailure(big) && big.failure.message).toMatch(/row 1 takes 102 bytes/)
    const uneven = ComStmtBulkExecute.encode({ statementId: 1, rows: [[1, 2], [3]] })
    expect(Result.isFailure(uneven) && uneven.failure.message).toMatch(/row 2/)
    const bad = ComStmtBulkExecute.encode({ statementId: 1, rows: [[Number.NaN]] })
    expect(Result.isFailure(bad) && bad.failure._tag).toBe("ProtocolError")
  })

  it("decodes the DEFAULT and IGNORE indicators, and refuses others", () => {
    const payload = Uint8Array.from([0xfa, 1, 0, 0, 0, 0x80, 0, 0x03, 0, 0x02, 0x03, 0x01])
    const decoded = ok(ComStmtBulkExecute.decode(payload, { paramCount: 1 }))
    expect(decoded.indicators).toStrictEqual([[2], [3], [1]])
    expect(decoded.rows.map((row) => row[0]!.value)).toStrictEqual([null, null, null])
    payload[11] = 4
    expect(Result.isFailure(ComStmtBulkExecute.decode(payload, { paramCount: 1 }))).toBe(true)
  })

  const arbColumn: fc.Arbitrary<fc.Arbitrary<ComStmtExecute.ParameterValue>> = fc.constantFrom<
    fc.Arbitrary<ComStmtExecute.ParameterValue>
  >(
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isSafeInteger(d)),
    fc.bigInt({ min: 2n ** 63n, max: 2n ** 64n - 1n }),
    fc.string({ maxLength: 100 }),
    fc.uint8Array({ maxLength: 100 }),
    fc.date({ min: new Date(Date.UTC(1000, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }),
    fc.constant(ComStmtExecute.typedParameter(ColumnType.TIME, "-838:59:59.999999"))
  )

  const arbRows = fc
    .array(arbColumn, { minLength: 1, maxLength: 6 })
    .chain((columns) =>
      fc.array(fc.tuple(...columns.map((c) => fc.option(c, { nil: null }))), { minLength: 1, maxLength: 20 })
    )

  it("decode ∘ encode keeps every row, and encoding the decoded rows gives the same bytes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), arbRows, (statementId, rows) => {
        const options = { timeZone: "Z" }
        const payload = ok(ComStmtBulkExecute.encode({ statementId, rows }, options))
        const paramCount = rows[0]!.length
        const decoded = ok(ComStmtBulkExecute.decode(payload, { paramCount }, options))
        expect(decoded.statementId).toBe(statementId)
        expect(decoded.rows.length).toBe(rows.length)
        const again = ok(ComStmtBulkExecute.encode({ statementId, rows: decoded.rows }, options))
        expect(hex(again)).toBe(hex(payload))
      }),
      { numRuns: 300 }
    )
  })

  it("packets split at any limit hold every row once, each within the limit", () => {
    fc.assert(
      fc.property(arbRows, fc.integer({ min: 2500, max: 6000 }), (rows, maxPayload) => {
        const options = { timeZone: "Z", maxPayload }
        const paramCount = rows[0]!.length
        let count = 0
        for (let from = 0; from < rows.length; ) {
          const packet = ok(ComStmtBulkExecute.frameFrom({ statementId: 1, rows }, from, options))
          expect(packet.end).toBeGreaterThan(from)
          expect(payloadOf(packet).length).toBeLessThanOrEqual(maxPayload)
          count += ok(ComStmtBulkExecute.decode(payloadOf(packet), { paramCount }, options)).rows.length
          from = packet.end
        }
        expect(count).toBe(rows.length)
      }),
      { numRuns: 200 }
    )
  })

  it("any bytes give a value or a ProtocolError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 8 }), (bytes, n) => {
        const r = ComStmtBulkExecute.decode(new Uint8Array([0xfa, ...bytes]), { paramCount: n })
        if (Result.isFailure(r)) expect(r.failure._tag).toBe("ProtocolError")
      }),
      { numRuns: 3000 }
    )
  })
})
