// MysqlMigrator against the run's server: migrations run once and are recorded, a second run does
// nothing, and schemaDirectory receives the schema or is refused when no dump tool is there.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import process from "node:process"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { MysqlMigrator } from "../src/index.ts"
import { clientLayer, target, verifyIdentity } from "./support.ts"

const Live = clientLayer("plain")

const loader = MysqlMigrator.fromRecord({
  "1_create_people": Effect.andThen(
    SqlClient.SqlClient,
    (sql) => sql`CREATE TABLE migrator_people (id INT PRIMARY KEY, name VARCHAR(40))`
  ),
  "2_seed_people": Effect.andThen(SqlClient.SqlClient, (sql) => sql`INSERT INTO migrator_people VALUES (1, 'ada')`)
})

/** A clean slate for one test: its migrations table and the table the migrations make. */
const fresh = (table: string) =>
  Effect.acquireRelease(
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.as(sql.unsafe(`DROP TABLE IF EXISTS ${table}, migrator_people`), sql)
    ),
    (sql) => Effect.ignore(sql.unsafe(`DROP TABLE IF EXISTS ${table}, migrator_people`))
  )

const tempDirectory = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "migrator-"))),
  (directory) => Effect.promise(() => rm(directory, { recursive: true, force: true }))
)

describe("MysqlMigrator", () => {
  it.effect("runs migrations from a record once, recorded in the migrations table", () =>
    Effect.gen(function* () {
      const sql = yield* fresh("migrator_runs")
      const first = yield* MysqlMigrator.run({ loader, table: "migrator_runs" })
      assert.deepStrictEqual(first, [
        [1, "create_people"],
        [2, "seed_people"]
      ])
      const recorded = yield* sql`SELECT migration_id, name FROM migrator_runs ORDER BY migration_id`
      assert.deepStrictEqual(recorded, [
        { migration_id: 1, name: "create_people" },
        { migration_id: 2, name: "seed_people" }
      ])
      assert.deepStrictEqual(yield* MysqlMigrator.run({ loader, table: "migrator_runs" }), [])
      assert.deepStrictEqual(yield* sql`SELECT id, name FROM migrator_people`, [{ id: 1, name: "ada" }])
    }).pipe(Effect.scoped, Effect.provide(Live))
  )

  it.effect("as a layer, runs them while it is built", () =>
    Effect.gen(function* () {
      const sql = yield* fresh("migrator_layer")
      yield* Effect.provide(Effect.void, MysqlMigrator.layer({ loader, table: "migrator_layer" }))
      const [row] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM migrator_layer`
      assert.strictEqual(Number(row!.n), 2)
    }).pipe(Effect.scoped, Effect.provide(Live))
  )

  it.effect("writes the schema and the migrations to schemaDirectory/_schema.sql", () =>
    Effect.gen(function* () {
      yield* fresh("migrator_dumped")
      const directory = yield* tempDirectory
      const schemaDirectory = join(directory, "schema")
      yield* MysqlMigrator.run({ loader, table: "migrator_dumped", schemaDirectory })
      const dump = yield* Effect.promise(() => readFile(join(schemaDirectory, "_schema.sql"), "utf8"))
      assert.match(dump, /CREATE TABLE `migrator_people`/)
      assert.match(dump, /INSERT INTO `migrator_dumped` VALUES\s*\(1,'[^']*','create_people'\)/)
      assert.notInclude(dump, "/*!")
    }).pipe(Effect.scoped, Effect.provide(Live))
  )

  it.effect("refuses schemaDirectory before migrating when no dump tool is on the PATH", () =>
    Effect.gen(function* () {
      const sql = yield* fresh("migrator_refused")
      const directory = yield* tempDirectory
      const path = process.env.PATH
      process.env.PATH = directory
      const error = yield* Effect.flip(
        MysqlMigrator.run({ loader, table: "migrator_refused", schemaDirectory: directory })
      ).pipe(Effect.ensuring(Effect.sync(() => (process.env.PATH = path))))
      assert.strictEqual(error._tag, "MigrationError")
      assert.include(error.message, "mysqldump")
      const [row] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM information_schema.TABLES
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('migrator_refused', 'migrator_people')`
      assert.strictEqual(Number(row!.n), 0)
    }).pipe(Effect.scoped, Effect.provide(Live))
  )

  // The run's server offers TLS; tls_only requires it and x509_user a client certificate, so a dump
  // that goes in plaintext or without the certificate is refused by the server.
  const dumps = [
    ["ssl-mode preferred: TLS, as the client's own connection", "tlsOnly", {}],
    ["verify-identity with the client's CA", "tlsOnly", { ssl: verifyIdentity }],
    ["a client certificate", "x509", { ssl: { ...verifyIdentity, cert: target.tls.cert.pem, key: target.tls.key.pem } }]
  ] as const
  for (const [name, account, options] of dumps) {
    it.effect(`the dump tool connects as the client does: ${name}`, () =>
      Effect.gen(function* () {
        yield* fresh("migrator_tls")
        const directory = yield* tempDirectory
        yield* MysqlMigrator.run({ loader, table: "migrator_tls", schemaDirectory: directory })
        const dump = yield* Effect.promise(() => readFile(join(directory, "_schema.sql"), "utf8"))
        assert.match(dump, /INSERT INTO `migrator_tls` VALUES\s*\(1,'[^']*','create_people'\)/)
        // The PEM files lived in a directory of the run's own, removed with it.
        const left = yield* Effect.promise(() => readdir(tmpdir()))
        assert.isFalse(left.some((entry) => entry.startsWith("effect-mysql-dump-")))
      }).pipe(Effect.scoped, Effect.provide(clientLayer(account, options)))
    )
  }

  // The other refusals are in SchemaDump.test.ts.
  it.effect("refuses schemaDirectory before migrating for TLS the dump tool cannot honour: ssl-mode required", () =>
    Effect.gen(function* () {
      const sql = yield* fresh("migrator_tls")
      const directory = yield* tempDirectory
      const error = yield* Effect.flip(MysqlMigrator.run({ loader, table: "migrator_tls", schemaDirectory: directory }))
      assert.strictEqual(error._tag, "MigrationError")
      // Debian's mysqldump is MariaDB's tool, which goes on in plaintext when the server offers no TLS.
      assert.include(error.message, "ssl-mode required")
      const [row] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM information_schema.TABLES
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('migrator_tls', 'migrator_people')`
      assert.strictEqual(Number(row!.n), 0)
    }).pipe(Effect.scoped, Effect.provide(clientLayer("plain", { ssl: { mode: "required" } })))
  )
})
