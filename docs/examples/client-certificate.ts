// An account created REQUIRE X509 logs in with a client certificate, over TLS that verifies the
// server's certificate and name.
import { readFileSync } from "node:fs"
import { MysqlConnection } from "@effect-mysql/client"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Config, Console, Effect } from "effect"

const program = Effect.gen(function* () {
  const conn = yield* MysqlConnection.connect({
    host: yield* Config.String("MYSQL_HOST"),
    port: yield* Config.Port("MYSQL_PORT").pipe(Config.withDefault(3306)),
    user: yield* Config.String("MYSQL_USER"),
    password: yield* Config.Redacted("MYSQL_PASSWORD"),
    database: yield* Config.String("MYSQL_DATABASE"),
    ssl: {
      mode: "verify-identity",
      ca: readFileSync(yield* Config.String("MYSQL_SSL_CA"), "utf8"),
      // The client certificate and its key, signed by a CA the server trusts (its ssl_ca).
      cert: readFileSync(yield* Config.String("MYSQL_SSL_CERT"), "utf8"),
      key: readFileSync(yield* Config.String("MYSQL_SSL_KEY"), "utf8")
    }
  })
  const [who] = (yield* conn.query<{ user: string }>("SELECT CURRENT_USER() AS user")).rows
  const [tls] = (yield* conn.query<{ Value: string }>("SHOW SESSION STATUS LIKE 'Ssl_version'")).rows
  yield* Console.log(`logged in as ${who?.user} with a client certificate, ${tls?.Value}`)
}).pipe(Effect.scoped, Effect.provide(RuntimeTransport.layer))

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
