/**
 * Statements run through the `mariadb` command-line client on a server's Unix socket, as root: the
 * test kit sets servers up and inspects them without depending on the driver it tests.
 */
import { Effect } from "effect"
import { run } from "./Process.ts"
import { TestAccounts, TestDatabase } from "./TestAccounts.ts"

export interface ExecuteOptions {
  /** Root's password; a fresh data directory's root has none (default: the test password). */
  readonly password?: string
  /** The default database, `""` for none (default: the test database). */
  readonly database?: string
  /** Print the column names as a first line (default: rows only). */
  readonly columnNames?: boolean
}

/**
 * Runs `sql` (one or more statements) and yields what it printed: tab-separated rows, trimmed.
 * Interrupting the effect kills the client, so a wait on a stopped server can be bounded with a
 * timeout.
 */
export const execute = (socketPath: string, sql: string, options: ExecuteOptions = {}) =>
  run("mariadb", [
    "--no-defaults",
    "--batch",
    ...(options.columnNames === true ? [] : ["--skip-column-names"]),
    // A frozen server accepts the connection and never greets.
    "--connect-timeout=5",
    `--socket=${socketPath}`,
    "--user=root",
    ...(options.password === "" ? [] : [`--password=${options.password ?? TestAccounts.root.password}`]),
    `--execute=${sql}`,
    ...(options.database === "" ? [] : [options.database ?? TestDatabase])
  ]).pipe(Effect.map((out) => out.trim()))

/** The value of each named global status variable. */
export const showStatus = (socketPath: string, names: ReadonlyArray<string>) =>
  Effect.map(
    execute(socketPath, `SHOW GLOBAL STATUS WHERE Variable_name IN (${names.map((n) => `'${n}'`).join(",")})`),
    (out) => new Map(out.split("\n").map((line) => line.split("\t") as [string, string]))
  )
