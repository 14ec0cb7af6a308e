// One connection with verified TLS, a prepared statement with a parameter, and a streamed result.
import { readFileSync } from "node:fs"
import { MysqlConnection } from "@effect-mysql/client"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Config, Console, Effect, Stream } from "effect"

interface User {
  readonly id: number
  readonly name: string
}

const program = Effect.gen(function* () {
  const conn = yield* MysqlConnection.connect({
    host: yield* Config.String("MYSQL_HOST"),
    port: yield* Config.Port("MYSQL_PORT").pipe(Config.withDefault(3306)),
    user: yield* Config.String("MYSQL_USER"),
    password: yield* Config.Redacted("MYSQL_PASSWORD"),
    database: yield* Config.String("MYSQL_DATABASE"),
    // The server's certificate must chain to this CA and name MYSQL_HOST.
    ssl: { mode: "verify-identity", ca: readFileSync(yield* Config.String("MYSQL_SSL_CA"), "utf8") }
  })
  const tls = yield* conn.query<{ Value: string }>("SHOW SESSION STATUS LIKE 'Ssl_version'")
  yield* Console.log(`connected to ${conn.info.flavor} ${conn.info.serverVersion} with ${tls.rows[0]?.Value}`)

  // A temporary table lives as long as its connection: nothing is left behind.
  yield* conn.query("CREATE TEMPORARY TABLE users (id INT PRIMARY KEY, name VARCHAR(50))")
  yield* conn.query("INSERT INTO users VALUES (1, 'ada'), (42, 'grace'), (7, 'alan')")

  // With parameters, a statement goes as a server-side prepared statement.
  const { rows } = yield* conn.execute<User>("SELECT id, name FROM users WHERE id = ?", [42])
  yield* Console.log(`user 42 is ${rows[0]?.name}`)

  // The socket is read only as fast as the stream is pulled.
  yield* conn
    .stream<User>("SELECT id, name FROM users ORDER BY id")
    .pipe(Stream.runForEach((user) => Console.log(`${user.id}: ${user.name}`)))
}).pipe(
  Effect.scoped, // closing the scope closes the connection
  Effect.provide(RuntimeTransport.layer) // the sockets and TLS of Node, Deno or Bun, whichever runs this
)

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
