/**
 * What text and binary row codecs share: the decoder and encoder interfaces, and the one place
 * an internal failure inside a row becomes a `ProtocolError`.
 *
 * Pure code; no IO.
 */
import type { Result } from "effect"
import { encodeError, type ProtocolError, protocolError } from "../ProtocolError.ts"
import { WireError } from "../Wire.ts"
import type { ColumnInfo } from "./ColumnPlan.ts"

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

/** Index of a column named "__proto__" (stored with defineProperty), or -1. */
export const protoIndex = (names: ReadonlyArray<string>): number => names.lastIndexOf("__proto__")

/** Values in column order from an array or an object keyed by name. */
export const valueAt = (
  values: ReadonlyArray<unknown> | RowObject,
  names: ReadonlyArray<string>,
  i: number
): unknown => (Array.isArray(values) ? values[i] : (values as RowObject)[names[i]])
