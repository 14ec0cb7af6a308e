/**
 * What text and binary row codecs share: the decoder and encoder interfaces, the row decoder
 * built once per column list around a format's field reader, and the one place an internal
 * failure inside a row becomes a `ProtocolError`.
 *
 * Pure code; no IO.
 */
import { Result } from "effect"
import { encodeError, type ProtocolError, protocolError } from "../ProtocolError.ts"
import { WireError } from "../Wire.ts"
import type { ColumnInfo, ColumnPlan } from "./ColumnPlan.ts"

/** A row keyed by column name. With duplicate names (`SELECT a.id, b.id`) the later column wins. */
export type RowObject = Record<string, unknown>

/**
 * Decodes the rows of one result set. Built once per column list; each call is a loop over
 * numeric offsets into the row's payload.
 */
export interface RowDecoder {
  readonly columns: ReadonlyArray<ColumnInfo>
  readonly names: ReadonlyArray<string>
  /** The row as an object keyed by column name. */
  decodeObject(payload: Uint8Array): Result.Result<RowObject, ProtocolError>
  /** The row as an array of values in column order. */
  decodeArray(payload: Uint8Array): Result.Result<Array<unknown>, ProtocolError>
  /**
   * The row held in `buf[start, end)` as an object, without a `Result` per row: `undefined` when
   * the row is malformed, and `failure` says why. Error offsets count from `start`.
   */
  readObject(buf: Uint8Array, start: number, end: number): RowObject | undefined
  /** As `readObject`, the row as an array of values in column order. */
  readArray(buf: Uint8Array, start: number, end: number): Array<unknown> | undefined
  /** Why the last `readObject`/`readArray` answered `undefined`. */
  readonly failure: ProtocolError | undefined
}

/** Encodes rows of one result set (what a server sends). */
export interface RowEncoder {
  readonly columns: ReadonlyArray<ColumnInfo>
  /** Values in column order, or an object keyed by column name; `null`/`undefined` is SQL NULL. */
  encode(values: ReadonlyArray<unknown> | RowObject): Result.Result<Uint8Array, ProtocolError>
}

/**
 * The `ProtocolError` for a failure while reading (`encoding` false: the peer sent it) or writing
 * (`encoding` true: a value we were given) column `field` of a row or a single value.
 */
export const rowError = (
  packet: string,
  e: unknown,
  field: string | undefined,
  offset: number | undefined,
  encoding = false
): ProtocolError => {
  const make = encoding ? encodeError : protocolError
  if (e instanceof WireError) return make(packet, e.message, e.field ?? field, e.offset)
  if (e instanceof SyntaxError) return make(packet, `invalid JSON: ${e.message}`, field, offset)
  if (e instanceof TypeError) return make(packet, `invalid text: ${e.message}`, field, offset)
  return make(packet, e instanceof Error ? e.message : String(e), field, offset)
}

/** Values in column order from an array or an object keyed by name. */
export const valueAt = (
  values: ReadonlyArray<unknown> | RowObject,
  names: ReadonlyArray<string>,
  i: number
): unknown => (Array.isArray(values) ? values[i] : (values as RowObject)[names[i]])

/**
 * Reads the values of one row format (text or binary) into an array, in column order. Per-row
 * work is plain code over offsets; bad data throws a `WireError` (or a text decoder's TypeError,
 * or JSON's SyntaxError), caught once per row by the decoder.
 */
export interface FieldReader {
  /** The column being read and the offset reached: where a failing row failed. */
  readonly column: number
  readonly pos: number
  read(buf: Uint8Array, start: number, end: number, out: Array<unknown>): void
}

/** Builds a row object from its values in column order. */
export type RowBuilder = (values: ReadonlyArray<unknown>) => RowObject

/**
 * Whether the runtime compiles code at run time. A Content-Security-Policy may forbid it; Cloudflare
 * Workers allow it while the Worker's modules load and throw an EvalError once a request runs, so a
 * probe at load would answer yes. The first compile that throws turns it off instead.
 */
let canCompile = true

/**
 * One object literal per row, its keys the column names: V8 creates the row with every property
 * in place and one hidden class per column list, where keyed stores into `{}` grow the object and
 * change its class once per column. Building 8-column rows from their values (callgrind, Node 24,
 * 2M rows): 503 instructions per row this way, 2,339 with keyed stores, 2,096 with a spread copy
 * of a template then stores. Names are written as JSON string literals, which are valid JavaScript
 * for every string; `__proto__` is a computed key, since as a literal key it would set the
 * prototype instead of an own property. A later column of the same name wins, as with stores.
 */
const compileRowBuilder = (names: ReadonlyArray<string>): RowBuilder => {
  const fields = names.map((name, i) =>
    name === "__proto__" ? `["__proto__"]: v[${i}]` : `${JSON.stringify(name)}: v[${i}]`
  )
  const source = `"use strict"; return { ${fields.join(", ")} }`
  let build = compiled.get(source)
  if (build === undefined) {
    if (compiled.size >= MAX_COMPILED) compiled.clear()
    build = new Function("v", source) as RowBuilder
    compiled.set(source, build)
  }
  return build
}

/**
 * Builders by their source, shared by every decoder: a statement that is not cached gets a new
 * decoder each time it runs. Building a one-column decoder and reading one row (callgrind, Node
 * 24, 20,000 times) cost 29,300 instructions more than with keyed stores when each decoder
 * compiled its builder, 7,100 more with this cache. Bounded, since column lists are whatever
 * statements ask for.
 */
const compiled = new Map<string, RowBuilder>()
const MAX_COMPILED = 1000

/** Where code cannot be compiled: stores, with every `__proto__` defined as an own property. */
const storeRowBuilder =
  (names: ReadonlyArray<string>): RowBuilder =>
  (values) => {
    const row: RowObject = {}
    for (let i = 0; i < names.length; i++) {
      const name = names[i]
      if (name === "__proto__") {
        Object.defineProperty(row, name, { value: values[i], enumerable: true, writable: true, configurable: true })
      } else {
        row[name] = values[i]
      }
    }
    return row
  }

/** The builder of row objects keyed by `names` (compiled once per name list where the runtime allows). */
export const makeRowBuilder = (names: ReadonlyArray<string>): RowBuilder => {
  if (canCompile) {
    try {
      return compileRowBuilder(names)
    } catch {
      canCompile = false
    }
  }
  return storeRowBuilder(names)
}

/** `error` with its offset counted from a row's `start` in a larger buffer. */
const fromStart = (error: ProtocolError, start: number): ProtocolError =>
  start === 0 || error.offset === undefined
    ? error
    : protocolError(error.packet, error.detail, error.field, error.offset - start)

class CompiledRowDecoder implements RowDecoder {
  readonly columns: ReadonlyArray<ColumnInfo>
  readonly names: ReadonlyArray<string>
  failure: ProtocolError | undefined = undefined
  private readonly packet: string
  private readonly reader: FieldReader
  private readonly build: RowBuilder
  /** The values of the row being built into an object; reused, since the object copies them. */
  private readonly values: Array<unknown>
  /** The columns `types.cast` converts, with their conversions; undefined for none. */
  private readonly casts: ReadonlyArray<Cast> | undefined

  constructor(packet: string, plan: ColumnPlan, reader: FieldReader, casts: ReadonlyArray<Cast> | undefined) {
    this.packet = packet
    this.columns = plan.columns
    this.names = plan.names
    this.reader = reader
    this.build = makeRowBuilder(plan.names)
    this.values = new Array<unknown>(plan.count).fill(null)
    this.casts = casts
  }

  /** Reads the row into `out`; false with `failure` set when it is malformed. */
  private fill(buf: Uint8Array, start: number, end: number, out: Array<unknown>): boolean {
    const reader = this.reader
    try {
      reader.read(buf, start, end, out)
    } catch (e) {
      this.failure = fromStart(rowError(this.packet, e, this.names[reader.column], reader.pos), start)
      return false
    }
    if (reader.pos !== end) {
      this.failure = protocolError(this.packet, `${end - reader.pos} trailing byte(s)`, undefined, reader.pos - start)
      return false
    }
    return this.casts === undefined || this.cast(out)
  }

  /** Applies `types.cast`'s conversions; false with `failure` set when one throws. */
  private cast(out: Array<unknown>): boolean {
    for (const [i, convert] of this.casts!) {
      try {
        out[i] = convert(out[i])
      } catch (e) {
        const name = this.names[i]
        this.failure = encodeError(this.packet, `types.cast of column ${name} threw: ${errorText(e)}`, name)
        return false
      }
    }
    return true
  }

  readObject(buf: Uint8Array, start: number, end: number): RowObject | undefined {
    return this.fill(buf, start, end, this.values) ? this.build(this.values) : undefined
  }

  readArray(buf: Uint8Array, start: number, end: number): Array<unknown> | undefined {
    const out = new Array<unknown>(this.names.length)
    return this.fill(buf, start, end, out) ? out : undefined
  }

  decodeObject(payload: Uint8Array): Result.Result<RowObject, ProtocolError> {
    const row = this.readObject(payload, 0, payload.length)
    return row === undefined ? Result.fail(this.failure!) : Result.succeed(row)
  }

  decodeArray(payload: Uint8Array): Result.Result<Array<unknown>, ProtocolError> {
    const row = this.readArray(payload, 0, payload.length)
    return row === undefined ? Result.fail(this.failure!) : Result.succeed(row)
  }
}

type Cast = readonly [column: number, convert: (value: unknown) => unknown]

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e))

/**
 * The row decoder of `plan`, reading fields with `reader`; `packet` names the rows in errors. Fails
 * when `types.cast` throws while choosing a column's conversion.
 */
export const makeRowDecoder = (
  packet: string,
  plan: ColumnPlan,
  reader: FieldReader
): Result.Result<RowDecoder, ProtocolError> => {
  const choose = plan.options.cast
  if (choose === undefined) return Result.succeed(new CompiledRowDecoder(packet, plan, reader, undefined))
  const casts: Array<Cast> = []
  for (let i = 0; i < plan.count; i++) {
    try {
      const convert = choose(plan.columns[i]!)
      if (convert !== undefined) casts.push([i, convert])
    } catch (e) {
      return Result.fail(encodeError(packet, `types.cast threw for column ${plan.names[i]}: ${errorText(e)}`))
    }
  }
  return Result.succeed(new CompiledRowDecoder(packet, plan, reader, casts.length === 0 ? undefined : casts))
}
