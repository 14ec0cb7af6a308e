// The pool without effect/sql, for code that wants MysqlConnections.
import { readFileSync } from "node:fs"
import { MysqlPool } from "@effect-mysql/client"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Config, Console, Effect } from "effect"

const program = Effect.gen(function* () {
  const pool = yield* MysqlPool.make(
    {
      host: yield* Config.String("MYSQL_HOST"),
      port: yield* Config.Port("MYSQL_PORT").pipe(Config.withDefault(3306)),
      user: yield* Config.String("MYSQL_USER"),
      password: yield* Config.Redacted("MYSQL_PASSWORD"),
      database: yield* Config.String("MYSQL_DATABASE"),
      ssl: { mode: "verify-identity", ca: readFileSync(yield* Config.String("MYSQL_SSL_CA"), "utf8") }
    },
    { maxConnections: 2 }
  )
  // Each borrower holds a connection for its own scope: five borrowers share two connections.
  const answers = yield* Effect.forEach(
    [1, 2, 3, 4, 5],
    (n) => Effect.scoped(Effect.flatMap(pool.get, (conn) => conn.execute<{ n: number }>("SELECT ? * 10 AS n", [n]))),
    { concurrency: "unbounded" }
  )
  const stats = yield* pool.stats
  yield* Console.log(`answers ${answers.map((result) => result.rows[0]?.n).join(", ")}`)
  yield* Console.log(`on ${stats.opened} connections (at most ${stats.max}), ${stats.borrowed} still borrowed`)
}).pipe(
  Effect.scoped, // closing the scope closes the pool
  Effect.provide(RuntimeTransport.layer)
)

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
