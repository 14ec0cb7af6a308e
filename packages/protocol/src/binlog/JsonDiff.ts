/**
 * The JSON diffs of MySQL's PARTIAL_UPDATE_ROWS events (`binlog_row_value_options=PARTIAL_JSON`):
 * an after image may hold, instead of a JSON column's new document, the list of changes that turn
 * the before image's document into it.
 *
 * MySQL: https://github.com/mysql/mysql-server/blob/8.4/sql/json_diff.cc (Json_diff_vector::write_binary,
 *        read_binary; apply_json_diffs)
 *        https://github.com/mysql/mysql-server/blob/8.4/sql/log_event.cc (print_verbose_one_row:
 *        the partial bits and the value options)
 * Cross-checked with rust-mysql-common's binlog/misc/json_diff.rs.
 *
 * ```
 * the column's value: length [the column's 1-4 length bytes], then diffs until that length is used
 * diff          operation [1 byte]: 0 REPLACE, 1 INSERT, 2 REMOVE
 *               path: string<lenenc> (a MySQL JSON path: $.a[2]."b c")
 *               value, but for REMOVE: length int<lenenc>, binary JSON (type byte first)
 * ```
 *
 * Pure code over `Uint8Array`; no IO.
 */
import { Result } from "effect"
import type { ProtocolError } from "../ProtocolError.ts"
import { rowError } from "../values/RowCodec.ts"
import { decodeUtf8, WireError, Writer } from "../Wire.ts"
import { readJsonBinary, writeJsonBinary } from "./JsonBinary.ts"

export const JsonDiffOperation = { REPLACE: 0, INSERT: 1, REMOVE: 2 } as const

export interface JsonDiff {
  readonly operation: "replace" | "insert" | "remove"
  /** A MySQL JSON path without wildcards: `$`, `$.a`, `$."b c"[3]`. */
  readonly path: string
  /** The new value (what `JSON.parse` gives); absent for "remove". */
  readonly value?: unknown
}

/** One leg of a path: an object key or an array index. */
export type JsonPathLeg = string | number

const IDENTIFIER_END = /[.[\s]/

/** The legs of a MySQL JSON path. Throws a `WireError` naming `field` when it is not one. */
export const parseJsonPath = (text: string, field = "path"): ReadonlyArray<JsonPathLeg> => {
  const bad = (why: string): never => {
    throw new WireError(`invalid JSON path ${JSON.stringify(text)}: ${why}`, 0, field)
  }
  const legs: Array<JsonPathLeg> = []
  let i = text.indexOf("$")
  if (i < 0 || text.slice(0, i).trim() !== "") bad("it must start with $")
  i++
  const skipSpaces = () => {
    while (i < text.length && /\s/.test(text[i])) i++
  }
  for (skipSpaces(); i < text.length; skipSpaces()) {
    if (text[i] === ".") {
      i++
      skipSpaces()
      if (text[i] === '"') {
        let j = i + 1
        while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1
        if (j >= text.length) bad("unterminated key")
        legs.push(JSON.parse(text.slice(i, j + 1)) as string)
        i = j + 1
      } else {
        let j = i
        while (j < text.length && !IDENTIFIER_END.test(text[j])) j++
        if (j === i) bad("empty key")
        const key = text.slice(i, j)
        if (key === "*") bad("wildcards are not allowed")
        legs.push(key)
        i = j
      }
    } else if (text[i] === "[") {
      const m = /^\[\s*(\d+)\s*\]/.exec(text.slice(i))
      if (m === null) bad("array legs must be [n]")
      legs.push(Number(m![1]))
      i += m![0].length
    } else {
      bad(`unexpected ${JSON.stringify(text[i])}`)
    }
  }
  return legs
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const setKey = (o: Record<string, unknown>, key: string, value: unknown) => {
  if (key === "__proto__")
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })
  else o[key] = value
}

/**
 * `doc` (what `JSON.parse` gives; modified in place) with one diff applied; the new document.
 * Throws a `WireError` naming `field` when the path does not fit the document.
 */
export const applyJsonDiff = (doc: unknown, diff: JsonDiff, field = "json"): unknown => {
  const legs = parseJsonPath(diff.path, field)
  const bad = (why: string): never => {
    throw new WireError(`cannot ${diff.operation} ${diff.path}: ${why}`, 0, field)
  }
  if (legs.length === 0) return diff.operation === "replace" ? diff.value : bad("the whole document")
  let parent = doc
  for (let k = 0; k < legs.length - 1; k++) {
    const leg = legs[k]
    const next =
      typeof leg === "number"
        ? Array.isArray(parent) && leg < parent.length
          ? parent[leg]
          : undefined
        : isObject(parent) && Object.hasOwn(parent, leg)
          ? parent[leg]
          : undefined
    if (next === undefined) bad("no such member")
    parent = next
  }
  const last = legs[legs.length - 1]
  if (typeof last === "number") {
    if (!Array.isArray(parent)) return bad("not an array")
    if (diff.operation === "insert") parent.splice(Math.min(last, parent.length), 0, diff.value)
    else if (last >= parent.length) bad("no such element")
    else if (diff.operation === "replace") parent[last] = diff.value
    else parent.splice(last, 1)
  } else {
    if (!isObject(parent)) return bad("not an object")
    if (diff.operation !== "insert" && !Object.hasOwn(parent, last)) bad("no such member")
    if (diff.operation === "remove") delete parent[last]
    else setKey(parent, last, diff.value)
  }
  return doc
}

const OPERATIONS = ["replace", "insert", "remove"] as const

/** A length-encoded integer at `p` below `end`: its value, and the next position in `next`. */
const lenenc = (buf: Uint8Array, p: number, end: number, field: string, at: { next: number }): number => {
  const first = buf[p]
  const n = first < 0xfb ? 0 : first === 0xfc ? 2 : first === 0xfd ? 3 : first === 0xfe ? 8 : -1
  if (p >= end || n < 0 || p + 1 + n > end) throw new WireError("invalid length in a JSON diff", p, field)
  let v = n === 0 ? first : 0
  for (let k = n; k >= 1; k--) v = v * 256 + buf[p + k]
  at.next = p + 1 + n
  return v
}

/**
 * Applies the diffs held in `buf[start, end)` to `doc` (modified in place); the new document.
 * `exact` keeps big integers of the new values as `bigint`. Throws a `WireError`.
 */
export const readJsonDiffs = (
  buf: Uint8Array,
  start: number,
  end: number,
  doc: unknown,
  field: string,
  exact = false
): unknown => {
  const at = { next: start }
  let p = start
  while (p < end) {
    const operation = OPERATIONS[buf[p]]
    if (operation === undefined) throw new WireError(`unknown JSON diff operation ${buf[p]}`, p, field)
    const pathLength = lenenc(buf, p + 1, end, field, at)
    if (at.next + pathLength > end) throw new WireError("JSON diff path runs past the end", at.next, field)
    const path = decodeUtf8(buf, at.next, at.next + pathLength)
    p = at.next + pathLength
    let value: unknown
    if (operation !== "remove") {
      const valueLength = lenenc(buf, p, end, field, at)
      if (at.next + valueLength > end) throw new WireError("JSON diff value runs past the end", at.next, field)
      value = readJsonBinary(buf, at.next, at.next + valueLength, field, exact)
      p = at.next + valueLength
    }
    doc = applyJsonDiff(doc, { operation, path, value }, field)
  }
  return doc
}

/** Writes `diffs` as the body of a partial JSON column (without its length). Throws a `WireError`. */
export const writeJsonDiffs = (w: Writer, diffs: ReadonlyArray<JsonDiff>): void => {
  for (const diff of diffs) {
    w.int1(JsonDiffOperation[diff.operation.toUpperCase() as "REPLACE" | "INSERT" | "REMOVE"])
    w.lenencString(diff.path)
    if (diff.operation !== "remove") {
      const value = new Writer(16)
      writeJsonBinary(value, diff.value)
      w.lenencBytes(value.finish())
    }
  }
}

/** `diffs` applied to `doc` (a copy is not made: `doc` is modified). */
export const applyJsonDiffs = (doc: unknown, diffs: ReadonlyArray<JsonDiff>): Result.Result<unknown, ProtocolError> => {
  try {
    for (const diff of diffs) doc = applyJsonDiff(doc, diff)
    return Result.succeed(doc)
  } catch (e) {
    return Result.fail(rowError("JsonDiff", e, undefined, undefined))
  }
}
