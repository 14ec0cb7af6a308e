/**
 * effect/sql's migrator on MySQL and MariaDB, as @effect/sql-mysql2's `MysqlMigrator` offers it:
 * `run` applies the loader's pending migrations in order, in one transaction, and records each in
 * `table` (default `effect_sql_migrations`); `layer` does the same while the layer is built. The
 * loaders (`fromRecord`, `fromGlob`, `fromBabelGlob`, `fromFileSystem`) and `MigrationError` are
 * effect's, re-exported.
 *
 * With `schemaDirectory`, once migrations ran, `<schemaDirectory>/_schema.sql` receives the
 * database's tables and the migrations table's rows as `mariadb-dump` or `mysqldump` prints them.
 * Without either tool on the PATH, `run` fails with a `MigrationError` before migrating.
 */
import { Effect, Layer } from "effect"
import * as Migrator from "effect/sql/Migrator"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { type DumpTool, dumpProblem, dumpSchema, findDumpTool } from "./internal/SchemaDump.ts"
import { MysqlClient, resolveOptions } from "./MysqlClient.ts"

export * from "effect/sql/Migrator"
export { fromFileSystem } from "effect/sql/MigratorFileSystem"

/** The MysqlClient's options, and whether its own connection negotiated TLS. */
const clientConnection = Effect.gen(function* () {
  const client = yield* Effect.serviceOption(MysqlClient)
  if (client._tag === "None")
    return yield* new Migrator.MigrationError({
      kind: "Failed",
      message: "schemaDirectory: the schema is dumped with the MysqlClient's options, and none is provided"
    })
  const options = yield* Effect.mapError(
    resolveOptions(client.value.config),
    (cause) => new Migrator.MigrationError({ kind: "Failed", message: cause.message, cause })
  )
  // Under ssl-mode preferred the tool does what the client did: TLS when the server offered it.
  // As arrays: the client's transformResultNames would rename the column.
  const [cipher] = yield* Effect.mapError(
    client.value`SHOW SESSION STATUS LIKE 'Ssl_cipher'`.values,
    (cause) => new Migrator.MigrationError({ kind: "Failed", message: cause.message, cause })
  )
  return { options, tls: (cipher?.[1] ?? "") !== "" }
})

const dumpWith = (tool: DumpTool) => (path: string, table: string) =>
  Effect.flatMap(clientConnection, ({ options, tls }) => dumpSchema(tool, options, tls, path, table))

/**
 * Refuses a dump the client's options rule out before any migration runs: effect's migrator only
 * logs a dump that fails after them.
 */
const dumpable = (tool: DumpTool) =>
  Effect.flatMap(clientConnection, ({ options, tls }) => {
    const problem = dumpProblem(tool, options, tls)
    return problem === undefined ? Effect.void : new Migrator.MigrationError({ kind: "Failed", message: problem })
  })

const withoutDump = Migrator.make({})

/** Runs the pending migrations; answers the id and name of each that ran. */
export const run = <R2 = never>(
  options: Migrator.MigratorOptions<R2>
): Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  Migrator.MigrationError | SqlError,
  SqlClient | R2
> =>
  options.schemaDirectory === undefined
    ? withoutDump(options)
    : Effect.flatMap(findDumpTool, (tool) =>
        Effect.andThen(dumpable(tool), Migrator.make({ dumpSchema: dumpWith(tool) })(options))
      )

/** A layer that runs the pending migrations while it is built, and provides nothing. */
export const layer = <R>(
  options: Migrator.MigratorOptions<R>
): Layer.Layer<never, Migrator.MigrationError | SqlError, SqlClient | R> => Layer.effectDiscard(run(options))
