/**
 * COM_STMT_BULK_EXECUTE (MariaDB 10.2.7+, with MARIADB_CLIENT_STMT_BULK_OPERATIONS): run a prepared
 * statement once for each of many parameter rows, in one command and one response.
 *
 * MariaDB: https://mariadb.com/kb/en/com_stmt_bulk_execute/
 *
 *   command                 0xfa [1 byte]
 *   statement_id            [4 bytes]
 *   bulk_flags              [2 bytes] SEND_UNIT_RESULTS (64), SEND_TYPES_TO_SERVER (128)
 *   if SEND_TYPES_TO_SERVER:
 *     for each parameter:
 *       field_type          [1 byte] type code
 *       parameter_type_flag [1 byte] 128 for UNSIGNED
 *   until the end of the packet, for each row:
 *     for each parameter:
 *       indicator           [1 byte] NONE (0), NULL (1), DEFAULT (2), IGNORE (3)
 *       if NONE: value      the value in binary form (see values/BinaryValue.ts)
 *
 * The server answers one OK (affected rows summed over the rows), or an ERR at the first row that
 * fails; a statement that returns a result set is refused with an ERR. With SEND_UNIT_RESULTS
 * (and MARIADB_CLIENT_BULK_UNIT_RESULTS) it answers a result set of each row's counts instead.
 *
 * Values map to wire types as in COM_STMT_EXECUTE (`ComStmtExecute.parameterTypeOf`). One packet
 * holds one type per parameter: `frameFrom` ends a packet at a row whose non-NULL values have other
 * types than the rows before it (an integer after a fraction, say), and at the payload limit, so
 * that the caller sends the rows as several commands.
 *
 * Pure code over `Uint8Array`; no IO.
 */
import { Result } from "effect"
import { ColumnType } from "./ColumnType.ts"
import {
  type DecodeContext as ExecuteDecodeContext,
  isTyped,
  type ParameterValue,
  parameterPlan,
  parameterTypeOf,
  type TypedParameter,
  typedParameter,
  wireValue
} from "./ComStmtExecute.ts"
import { type FramedPacket, MAX_PACKET_PAYLOAD } from "./Framing.ts"
import { decodeWith, encodeWith, frameWith } from "./Packet.ts"
import type { ProtocolError } from "./ProtocolError.ts"
import { readBinaryValue, writeBinaryValue } from "./values/BinaryValue.ts"
import type { ColumnPlan } from "./values/ColumnPlan.ts"
import { WireError, type Writer } from "./Wire.ts"

const PACKET = "COM_STMT_BULK_EXECUTE"

export const COM_STMT_BULK_EXECUTE = 0xfa

/** `bulk_flags`. */
export const BulkFlag = {
  /** Answer each row's affected rows and insert id as a result set (MARIADB_CLIENT_BULK_UNIT_RESULTS). */
  SEND_UNIT_RESULTS: 0x40,
  /** The parameter types follow the flags. */
  SEND_TYPES_TO_SERVER: 0x80
} as const

/** The indicator before each value. */
export const Indicator = {
  NONE: 0,
  NULL: 1,
  /** The column's default (INSERT, UPDATE). */
  DEFAULT: 2,
  /** The default for an INSERT; the column is left as it is by an UPDATE. */
  IGNORE: 3
} as const

/** Rows of a COM_STMT_BULK_EXECUTE as encoded. */
export interface ComStmtBulkExecuteInput {
  readonly statementId: number
  /** Every row has one value per parameter of the statement. */
  readonly rows: ReadonlyArray<ReadonlyArray<ParameterValue>>
}

/** A decoded COM_STMT_BULK_EXECUTE. */
export interface ComStmtBulkExecute {
  readonly statementId: number
  readonly flags: number
  readonly types: ReadonlyArray<{ readonly type: number; readonly unsigned: boolean }>
  /** Each row's values, NULL (and DEFAULT, IGNORE) as `null`. */
  readonly rows: ReadonlyArray<ReadonlyArray<TypedParameter>>
  /** Each row's indicators, in the order of its values. */
  readonly indicators: ReadonlyArray<ReadonlyArray<number>>
}

export interface ComStmtBulkExecuteOptions {
  /** Time zone of `Date` parameters (see ValueOptions.timeZone); default "local". */
  readonly timeZone?: string
  /** The largest payload to write (the server's max_allowed_packet); at most 16 MiB - 2. */
  readonly maxPayload?: number
}

/** One command's packet, holding rows `[from, end)` of the input. */
export interface BulkPacket {
  readonly framed: FramedPacket
  readonly end: number
}

/** A payload that is one packet, never split: a split command would not fit its own limit. */
const PAYLOAD_LIMIT = MAX_PACKET_PAYLOAD - 1

/** The type of a column whose values are all NULL: any type will do, as no value is read. */
const ANY_TYPE = ColumnType.VAR_STRING

/**
 * The packet that holds rows `from`, `from + 1`, … until the payload limit or a change of types;
 * at least one row. Fails when row `from` alone exceeds the limit, or a value cannot be written.
 */
export const frameFrom = (
  input: ComStmtBulkExecuteInput,
  from: number,
  options: ComStmtBulkExecuteOptions = {}
): Result.Result<BulkPacket, ProtocolError> => {
  let end = from
  const limit = Math.min(options.maxPayload ?? PAYLOAD_LIMIT, PAYLOAD_LIMIT)
  const framed = frameWith(
    PACKET,
    (w) => {
      end = writeRows(w, input, from, options.timeZone, w.pos + limit)
    },
    Math.min(limit, 1 << 16) + 8
  )
  return Result.map(framed, (framed) => ({ framed, end }))
}

/** Encodes every row into one payload; fails when their types disagree (see `frameFrom`). */
export const encode = (
  input: ComStmtBulkExecuteInput,
  options: { readonly timeZone?: string } = {}
): Result.Result<Uint8Array, ProtocolError> =>
  encodeWith(PACKET, (w) => {
    const end = writeRows(w, input, 0, options.timeZone, Number.MAX_SAFE_INTEGER)
    if (end < input.rows.length) throw new WireError(`row ${end + 1} has other parameter types than row 1`, w.pos)
  })

/**
 * Writes the command from row `from` while rows fit before `limit` (a position in `w`) and agree
 * on their types; answers the end of the rows written.
 */
const writeRows = (
  w: Writer,
  input: ComStmtBulkExecuteInput,
  from: number,
  timeZone: string | undefined,
  limit: number
): number => {
  const rows = input.rows
  const count = rows[from]?.length ?? 0
  // command [1] statement_id [4] bulk_flags [2]
  w.int1(COM_STMT_BULK_EXECUTE).int4(input.statementId).int2(BulkFlag.SEND_TYPES_TO_SERVER)
  // field_type [1] parameter_type_flag [1] per parameter, filled in as the rows show them
  const typesAt = w.pos
  w.zeros(2 * count)
  const plans: Array<ColumnPlan | undefined> = new Array(count)
  const fresh: Array<number> = []
  let end = from
  for (; end < rows.length; end++) {
    const row = rows[end]
    const rowAt = w.pos
    fresh.length = 0
    const fits = row.length === count && writeRow(w, row, plans, fresh, typesAt, timeZone) && w.pos <= limit
    if (fits) continue
    if (end === from) {
      if (row.length !== count) throw new WireError(`row ${end + 1} has ${row.length} values, not ${count}`, rowAt)
      throw new WireError(`row ${end + 1} takes ${w.pos - rowAt} bytes, more than the packet limit allows`, rowAt)
    }
    // The row goes in the next packet: forget it, and the types it introduced.
    w.pos = rowAt
    for (const i of fresh) plans[i] = undefined
    break
  }
  for (let i = 0; i < count; i++) {
    const plan = plans[i]
    w.buf[typesAt + 2 * i] = plan === undefined ? ANY_TYPE : plan.types[0]
    w.buf[typesAt + 2 * i + 1] = plan !== undefined && plan.unsigned[0] === 1 ? 0x80 : 0
  }
  return end
}

/**
 * Writes one row's indicators and values; answers false, having written part of it, when a value's
 * type differs from the type its column already has in this packet.
 */
const writeRow = (
  w: Writer,
  row: ReadonlyArray<ParameterValue>,
  plans: Array<ColumnPlan | undefined>,
  fresh: Array<number>,
  typesAt: number,
  timeZone: string | undefined
): boolean => {
  for (let i = 0; i < row.length; i++) {
    const p = row[i]
    const v = isTyped(p) ? p.value : p
    if (v === null || v === undefined) {
      w.int1(Indicator.NULL)
      continue
    }
    const { type, unsigned } = parameterTypeOf(p)
    let plan = plans[i]
    if (plan === undefined) {
      const made = parameterPlan([{ type, unsigned }], timeZone)
      if (typeof made === "string") throw new WireError(made, typesAt)
      plan = plans[i] = made
      fresh.push(i)
    } else if (plan.types[0] !== type || (plan.unsigned[0] === 1) !== unsigned) {
      return false
    }
    w.int1(Indicator.NONE)
    writeBinaryValue(w, plan, 0, wireValue(p))
  }
  return true
}

/**
 * What decoding needs to know, as for COM_STMT_EXECUTE (`previousTypes`: the types sent before, for
 * a packet without SEND_TYPES_TO_SERVER).
 */
export type DecodeContext = ExecuteDecodeContext

/** Decodes a COM_STMT_BULK_EXECUTE payload (server side). */
export const decode = (
  payload: Uint8Array,
  context: DecodeContext,
  options: { readonly timeZone?: string } = {}
): Result.Result<ComStmtBulkExecute, ProtocolError> =>
  decodeWith(PACKET, payload, (r) => {
    const command = r.int1()
    if (command !== COM_STMT_BULK_EXECUTE) {
      throw new WireError(`not COM_STMT_BULK_EXECUTE: 0x${command.toString(16)}`, 0, "command")
    }
    const statementId = r.int4()
    const flags = r.int2()
    const count = context.paramCount
    const types: Array<{ type: number; unsigned: boolean }> = []
    if ((flags & BulkFlag.SEND_TYPES_TO_SERVER) !== 0) {
      if (count * 2 > r.remaining()) throw new WireError(`${count} parameter types exceed the packet`, r.pos, "types")
      for (let i = 0; i < count; i++) {
        const type = r.int1()
        types.push({ type, unsigned: (r.int1() & 0x80) !== 0 })
      }
    } else {
      const previous = context.previousTypes
      if (previous === undefined || previous.length !== count) {
        throw new WireError("parameter types were not sent and no previous types are known", r.pos, "types")
      }
      for (const t of previous) types.push({ type: t.type, unsigned: t.unsigned })
    }
    const plan = parameterPlan(types, options.timeZone)
    if (typeof plan === "string") throw new WireError(plan, r.pos, "types")
    const rows: Array<Array<TypedParameter>> = []
    const indicators: Array<Array<number>> = []
    // Each row takes at least one byte per parameter, so a row of none would never end the loop.
    if (count === 0) r.expectEnd()
    const cursor = { pos: r.pos }
    while (count > 0 && cursor.pos < payload.length) {
      const row: Array<TypedParameter> = []
      const marks: Array<number> = []
      for (let i = 0; i < count; i++) {
        if (cursor.pos >= payload.length) throw new WireError("the packet ends inside a row", cursor.pos, "indicator")
        const indicator = payload[cursor.pos++]
        if (indicator > Indicator.IGNORE) {
          throw new WireError(`invalid indicator ${indicator}`, cursor.pos - 1, "indicator")
        }
        const value = indicator === Indicator.NONE ? readBinaryValue(plan, i, payload, cursor, payload.length) : null
        row.push(typedParameter(types[i].type, value, { unsigned: types[i].unsigned }))
        marks.push(indicator)
      }
      rows.push(row)
      indicators.push(marks)
    }
    return { statementId, flags, types, rows, indicators }
  })
