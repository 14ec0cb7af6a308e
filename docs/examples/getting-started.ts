// The commands of one connection: query, execute, a stream, and several statements in one query.
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
    ssl: { mode: "verify-identity", ca: readFileSync(yield* Config.String("MYSQL_SSL_CA"), "utf8") }
  })

  // Text protocol, one round trip: for SQL without parameters.
  const version = yield* conn.query<{ v: string }>("SELECT VERSION() AS v")
  yield* Console.log(`server ${version.rows[0]?.v}`)

  // A temporary table lives as long as its connection: nothing is left behind.
  yield* conn.query("CREATE TEMPORARY TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50))")

  // DML answers the OK information.
  const insert = yield* conn.execute("INSERT INTO users (name) VALUES (?)", ["ada"])
  yield* Console.log(`inserted ${insert.affectedRows} row with id ${insert.insertId}`)

  // Parameters go as a server-side prepared statement (binary protocol), cached per connection.
  const { rows } = yield* conn.execute<User>("SELECT id, name FROM users WHERE id = ?", [insert.insertId])
  yield* Console.log(`user ${rows[0]?.id} is ${rows[0]?.name}`)

  // A stream reads the socket only as fast as it is pulled.
  yield* conn.query("INSERT INTO users (name) VALUES ('grace'), ('alan')")
  yield* conn.stream<User>("SELECT id, name FROM users WHERE id > ?", [1]).pipe(
    Stream.mapEffect((user) => Console.log(`streamed ${user.name}`)),
    Stream.runDrain
  )

  // Off by default: several statements per query turn an SQL injection into arbitrary statements.
  yield* conn.setMultipleStatements(true)
  const [first, second] = yield* conn.queryAll("SELECT 1 AS a; SELECT 2 AS b")
  yield* Console.log(`a = ${first?.rows[0]?.a}, b = ${second?.rows[0]?.b}`)
}).pipe(
  Effect.scoped, // closing the scope sends COM_QUIT and closes the socket
  Effect.provide(RuntimeTransport.layer)
)

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
