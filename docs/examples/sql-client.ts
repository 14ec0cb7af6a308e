// effect/sql: one layer gives a pooled SqlClient over verified TLS, and the sql template sends
// values as parameters of prepared statements.
import { readFileSync } from "node:fs"
import { MysqlClient } from "@effect-mysql/client"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Config, Console, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"

// The options come from the environment, so the layer is made by an Effect that reads them.
const SqlLive = Layer.unwrap(
  Effect.gen(function* () {
    return MysqlClient.layer({
      host: yield* Config.String("MYSQL_HOST"),
      port: yield* Config.Port("MYSQL_PORT").pipe(Config.withDefault(3306)),
      user: yield* Config.String("MYSQL_USER"),
      password: yield* Config.Redacted("MYSQL_PASSWORD"),
      database: yield* Config.String("MYSQL_DATABASE"),
      ssl: { mode: "verify-identity", ca: readFileSync(yield* Config.String("MYSQL_SSL_CA"), "utf8") },
      maxConnections: 5,
      // Optional: the stall check already finds a silently dropped connection; this bounds every wait.
      readTimeout: "30 seconds"
    })
  })
).pipe(Layer.provide(RuntimeTransport.layer))

const program = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // A table of this program's own, dropped when it ends. (A temporary table would not do: each
  // statement may run on another connection of the pool.)
  yield* Effect.acquireRelease(sql`CREATE TABLE example_users (id INT PRIMARY KEY, name VARCHAR(50))`, () =>
    Effect.ignore(sql`DROP TABLE example_users`)
  )
  yield* sql`INSERT INTO example_users ${sql.insert([
    { id: 1, name: "ada" },
    { id: 42, name: "grace" }
  ])}`

  const users = yield* sql<{ id: number; name: string }>`SELECT id, name FROM example_users WHERE id = ${42}`
  for (const user of users) yield* Console.log(`${user.id}: ${user.name}`)
}).pipe(Effect.scoped)

Effect.runPromise(program.pipe(Effect.provide(SqlLive))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
