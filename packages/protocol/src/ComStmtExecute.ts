/**
 * COM_STMT_EXECUTE: run a prepared statement with bound parameter values (binary protocol).
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_execute.html
 * MariaDB: https://mariadb.com/kb/en/com_stmt_execute/
 *
 *   command                 0x17 [1 byte]
 *   statement_id            [4 bytes]
 *   flags                   [1 byte] cursor type (CursorType), PARAMETER_COUNT_AVAILABLE (MySQL)
 *   iteration_count         [4 bytes] always 1
 *   with CLIENT_QUERY_ATTRIBUTES and PARAMETER_COUNT_AVAILABLE:
 *     parameter_count       int<lenenc> (the statement's parameters, then named query attributes)
 *   if parameter_count > 0:
 *     null_bitmap           [(parameter_count + 7) / 8 bytes], parameter i is NULL when bit i is set
 *     new_params_bound_flag [1 byte] 1 when the types follow (always on the first execution)
 *     if new_params_bound_flag:
 *       for each parameter:
 *         parameter_type    [2 bytes] type code, then 0x80 in the high byte for UNSIGNED
 *         parameter_name    string<lenenc>, with CLIENT_QUERY_ATTRIBUTES only
 *     parameter_values      the non-NULL values in binary form (see values/BinaryValue.ts)
 *
 * JavaScript parameters map to wire types as follows (`parameterTypeOf`):
 *
 *   null, undefined             NULL (null bit set)
 *   boolean                     TINY (1 / 0)
 *   number, safe integer        LONGLONG (signed)
 *   number, other finite        DOUBLE   (NaN and ±Infinity are refused: MySQL has no such value)
 *   bigint in [-2^63, 2^63)     LONGLONG (signed)
 *   bigint in [2^63, 2^64)      LONGLONG UNSIGNED
 *   bigint beyond               NEWDECIMAL (its decimal digits; the server converts)
 *   string                      VAR_STRING (UTF-8: the connection's character set must be utf8mb4)
 *   Uint8Array                  BLOB
 *   Float32Array                BLOB (little-endian float32 bytes, what MySQL 9 VECTOR takes)
 *   Date                        DATETIME in the `timeZone` option (default local), to the millisecond
 *   other objects and arrays    VAR_STRING holding JSON.stringify(value) (the server casts JSON text)
 *   typedParameter(type, v, …)  exactly that type (e.g. TIME from "-12:00:00", DECIMAL from text)
 *
 * `decode` is for servers: it needs the statement's parameter count (from COM_STMT_PREPARE) and,
 * when the client does not resend types, the types bound before. Decoded values use the lossless
 * forms: LONGLONG as bigint, DECIMAL, DATE/DATETIME/TIMESTAMP and TIME as text, JSON as text,
 * VARCHAR/VAR_STRING/STRING/ENUM/SET as UTF-8 text, the BLOB types, GEOMETRY and BIT as bytes;
 * so encoding a decoded packet gives back its bytes.
 *
 * Pure code over `Uint8Array`; no IO.
 */
import { Result } from "effect"
import { ColumnFlag, ColumnType } from "./ColumnType.ts"
import type { FramedPacket } from "./Framing.ts"
import { decodeWith, encodeWith, frameWith } from "./Packet.ts"
import { encodeError, type ProtocolError, protocolError } from "./ProtocolError.ts"
import { readBinaryValue, writeBinaryValue } from "./values/BinaryValue.ts"
import { type ColumnInfo, type ColumnPlan, makeColumnPlan } from "./values/ColumnPlan.ts"
import { type ResolvedValueOptions, resolveValueOptions } from "./values/ValueOptions.ts"
import { WireError, type Writer } from "./Wire.ts"

const PACKET = "COM_STMT_EXECUTE"

export const COM_STMT_EXECUTE = 0x17

/** The cursor type in `flags`. */
export const CursorType = {
  NO_CURSOR: 0x00,
  READ_ONLY: 0x01,
  FOR_UPDATE: 0x02,
  SCROLLABLE: 0x04,
  /** MySQL 8.0.23+: `parameter_count` is present (with CLIENT_QUERY_ATTRIBUTES). */
  PARAMETER_COUNT_AVAILABLE: 0x08
} as const

/** A parameter with an explicit wire type, name (query attributes) and signedness. */
export interface TypedParameter {
  readonly _tag: "TypedParameter"
  /** `ColumnType` code. */
  readonly type: number
  readonly unsigned: boolean
  /** Query attribute name ("" for a positional parameter). */
  readonly name: string
  readonly value: unknown
}

/** A parameter of the given wire type. */
export const typedParameter = (
  type: number,
  value: unknown,
  options: { readonly unsigned?: boolean; readonly name?: string } = {}
): TypedParameter => ({
  _tag: "TypedParameter",
  type,
  unsigned: options.unsigned ?? false,
  name: options.name ?? "",
  value
})

/** Whether `u` is a `typedParameter`. */
export const isTyped = (u: unknown): u is TypedParameter =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "TypedParameter"

/** A parameter value as a client gives it. */
export type ParameterValue =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Float32Array
  | Date
  | TypedParameter
  | ReadonlyArray<unknown>
  | { readonly [key: string]: unknown }

/** A COM_STMT_EXECUTE as encoded. */
export interface ComStmtExecuteInput {
  readonly statementId: number
  /** Cursor type; default NO_CURSOR. */
  readonly flags?: number
  readonly parameters: ReadonlyArray<ParameterValue>
  /** Send the parameter types (default true; required on the first execution). */
  readonly newParamsBound?: boolean
}

/** A decoded COM_STMT_EXECUTE. */
export interface ComStmtExecute {
  readonly statementId: number
  readonly flags: number
  readonly iterationCount: number
  readonly newParamsBound: boolean
  readonly parameters: ReadonlyArray<TypedParameter>
}

export interface ComStmtExecuteOptions {
  /** CLIENT_QUERY_ATTRIBUTES was negotiated: `parameter_count` and parameter names are on the wire. */
  readonly queryAttributes?: boolean
  /** Time zone of `Date` parameters (see ValueOptions.timeZone); default "local". */
  readonly timeZone?: string
}

const TWO_63 = 1n << 63n
const TWO_64 = 1n << 64n

type WireType = { readonly type: number; readonly unsigned: boolean }

const wireType = (type: number, unsigned = false): WireType => ({ type, unsigned })
// Shared answers: a batch asks for every value's type, and answering a new object each time cost a
// third of its encoding (3,200 instead of 4,900 instructions per row of three values).
const NULL_TYPE = wireType(ColumnType.NULL)
const TINY_TYPE = wireType(ColumnType.TINY)
const LONGLONG_TYPE = wireType(ColumnType.LONGLONG)
const ULONGLONG_TYPE = wireType(ColumnType.LONGLONG, true)
const DOUBLE_TYPE = wireType(ColumnType.DOUBLE)
const NEWDECIMAL_TYPE = wireType(ColumnType.NEWDECIMAL)
const VAR_STRING_TYPE = wireType(ColumnType.VAR_STRING)
const BLOB_TYPE = wireType(ColumnType.BLOB)
const DATETIME_TYPE = wireType(ColumnType.DATETIME)

/** The wire type a JavaScript parameter is sent as (see the module doc). */
export const parameterTypeOf = (value: ParameterValue): WireType => {
  if (isTyped(value)) return wireType(value.type, value.unsigned)
  if (value === null || value === undefined) return NULL_TYPE
  switch (typeof value) {
    case "boolean":
      return TINY_TYPE
    case "number":
      return Number.isSafeInteger(value) ? LONGLONG_TYPE : DOUBLE_TYPE
    case "bigint":
      if (value >= -TWO_63 && value < TWO_63) return LONGLONG_TYPE
      if (value >= 0n && value < TWO_64) return ULONGLONG_TYPE
      return NEWDECIMAL_TYPE
    case "string":
      return VAR_STRING_TYPE
  }
  if (value instanceof Uint8Array || value instanceof Float32Array) return BLOB_TYPE
  if (value instanceof Date) return DATETIME_TYPE
  return VAR_STRING_TYPE
}

/**
 * Why a parameter value cannot be sent, or `undefined` when it can: MySQL has no NaN or infinities,
 * an invalid Date has no wall-clock time, symbols and functions have no SQL value, and an object
 * goes as its JSON text, so it must have one. Clients check their arguments with it before writing
 * anything, so that a bad value never costs the connection.
 */
export const parameterProblem = (value: unknown): string | undefined => {
  if (isTyped(value)) return parameterProblem(value.value)
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? undefined : `${value} has no MySQL value (there is no NaN or infinity)`
    case "symbol":
    case "function":
      return `a ${typeof value} has no SQL value`
    case "object":
      if (value === null || value instanceof Uint8Array || value instanceof Float32Array) return undefined
      if (value instanceof Date) {
        return Number.isNaN(value.getTime()) ? "an invalid Date (its time is NaN) has no date and time" : undefined
      }
      return jsonProblem(value)
  }
  return undefined
}

const jsonProblem = (value: object): string | undefined => {
  try {
    return JSON.stringify(value) === undefined ? "the object has no JSON text" : undefined
  } catch (e) {
    return `the object cannot be sent as JSON: ${e instanceof Error ? e.message : String(e)}`
  }
}

/** The bytes of a parameter value (not null) for its wire type. */
export const wireValue = (value: ParameterValue): unknown => {
  if (isTyped(value)) return value.value
  if (typeof value === "bigint" && (value < -TWO_63 || value >= TWO_64)) return value.toString()
  if (typeof value === "number" && !Number.isFinite(value)) return value // refused by the writer
  if (value instanceof Float32Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  if (typeof value === "object" && value !== null && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    return JSON.stringify(value)
  }
  return value
}

/** Binary strings among the parameter types: their values are bytes, not text. */
const isBinaryType = (type: number): boolean =>
  type === ColumnType.TINY_BLOB ||
  type === ColumnType.MEDIUM_BLOB ||
  type === ColumnType.LONG_BLOB ||
  type === ColumnType.BLOB ||
  type === ColumnType.GEOMETRY ||
  type === ColumnType.BIT

/** The column a parameter's value is read or written as. */
const parameterColumn = (index: number, type: number, unsigned: boolean): ColumnInfo => ({
  name: `?${index}`,
  type,
  flags: unsigned ? ColumnFlag.UNSIGNED : 0,
  decimals: 31,
  collation: isBinaryType(type) ? 63 : 45,
  columnLength: 64
})

/**
 * The plan that writes parameters of these types (or the time zone's problem), remembered by types and zone: an application
 * runs the same few statements again and again, and planning (with the zone parsed each time) cost
 * as much as writing the values. At most `PLANS` are kept.
 */
export const parameterPlan = (
  types: ReadonlyArray<{ readonly type: number; readonly unsigned: boolean }>,
  timeZone: string | undefined
): ColumnPlan | string => {
  let key = timeZone ?? ""
  for (const t of types) key += t.unsigned ? `,${t.type}u` : `,${t.type}`
  const known = plans.get(key)
  if (known !== undefined) return known
  const resolved = parameterOptions(timeZone)
  if (typeof resolved === "string") return resolved
  const plan = makeColumnPlan(
    types.map((t, i) => parameterColumn(i, t.type, t.unsigned)),
    resolved
  )
  if (plans.size >= PLANS) plans.clear()
  plans.set(key, plan)
  return plan
}

const PLANS = 256
const plans = new Map<string, ColumnPlan>()

/** The lossless value forms of decoded parameters (and the zone of `Date` parameters). */
const parameterOptions = (timeZone: string | undefined): ResolvedValueOptions | string =>
  resolveValueOptions({
    bigint: "bigint",
    decimal: "string",
    dates: "string",
    json: "string",
    bit: "bytes",
    ...(timeZone === undefined ? {} : { timeZone })
  })

/** Encodes a COM_STMT_EXECUTE payload. */
export const encode = (
  input: ComStmtExecuteInput,
  options: ComStmtExecuteOptions = {}
): Result.Result<Uint8Array, ProtocolError> => writeWith(encodeWith, input, options)

/** COM_STMT_EXECUTE framed as the first packet of a command, without copying the payload. */
export const frame = (
  input: ComStmtExecuteInput,
  options: ComStmtExecuteOptions = {}
): Result.Result<FramedPacket, ProtocolError> => writeWith(frameWith, input, options)

const writeWith = <A>(
  run: (packet: string, f: (w: Writer) => void, capacity: number) => Result.Result<A, ProtocolError>,
  input: ComStmtExecuteInput,
  options: ComStmtExecuteOptions
): Result.Result<A, ProtocolError> => {
  const parameters = input.parameters
  const count = parameters.length
  const types = parameters.map(parameterTypeOf)
  const plan = parameterPlan(types, options.timeZone)
  if (typeof plan === "string") return Result.fail(encodeError(PACKET, plan))
  const queryAttributes = options.queryAttributes === true
  return run(
    PACKET,
    (w) => {
      let flags = input.flags ?? CursorType.NO_CURSOR
      if (queryAttributes) flags |= CursorType.PARAMETER_COUNT_AVAILABLE
      // command [1] statement_id [4] flags [1] iteration_count [4]
      w.int1(COM_STMT_EXECUTE).int4(input.statementId).int1(flags).int4(1)
      if (queryAttributes) w.lenencInt(count) // parameter_count [lenenc]
      if (count === 0) return
      // null_bitmap [(count + 7) / 8]
      const bitmapAt = w.pos
      w.zeros((count + 7) >> 3)
      for (let i = 0; i < count; i++) {
        const p = parameters[i]
        const v = isTyped(p) ? p.value : p
        if (v === null || v === undefined) w.buf[bitmapAt + (i >> 3)] |= 1 << (i & 7)
      }
      // new_params_bound_flag [1]
      const bound = input.newParamsBound ?? true
      w.int1(bound ? 1 : 0)
      if (bound) {
        for (let i = 0; i < count; i++) {
          // parameter_type [2]: type, then 0x80 for unsigned
          w.int1(types[i].type).int1(types[i].unsigned ? 0x80 : 0)
          if (queryAttributes) {
            const p = parameters[i]
            w.lenencString(isTyped(p) ? p.name : "") // parameter_name [lenenc]
          }
        }
      }
      // parameter_values
      for (let i = 0; i < count; i++) {
        const p = parameters[i]
        const v = isTyped(p) ? p.value : p
        if (v === null || v === undefined) continue
        writeBinaryValue(w, plan, i, wireValue(p))
      }
    },
    capacityFor(parameters)
  )
}

/** Room for the whole payload in most cases, so that the writer does not grow and copy. */
const capacityFor = (parameters: ReadonlyArray<ParameterValue>): number => {
  let capacity = 32 + 16 * parameters.length
  for (const p of parameters) {
    const v = isTyped(p) ? p.value : p
    if (typeof v === "string") capacity += 3 * v.length
    else if (v instanceof Uint8Array) capacity += v.length
  }
  return capacity
}

export interface DecodeContext {
  /** The statement's parameter count (COM_STMT_PREPARE_OK num_params). */
  readonly paramCount: number
  /** Types bound by an earlier execution, for a packet with new_params_bound_flag = 0. */
  readonly previousTypes?: ReadonlyArray<{ readonly type: number; readonly unsigned: boolean }>
}

/** Decodes a COM_STMT_EXECUTE payload (server side). */
export const decode = (
  payload: Uint8Array,
  context: DecodeContext,
  options: ComStmtExecuteOptions = {}
): Result.Result<ComStmtExecute, ProtocolError> => {
  const resolved = parameterOptions(options.timeZone)
  if (typeof resolved === "string") return Result.fail(protocolError(PACKET, resolved))
  return decodeWith(PACKET, payload, (r) => {
    const command = r.int1()
    if (command !== COM_STMT_EXECUTE)
      throw new WireError(`not COM_STMT_EXECUTE: 0x${command.toString(16)}`, 0, "command")
    const statementId = r.int4()
    const flags = r.int1()
    const iterationCount = r.int4()
    let count = context.paramCount
    if (options.queryAttributes === true && (flags & CursorType.PARAMETER_COUNT_AVAILABLE) !== 0) {
      count = r.lenencNumber()
    }
    if (count === 0) {
      r.expectEnd()
      return { statementId, flags, iterationCount, newParamsBound: false, parameters: [] }
    }
    if (count > r.remaining() * 8)
      throw new WireError(`parameter count ${count} exceeds the packet`, r.pos, "parameter_count")
    const bitmap = r.fixedBytes((count + 7) >> 3)
    const bound = r.int1()
    if (bound > 1) throw new WireError(`invalid new_params_bound_flag ${bound}`, r.pos - 1, "new_params_bound_flag")
    const types: Array<{ type: number; unsigned: boolean }> = []
    const names: Array<string> = []
    if (bound === 1) {
      for (let i = 0; i < count; i++) {
        const type = r.int1()
        const flag = r.int1()
        types.push({ type, unsigned: (flag & 0x80) !== 0 })
        names.push(options.queryAttributes === true ? r.lenencString() : "")
      }
    } else {
      const previous = context.previousTypes
      if (previous === undefined || previous.length !== count) {
        throw new WireError("parameter types were not sent and no previous types are known", r.pos, "parameter_type")
      }
      for (let i = 0; i < count; i++) {
        types.push({ type: previous[i].type, unsigned: previous[i].unsigned })
        names.push("")
      }
    }
    const plan = makeColumnPlan(
      types.map((t, i) => parameterColumn(i, t.type, t.unsigned)),
      resolved
    )
    const cursor = { pos: r.pos }
    const parameters: Array<TypedParameter> = []
    for (let i = 0; i < count; i++) {
      const isNull = (bitmap[i >> 3] & (1 << (i & 7))) !== 0
      const value = isNull ? null : readBinaryValue(plan, i, payload, cursor, payload.length)
      parameters.push(typedParameter(types[i].type, value, { unsigned: types[i].unsigned, name: names[i] }))
    }
    r.pos = cursor.pos
    r.expectEnd()
    return { statementId, flags, iterationCount, newParamsBound: bound === 1, parameters }
  })
}
