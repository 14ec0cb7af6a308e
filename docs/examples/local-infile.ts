// LOAD DATA LOCAL INFILE reads only the sources the program offers. (The server must allow it
// too: local_infile is ON by default in MariaDB, OFF in MySQL 8.)
import { readFileSync } from "node:fs"
import { LocalInfile, MysqlConnection } from "@effect-mysql/client"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Config, Console, Effect } from "effect"

const program = Effect.gen(function* () {
  const conn = yield* MysqlConnection.connect({
    host: yield* Config.String("MYSQL_HOST"),
    port: yield* Config.Port("MYSQL_PORT").pipe(Config.withDefault(3306)),
    user: yield* Config.String("MYSQL_USER"),
    password: yield* Config.Redacted("MYSQL_PASSWORD"),
    database: yield* Config.String("MYSQL_DATABASE"),
    ssl: { mode: "verify-identity", ca: readFileSync(yield* Config.String("MYSQL_SSL_CA"), "utf8") },
    // The server names the file, and a hostile server can name any: answer only these names.
    localInfile: LocalInfile.fromMap({ "import.csv": "1,ada\n2,grace\n3,alan\n" })
  })
  yield* conn.query("CREATE TEMPORARY TABLE people (id INT PRIMARY KEY, name VARCHAR(50))")
  const load = yield* conn.query("LOAD DATA LOCAL INFILE 'import.csv' INTO TABLE people FIELDS TERMINATED BY ','")
  yield* Console.log(`loaded ${load.affectedRows} rows from import.csv`)

  // Any other name is answered with an empty file (nothing is opened); the connection stays usable.
  yield* conn
    .query("LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE people")
    .pipe(Effect.catchTag("LocalInfileError", (error) => Console.log(`/etc/passwd: ${error.reason}`)))
}).pipe(Effect.scoped, Effect.provide(RuntimeTransport.layer))

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
