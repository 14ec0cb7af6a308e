/**
 * `:name` placeholders, as mysql2 and the mariadb connector take them with `namedPlaceholders`:
 * values given as an object by name become the `?` placeholders the protocol knows, in the order
 * the names appear. A name counts only outside string literals, quoted identifiers and comments
 * (`'12:30'` is text) and when a letter or underscore follows the colon (`@x := 1` is an
 * assignment). A name may appear several times; a name with no value is refused, and so is a
 * value that no placeholder names (most likely a misspelt name).
 *
 * Pure; no IO. The rewritten text of each statement is remembered, so a statement run often is
 * scanned once.
 */
import type { ComStmtExecute } from "@effect-mysql/protocol"
import { nextCode } from "./SqlText.ts"

type ParameterValue = ComStmtExecute.ParameterValue

/** Values by placeholder name. */
export type NamedParameters = Readonly<Record<string, ParameterValue>>

/** Values by position, or by name for `:name` placeholders. */
export type Parameters = ReadonlyArray<ParameterValue> | NamedParameters

interface Rewritten {
  readonly sql: string
  readonly names: ReadonlyArray<string>
}

const nameStart = /[A-Za-z_]/
const namePart = /[A-Za-z0-9_]/

const rewrite = (sql: string, backslashes: boolean): Rewritten => {
  const names: Array<string> = []
  let out = ""
  let from = 0
  let i = 0
  while (i < sql.length) {
    if (sql[i] !== ":" || !nameStart.test(sql[i + 1] ?? "")) {
      i = nextCode(sql, i, backslashes)
      continue
    }
    let end = i + 2
    while (end < sql.length && namePart.test(sql[end]!)) end++
    names.push(sql.slice(i + 1, end))
    out += `${sql.slice(from, i)}?`
    from = i = end
  }
  return { sql: out + sql.slice(from), names }
}

const MAX_REMEMBERED = 512
const remembered = new Map<string, Rewritten>()

const rewritten = (sql: string, backslashes: boolean): Rewritten => {
  const key = `${backslashes ? "b" : "n"}${sql}`
  const known = remembered.get(key)
  if (known !== undefined) return known
  const fresh = rewrite(sql, backslashes)
  if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value!)
  remembered.set(key, fresh)
  return fresh
}

/**
 * The statement and its values by position; values already by position pass through. A problem
 * with the names is answered as its message.
 */
export const positional = (
  sql: string,
  params: Parameters,
  backslashes: boolean
): { readonly sql: string; readonly params: ReadonlyArray<ParameterValue> } | string => {
  if (Array.isArray(params)) return { sql, params }
  const named = params as NamedParameters
  const { sql: text, names } = rewritten(sql, backslashes)
  const missing = names.find((name) => !Object.hasOwn(named, name))
  if (missing !== undefined) return `no value for the placeholder :${missing}`
  const unused = Object.keys(named).find((name) => !names.includes(name))
  if (unused !== undefined) return `the value ${unused} has no :${unused} placeholder in the statement`
  return { sql: text, params: names.map((name) => named[name]!) }
}
