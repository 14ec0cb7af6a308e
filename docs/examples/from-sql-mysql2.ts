// A program written for @effect/sql-mysql2, moved to effect-mysql: the import changed, and the
// layer is given the runtime's transport. The config object, the migrator and the queries did not.
import { MysqlClient, MysqlMigrator } from "@effect-mysql/client" // was "@effect/sql-mysql2"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Config, Console, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"

const SqlLive = MysqlClient.layerConfig({ url: Config.Redacted("DATABASE_URL") }).pipe(
  Layer.provide(RuntimeTransport.layer) // the one line sql-mysql2 did not need
)

const MigratorLive = MysqlMigrator.layer({
  loader: MysqlMigrator.fromRecord({
    "1_create_users": Effect.flatMap(
      SqlClient.SqlClient,
      (sql) => sql`CREATE TABLE example_people (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50))`
    )
  }),
  table: "example_migrations"
})

const program = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`INSERT INTO example_people ${sql.insert([{ name: "ada" }, { name: "grace" }])}`
  const people = yield* sql<{ id: number; name: string }>`SELECT id, name FROM example_people WHERE id > ${1}`
  for (const person of people) yield* Console.log(`${person.id}: ${person.name}`)
  yield* sql`DROP TABLE example_people, example_migrations`
})

Effect.runPromise(program.pipe(Effect.provide(MigratorLive.pipe(Layer.provideMerge(SqlLive))))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
