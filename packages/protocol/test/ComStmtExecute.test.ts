import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import { ColumnType } from "../src/ColumnType.ts"
import * as ComStmtExecute from "../src/ComStmtExecute.ts"
import { encodePacket } from "../src/Framing.ts"

const ok = <A, E>(r: Result.Result<A, E>): A => {
  if (Result.isFailure(r)) throw new Error(`unexpected failure: ${JSON.stringify(r.failure)}`)
  return r.success
}
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

describe("COM_STMT_EXECUTE", () => {
  it("encodes the documented layout", () => {
    const payload = ok(
      ComStmtExecute.encode({ statementId: 1, parameters: [42, null, "ab", true, 1.5] }, { timeZone: "Z" })
    )
    expect(hex(payload)).toBe(
      [
        "17", // COM_STMT_EXECUTE
        "01000000", // statement_id
        "00", // flags: NO_CURSOR
        "01000000", // iteration_count
        "02", // null bitmap: parameter 1
        "01", // new_params_bound_flag
        "0800", // LONGLONG
        "0600", // NULL
        "fd00", // VAR_STRING
        "0100", // TINY
        "0500", // DOUBLE
        "2a00000000000000", // 42
        "026162", // "ab"
        "01", // true
        "000000000000f83f" // 1.5
      ].join("")
    )
  })

  it("frame writes the payload of encode behind its packet header, also past the 16 MiB split", () => {
    const big = new Uint8Array(0xffffff).fill(7)
    const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i])
    for (const parameters of [[], [42, null, "ab", true, 1.5], ["€".repeat(300), 2n ** 70n], [big]]) {
      const input = { statementId: 3, parameters }
      const framed = ok(ComStmtExecute.frame(input))
      const general = encodePacket(ok(ComStmtExecute.encode(input)), 0)
      expect(framed.nextSequenceId).toBe(general.nextSequenceId)
      expect(same(framed.bytes, general.bytes)).toBe(true)
    }
    expect(Result.isFailure(ComStmtExecute.frame({ statementId: 1, parameters: [Number.NaN] }))).toBe(true)
  })

  it("maps JavaScript values to wire types", () => {
    const t = (v: ComStmtExecute.ParameterValue) => ComStmtExecute.parameterTypeOf(v)
    expect(t(null)).toStrictEqual({ type: ColumnType.NULL, unsigned: false })
    expect(t(7)).toStrictEqual({ type: ColumnType.LONGLONG, unsigned: false })
    expect(t(7.5)).toStrictEqual({ type: ColumnType.DOUBLE, unsigned: false })
    expect(t(2n ** 63n)).toStrictEqual({ type: ColumnType.LONGLONG, unsigned: true })
    expect(t(-(2n ** 63n))).toStrictEqual({ type: ColumnType.LONGLONG, unsigned: false })
    expect(t(2n ** 64n)).toStrictEqual({ type: ColumnType.NEWDECIMAL, unsigned: false })
    expect(t(Uint8Array.of(1))).toStrictEqual({ type: ColumnType.BLOB, unsigned: false })
    expect(t(new Date())).toStrictEqual({ type: ColumnType.DATETIME, unsigned: false })
    expect(t({ a: 1 })).toStrictEqual({ type: ColumnType.VAR_STRING, unsigned: false })
  })

  it("JSON objects go as their JSON text; big bigints as DECIMAL digits; Dates in the time zone", () => {
    const payload = ok(
      ComStmtExecute.encode(
        { statementId: 9, parameters: [{ a: [1] }, 2n ** 70n, new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6))] },
        { timeZone: "+01:00" }
      )
    )
    const decoded = ok(ComStmtExecute.decode(payload, { paramCount: 3 }))
    expect(decoded.parameters.map((p) => p.value)).toStrictEqual([
      '{"a":[1]}',
      "1180591620717411303424",
      "2024-01-02 04:04:05.006000"
    ])
  })

  it("refuses NaN and Infinity", () => {
    expect(Result.isFailure(ComStmtExecute.encode({ statementId: 1, parameters: [Number.NaN] }))).toBe(true)
    expect(Result.isFailure(ComStmtExecute.encode({ statementId: 1, parameters: [Number.POSITIVE_INFINITY] }))).toBe(
      true
    )
  })

  it("no parameters: just the header", () => {
    expect(hex(ok(ComStmtExecute.encode({ statementId: 5, parameters: [] })))).toBe("17050000000001000000")
    const d = ok(ComStmtExecute.decode(Uint8Array.of(0x17, 5, 0, 0, 0, 0, 1, 0, 0, 0), { paramCount: 0 }))
    expect(d.statementId).toBe(5)
  })

  it("without new_params_bound the decoder needs the previous types", () => {
    const payload = ok(ComStmtExecute.encode({ statementId: 2, parameters: [1, "x"], newParamsBound: false }))
    expect(Result.isFailure(ComStmtExecute.decode(payload, { paramCount: 2 }))).toBe(true)
    const d = ok(
      ComStmtExecute.decode(payload, {
        paramCount: 2,
        previousTypes: [
          { type: ColumnType.LONGLONG, unsigned: false },
          { type: ColumnType.VAR_STRING, unsigned: false }
        ]
      })
    )
    expect(d.parameters.map((p) => p.value)).toStrictEqual([1n, "x"])
  })

  it("query attributes: parameter_count and names", () => {
    const parameters = [1, ComStmtExecute.typedParameter(ColumnType.VAR_STRING, "trace-1", { name: "traceparent" })]
    const payload = ok(ComStmtExecute.encode({ statementId: 3, parameters }, { queryAttributes: true }))
    const d = ok(ComStmtExecute.decode(payload, { paramCount: 1 }, { queryAttributes: true }))
    expect(d.flags & ComStmtExecute.CursorType.PARAMETER_COUNT_AVAILABLE).toBe(8)
    expect(d.parameters[1]).toStrictEqual(
      ComStmtExecute.typedParameter(ColumnType.VAR_STRING, "trace-1", { name: "traceparent" })
    )
    expect(hex(ok(ComStmtExecute.encode(d, { queryAttributes: true })))).toBe(hex(payload))
  })

  const arbParameter: fc.Arbitrary<ComStmtExecute.ParameterValue> = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.date({ min: new Date(Date.UTC(1000, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }),
    fc.constantFrom(
      ComStmtExecute.typedParameter(ColumnType.TIME, "-838:59:59.999999"),
      ComStmtExecute.typedParameter(ColumnType.TIME, "12:00:00"),
      ComStmtExecute.typedParameter(ColumnType.DATE, "2024-02-29"),
      ComStmtExecute.typedParameter(ColumnType.NEWDECIMAL, "-12.345"),
      ComStmtExecute.typedParameter(ColumnType.LONG, 4294967295, { unsigned: true }),
      ComStmtExecute.typedParameter(ColumnType.FLOAT, Math.fround(0.1)),
      ComStmtExecute.typedParameter(ColumnType.SHORT, -1),
      ComStmtExecute.typedParameter(ColumnType.LONG, null)
    )
  )

  it("decode ∘ encode is the identity on bytes, encode ∘ decode on typed parameters", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.constantFrom(0, 1, 2, 4),
        fc.array(arbParameter, { maxLength: 20 }),
        fc.boolean(),
        (statementId, flags, parameters, queryAttributes) => {
          const options = { timeZone: "Z", queryAttributes }
          const payload = ok(ComStmtExecute.encode({ statementId, flags, parameters }, options))
          const decoded = ok(ComStmtExecute.decode(payload, { paramCount: parameters.length }, options))
          expect(decoded.statementId).toBe(statementId)
          expect(decoded.parameters.length).toBe(parameters.length)
          const again = ok(ComStmtExecute.encode(decoded, options))
          expect(hex(again)).toBe(hex(payload))
          expect(ok(ComStmtExecute.decode(again, { paramCount: parameters.length }, options))).toStrictEqual(decoded)
        }
      ),
      { numRuns: 500 }
    )
  })

  it("any bytes give a value or a ProtocolError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 8 }), fc.boolean(), (bytes, n, qa) => {
        const payload = new Uint8Array([0x17, ...bytes])
        const r = ComStmtExecute.decode(payload, { paramCount: n }, { queryAttributes: qa })
        if (Result.isFailure(r)) expect(r.failure._tag).toBe("ProtocolError")
      }),
      { numRuns: 3000 }
    )
  })
})
