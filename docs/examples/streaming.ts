// A result streamed through SqlClient in bounded memory, and a stream ended early.
import { readFileSync } from "node:fs"
import { MysqlClient } from "@effect-mysql/client"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Array as Arr, Config, Console, Effect, Layer, Stream } from "effect"
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
  yield* Effect.acquireRelease(sql`CREATE TABLE example_events (id INT PRIMARY KEY, amount INT NOT NULL)`, () =>
    Effect.ignore(sql`DROP TABLE example_events`)
  )
  const events = Arr.makeBy(1000, (i) => ({ id: i + 1, amount: (i % 10) + 1 }))
  yield* sql`INSERT INTO example_events ${sql.insert(events)}`

  // The socket is read only as fast as the stream is pulled: any number of rows, bounded memory.
  const total = yield* sql<{ amount: number }>`SELECT amount FROM example_events`.stream.pipe(
    Stream.runFold(
      () => 0,
      (sum, event) => sum + event.amount
    )
  )
  yield* Console.log(`streamed ${events.length} events, total ${total}`)

  // Ending early stops the statement on the server (KILL QUERY); the connection goes back to the pool.
  const first = yield* sql<{ id: number }>`SELECT id FROM example_events ORDER BY id`.stream.pipe(
    Stream.take(3),
    Stream.runCollect
  )
  yield* Console.log(`first three: ${first.map((event) => event.id).join(", ")}`)
}).pipe(Effect.scoped)

Effect.runPromise(program.pipe(Effect.provide(SqlLive))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
