/**
 * The schema dump of `MysqlMigrator`'s `schemaDirectory`: the database's tables without their rows
 * and the migrations table with its rows, as `mariadb-dump` or `mysqldump` print them, written to
 * `_schema.sql`. The tools are run through `node:child_process`, which Node, Deno and Bun all have;
 * the password goes in the child's environment (MYSQL_PWD), never on its command line.
 *
 * The tool connects as the client does, TLS included: the client's ssl-mode, CA, client
 * certificate, CRLs, versions and ciphers become the tool's options (its PEM files written to a
 * private temporary directory for the run). What a tool cannot do as the client does is refused
 * before any migration runs, never dropped.
 */
import { Endpoint, SslPolicy } from "@effect-mysql/transport"
import { Effect, Redacted, Result } from "effect"
import { MigrationError } from "effect/sql/Migrator"
import { passwordText } from "../ConnectionOptions.ts"
import type { MysqlClientOptions } from "../MysqlClientOptions.ts"

/** The dump tools, MariaDB's name first: Debian's mysqldump is a link to it. */
const tools: ReadonlyArray<string> = ["mariadb-dump", "mysqldump"]

/** A dump tool found on the PATH: MariaDB's tools and MySQL's spell their TLS options apart. */
export interface DumpTool {
  readonly command: string
  readonly flavor: "mariadb" | "mysql"
}

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
export const findDumpTool: Effect.Effect<DumpTool, MigrationError> = Effect.firstSuccessOf(
  tools.map((command) =>
    Effect.map(
      execute(command, ["--version"], {}),
      (version): DumpTool => ({ command, flavor: /MariaDB/i.test(version) ? "mariadb" : "mysql" })
    )
  )
).pipe(
  Effect.mapError(() =>
    failed(`schemaDirectory: writing the schema needs ${tools.join(" or ")} on the PATH, and neither was found`)
  )
)

/** The tool's options, given the directory that holds the PEM files they name. */
export interface ToolArguments {
  readonly files: Readonly<Record<string, string>>
  readonly args: (directory: string) => ReadonlyArray<string>
}

const plaintext = (tool: DumpTool): ToolArguments => ({
  files: {},
  args: () => [tool.flavor === "mariadb" ? "--skip-ssl" : "--ssl-mode=DISABLED"]
})

/**
 * The tool's TLS options for the client's `ssl` over TCP. Under `preferred` the tool does what the
 * client's own connection did (`clientTls`): TLS when the server offered it, else plaintext.
 *
 * MariaDB's tools enforce TLS only while they check the server's certificate: `--ssl` alone goes on
 * in plaintext when the server offers no TLS, so `required` cannot be honoured there and is
 * refused. They check the host name whenever they check the chain, so `verify-ca` is checked as
 * `verify-identity`: stricter, never weaker.
 */
const tlsArguments = (
  tool: DumpTool,
  host: string,
  policy: SslPolicy.SslPolicy,
  clientTls: boolean
): Result.Result<ToolArguments, string> => {
  if (policy.mode === "disabled" || (policy.mode === "preferred" && !clientTls)) return Result.succeed(plaintext(tool))
  const tls = policy.tls
  const refuse = (what: string) => Result.fail(`schemaDirectory: the dump tool (${tool.command}) cannot ${what}`)
  if (tls.fingerprints.length > 0) return refuse("pin certificate fingerprints (ssl.fingerprints)")
  if (tls.passphrase !== undefined) return refuse("decrypt the client key (ssl.passphrase)")
  if (tls.identity !== host) return refuse("check the certificate against another name than the host (ssl.servername)")
  if (tool.flavor === "mariadb" && policy.mode === "required")
    return refuse(
      "require TLS without checking the server's certificate (ssl-mode required): it would go on in plaintext when the server offers no TLS; use verify-ca or verify-identity, or a Unix socket (socketPath)"
    )
  if (tool.flavor === "mariadb" && tls.ciphersuites !== undefined)
    return refuse("choose TLS 1.3 suites (ssl.ciphersuites)")
  const files: Record<string, string> = {}
  if (tls.ca !== undefined) files["--ssl-ca"] = tls.ca.join("\n")
  if (tls.crl !== undefined) files["--ssl-crl"] = tls.crl.join("\n")
  if (tls.cert !== undefined) files["--ssl-cert"] = tls.cert
  if (tls.key !== undefined) files["--ssl-key"] = Redacted.value(tls.key)
  const verify = tls.verifyChain || tls.verifyHostname
  const mode =
    tool.flavor === "mariadb"
      ? ["--ssl", verify ? "--ssl-verify-server-cert" : "--skip-ssl-verify-server-cert"]
      : [`--ssl-mode=${tls.verifyHostname ? "VERIFY_IDENTITY" : tls.verifyChain ? "VERIFY_CA" : "REQUIRED"}`]
  const versions = SslPolicy.tlsVersions.filter(
    (version) =>
      (tls.minVersion === undefined || version >= tls.minVersion) &&
      (tls.maxVersion === undefined || version <= tls.maxVersion)
  )
  return Result.succeed({
    files,
    args: (directory) => [
      ...mode,
      ...Object.keys(files).map((option) => `${option}=${directory}/${option.slice(2)}.pem`),
      ...(versions.length < SslPolicy.tlsVersions.length ? [`--tls-version=${versions.join(",")}`] : []),
      ...(tls.ciphers === undefined ? [] : [`--ssl-cipher=${tls.ciphers}`]),
      ...(tls.ciphersuites === undefined ? [] : [`--tls-ciphersuites=${tls.ciphersuites}`])
    ]
  })
}

/** Where, as whom and how the tool connects: the client's endpoint, account, database and TLS. */
export const toolArguments = (
  tool: DumpTool,
  options: MysqlClientOptions,
  clientTls: boolean
): Result.Result<ToolArguments, string> => {
  if (options.hosts !== undefined)
    return Result.fail("schemaDirectory: the schema dump reaches one server, and the client has a host list")
  const common = [`--user=${options.user ?? ""}`, "--skip-comments", "--compact"]
  // A Unix socket is local: the client sends no TLS over one, and neither does the tool.
  if (options.socketPath !== undefined)
    return Result.succeed({ files: {}, args: () => ["--no-defaults", `--socket=${options.socketPath}`, ...common] })
  const host = options.host ?? "localhost"
  const port = options.port ?? 3306
  const policy = SslPolicy.resolve(options.ssl ?? {}, Endpoint.tcp(host, port))
  if (Result.isFailure(policy)) return Result.fail(policy.failure.message)
  return Result.map(tlsArguments(tool, host, policy.success, clientTls), (tls) => ({
    files: tls.files,
    args: (directory) => [
      "--no-defaults",
      "--protocol=TCP",
      `--host=${host}`,
      `--port=${port}`,
      ...common,
      ...tls.args(directory)
    ]
  }))
}

/**
 * Why the tool cannot dump as the client connects, if it cannot; asked before any migration runs,
 * since effect's migrator only logs a dump that fails after them.
 */
export const dumpProblem = (tool: DumpTool, options: MysqlClientOptions, clientTls: boolean): string | undefined =>
  Result.match(toolArguments(tool, options, clientTls), { onFailure: (problem) => problem, onSuccess: () => undefined })

/** Drops the tools' version-conditional comments, which differ between servers and tools. */
const tidy = (dump: string): string =>
  dump
    .replace(/^\/\*.*$/gm, "")
    .replace(/\n{2,}/gm, "\n\n")
    .trim()

/**
 * A private directory holding the PEM text of each option of `files` (`--ssl-ca` in `ssl-ca.pem`),
 * removed with everything in it when the dump ends.
 */
const pemDirectory = (files: Readonly<Record<string, string>>) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const { mkdtemp, writeFile } = await import("node:fs/promises")
      const { tmpdir } = await import("node:os")
      // mkdtemp makes the directory readable by its owner only; the files are too.
      const directory = await mkdtemp(`${tmpdir()}/effect-mysql-dump-`)
      for (const [option, pem] of Object.entries(files))
        await writeFile(`${directory}/${option.slice(2)}.pem`, pem, { mode: 0o600 })
      return directory
    }),
    (directory) =>
      Effect.promise(async () => {
        const { rm } = await import("node:fs/promises")
        await rm(directory, { recursive: true, force: true })
      })
  )

/** Writes the dump of `options.database` and its `table` of migrations to `path`. */
export const dumpSchema = (
  tool: DumpTool,
  options: MysqlClientOptions,
  clientTls: boolean,
  path: string,
  table: string
): Effect.Effect<void, MigrationError> =>
  Effect.gen(function* () {
    if (options.database === undefined) return yield* failed("schemaDirectory: the client names no database to dump")
    const planned = toolArguments(tool, options, clientTls)
    if (Result.isFailure(planned)) return yield* failed(planned.failure)
    const password = yield* passwordText(options.password, options.user ?? "")
    const env: Record<string, string> = password === "" ? {} : { MYSQL_PWD: password }
    const { files } = planned.success
    const args = planned.success.args(Object.keys(files).length === 0 ? "" : yield* pemDirectory(files))
    const [schema, migrations] = yield* Effect.all(
      [
        execute(tool.command, [...args, "--no-data", options.database], env),
        execute(tool.command, [...args, "--no-create-info", options.database, table], env)
      ],
      { concurrency: 2 }
    )
    const { mkdir, writeFile } = yield* Effect.promise(() => import("node:fs/promises"))
    yield* Effect.tryPromise(async () => {
      await mkdir(path.slice(0, path.lastIndexOf("/")) || ".", { recursive: true })
      await writeFile(path, `${tidy(schema)}\n\n${tidy(migrations)}\n`)
    })
  }).pipe(
    Effect.scoped,
    Effect.mapError((cause) =>
      cause instanceof MigrationError ? cause : failed(`dumping the schema to ${path} failed`, cause)
    )
  )
