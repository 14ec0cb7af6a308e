/**
 * The schema dump of `MysqlMigrator`'s `schemaDirectory`: the database's tables without their rows
 * and the migrations table with its rows, as `mariadb-dump` or `mysqldump` print them, written to
 * `_schema.sql`. The tools are run through `node:child_process`, which Node, Deno and Bun all have;
 * the password goes in the child's environment (MYSQL_PWD), never on its command line.
 */
import { Effect } from "effect"
import { MigrationError } from "effect/sql/Migrator"
import { passwordText } from "../ConnectionOptions.ts"
import type { MysqlClientOptions } from "../MysqlClientOptions.ts"

/** The dump tools, MariaDB's name first: Debian's mysqldump is a link to it. */
const tools: ReadonlyArray<string> = ["mariadb-dump", "mysqldump"]

const failed = (message: string, cause?: unknown) => new MigrationError({ kind: "Failed", message, cause })

const execute = (file: string, args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.tryPromise({
    try: async () => {
      const { execFile } = await import("node:child_process")
      const { env: inherited } = await import("node:process")
      return new Promise<string>((resolve, reject) =>
        execFile(file, args, { env: { ...inherited, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) =>
          error === null ? resolve(stdout) : reject(error)
        )
      )
    },
    catch: (cause) => cause
  })

/**
 * The first dump tool on the PATH; refused with a `MigrationError` when there is none, so that a
 * `schemaDirectory` that cannot be honoured fails before any migration runs.
 */
export const findDumpTool: Effect.Effect<string, MigrationError> = Effect.firstSuccessOf(
  tools.map((tool) => Effect.as(execute(tool, ["--version"], {}), tool))
).pipe(
  Effect.mapError(() =>
    failed(`schemaDirectory: writing the schema needs ${tools.join(" or ")} on the PATH, and neither was found`)
  )
)

/**
 * Why the tool cannot dump as the client connects, if it cannot: it gets the client's endpoint and
 * account, but none of its TLS settings, so a client that asks for TLS over TCP is refused rather
 * than letting the tool go in plaintext; and it reaches one server, so a host list is refused.
 */
export const dumpProblem = (options: MysqlClientOptions): string | undefined => {
  if (options.hosts !== undefined)
    return "schemaDirectory: the schema dump reaches one server, and the client has a host list"
  const ssl = options.ssl
  const mode = ssl?.mode ?? (ssl?.ca !== undefined || ssl?.fingerprints !== undefined ? "verify-identity" : "preferred")
  if (options.socketPath === undefined && mode !== "disabled" && mode !== "preferred")
    return `schemaDirectory: the dump tool would connect without the client's TLS settings (ssl-mode ${mode}); dump over a Unix socket (socketPath) or leave schemaDirectory out`
  return undefined
}

/** Where and as whom the tool connects: the client's own endpoint, account and database. */
const connectionArgs = (options: MysqlClientOptions): ReadonlyArray<string> => [
  "--no-defaults",
  ...(options.socketPath === undefined
    ? ["--protocol=TCP", `--host=${options.host ?? "localhost"}`, `--port=${options.port ?? 3306}`]
    : [`--socket=${options.socketPath}`]),
  `--user=${options.user ?? ""}`,
  "--skip-comments",
  "--compact"
]

/** Drops the tools' version-conditional comments, which differ between servers and tools. */
const tidy = (dump: string): string =>
  dump
    .replace(/^\/\*.*$/gm, "")
    .replace(/\n{2,}/gm, "\n\n")
    .trim()

/** Writes the dump of `options.database` and its `table` of migrations to `path`. */
export const dumpSchema = (
  tool: string,
  options: MysqlClientOptions,
  path: string,
  table: string
): Effect.Effect<void, MigrationError> =>
  Effect.gen(function* () {
    if (options.database === undefined) return yield* failed("schemaDirectory: the client names no database to dump")
    const password = yield* passwordText(options.password, options.user ?? "")
    const env: Record<string, string> = password === "" ? {} : { MYSQL_PWD: password }
    const args = connectionArgs(options)
    const [schema, migrations] = yield* Effect.all(
      [
        execute(tool, [...args, "--no-data", options.database], env),
        execute(tool, [...args, "--no-create-info", options.database, table], env)
      ],
      { concurrency: 2 }
    )
    const { mkdir, writeFile } = yield* Effect.promise(() => import("node:fs/promises"))
    yield* Effect.tryPromise(async () => {
      await mkdir(path.slice(0, path.lastIndexOf("/")) || ".", { recursive: true })
      await writeFile(path, `${tidy(schema)}\n\n${tidy(migrations)}\n`)
    })
  }).pipe(
    Effect.mapError((cause) =>
      cause instanceof MigrationError ? cause : failed(`dumping the schema to ${path} failed`, cause)
    )
  )
