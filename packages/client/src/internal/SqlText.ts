/**
 * Walking SQL text the way the server reads it: placeholders (`?`, `:name`) count only outside
 * string literals, quoted identifiers and comments.
 *
 * Pure; no IO.
 */

/**
 * Where a quoted section that starts at `start` (at its opening quote) ends, just past its closing
 * quote. A doubled quote stays inside; a backslash escapes the next character in string literals
 * unless NO_BACKSLASH_ESCAPES is on.
 */
const skipQuoted = (sql: string, start: number, backslashes: boolean): number => {
  const quote = sql[start]
  let i = start + 1
  while (i < sql.length) {
    const c = sql[i]
    if (c === "\\" && backslashes) i += 2
    else if (c === quote && sql[i + 1] === quote) i += 2
    else if (c === quote) return i + 1
    else i++
  }
  return sql.length
}

/**
 * Where the next piece of code may start after position `i`: past the string literal, quoted
 * identifier or comment that starts there, else the next character. `backslashes`: whether a
 * backslash escapes in string literals (off under NO_BACKSLASH_ESCAPES).
 */
export const nextCode = (sql: string, i: number, backslashes: boolean): number => {
  const c = sql[i]
  if (c === "'" || c === '"') return skipQuoted(sql, i, backslashes)
  if (c === "`") return skipQuoted(sql, i, false)
  if (c === "#" || (c === "-" && sql[i + 1] === "-" && /\s/.test(sql[i + 2] ?? " "))) {
    const end = sql.indexOf("\n", i)
    return end === -1 ? sql.length : end + 1
  }
  if (c === "/" && sql[i + 1] === "*") {
    const end = sql.indexOf("*/", i + 2)
    return end === -1 ? sql.length : end + 2
  }
  return i + 1
}
