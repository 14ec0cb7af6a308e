// A transaction, a nested one (a savepoint) whose failure undoes only its own work, a typed error
// caught by its reason, and a read-only transaction.
import { readFileSync } from "node:fs"
import { MysqlClient } from "@effect-mysql/client"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Config, Console, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"

const SqlLive = Layer.unwrap(
  Effect.gen(function* () {
    return MysqlClient.layer({
      host: yield* Config.String("MYSQL_HOST"),
      port: yield* Config.Port("MYSQL_PORT").pipe(Config.withDefault(3306)),
      user: yield* Config.String("MYSQL_USER"),
      password: yield* Config.Redacted("MYSQL_PASSWORD"),
      database: yield* Config.String("MYSQL_DATABASE"),
      ssl: { mode: "verify-identity", ca: readFileSync(yield* Config.String("MYSQL_SSL_CA"), "utf8") }
    })
  })
).pipe(Layer.provide(RuntimeTransport.layer))

const program = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // A table of this program's own (the pool's connections all see it), dropped when it ends.
  yield* Effect.acquireRelease(
    sql`CREATE TABLE example_orders (id INT PRIMARY KEY, item VARCHAR(50) NOT NULL, UNIQUE KEY item_key (item))`,
    () => Effect.ignore(sql`DROP TABLE example_orders`)
  )

  yield* sql.withTransaction(
    Effect.gen(function* () {
      yield* sql`INSERT INTO example_orders ${sql.insert({ id: 1, item: "tea" })}`
      // A nested transaction is a savepoint: its failure undoes only its own work.
      const more = sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`INSERT INTO example_orders ${sql.insert({ id: 2, item: "cake" })}`
          yield* sql`INSERT INTO example_orders ${sql.insert({ id: 3, item: "tea" })}` // tea again: refused
        })
      )
      yield* Effect.catchReason(more, "SqlError", "UniqueViolation", (violation) =>
        Console.log(`savepoint rolled back: duplicate in ${violation.constraint}`)
      )
    })
  )
  const orders = yield* sql<{ id: number; item: string }>`SELECT id, item FROM example_orders ORDER BY id`
  yield* Console.log(`committed: ${orders.map((order) => order.item).join(", ")}`)

  // A transaction that begins with something else than BEGIN.
  const [count] = yield* sql
    .withTransaction(sql<{ n: number }>`SELECT COUNT(*) AS n FROM example_orders`)
    .pipe(Effect.provideService(SqlClient.BeginTransaction, "START TRANSACTION READ ONLY"))
  yield* Console.log(`read-only transaction counted ${count?.n} order`)
}).pipe(Effect.scoped)

Effect.runPromise(program.pipe(Effect.provide(SqlLive))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
