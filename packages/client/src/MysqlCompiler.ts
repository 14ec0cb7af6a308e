/**
 * The effect/sql statement compiler for MySQL and MariaDB: `?` placeholders, identifiers in
 * backticks (a backtick inside doubled, `a.b` as `a`.`b`), and `sql.updateValues` as a derived
 * table to join against, since neither server has PostgreSQL's `UPDATE … FROM (VALUES …)`:
 *
 * ```sql
 * UPDATE people JOIN ${sql.updateValues(rows, "data")} ON people.id = data.id SET people.name = data.name
 * -- UPDATE people JOIN (SELECT ? AS `id`, ? AS `name` UNION ALL SELECT ?, ?) AS `data` ON …
 * ```
 *
 * `RETURNING` after `sql.insert(…).returning(…)` is passed through: MariaDB (10.5+) has
 * `INSERT … RETURNING`, MySQL does not.
 */
import * as Statement from "effect/sql/Statement"

const quoteIdentifier = Statement.defaultEscape("`")

/** The quoted names of a column list the compiler rendered as "(`a`,`b`)". */
const columnNames = (columns: string): ReadonlyArray<string> =>
  columns.match(/`(?:[^`]|``)*`(?:\.`(?:[^`]|``)*`)*/g) ?? []

/** `(SELECT ? AS a, ? AS b UNION ALL SELECT ?, ?) AS alias`: rows as a table on every version of both servers. */
const derivedTable = (columns: ReadonlyArray<string>, rows: number, alias: string): string => {
  const first = columns.map((column) => `? AS ${column}`).join(", ")
  const rest = columns.map(() => "?").join(", ")
  let sql = `(SELECT ${first}`
  for (let i = 1; i < rows; i++) sql += ` UNION ALL SELECT ${rest}`
  return `${sql}) AS ${alias}`
}

/** The compiler; `transform` renames identifiers (camelCase in code, snake_case in tables). */
export const makeCompiler = (transform?: (name: string) => string): Statement.Compiler =>
  Statement.makeCompiler({
    dialect: "mysql",
    placeholder: () => "?",
    onIdentifier:
      transform === undefined
        ? quoteIdentifier
        : (value, withoutTransform) => (withoutTransform ? quoteIdentifier(value) : quoteIdentifier(transform(value))),
    onRecordUpdate: (_placeholders, alias, columns, values, returning) => [
      derivedTable(columnNames(columns), values.length, alias) +
        (returning === undefined ? "" : ` RETURNING ${returning[0]}`),
      returning === undefined ? values.flat() : [...values.flat(), ...returning[1]]
    ],
    onCustom: () => ["", []]
  })
