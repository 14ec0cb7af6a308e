// verify-ca checks that the server's certificate chains to your CA, not the name in it: for a
// server reached by an address its certificate does not carry (an IP, a load balancer).
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
    // verify-ca needs a CA of your own: the system's public CAs would vouch for any server.
    ssl: { mode: "verify-ca", ca: readFileSync(yield* Config.String("MYSQL_SSL_CA"), "utf8") }
  })
  const verification = conn.info.tls?.verification
  yield* Console.log(
    `${verification?.mode}: chain checked ${verification?.chain}, host name ${verification?.hostname ?? "not checked"}`
  )
}).pipe(Effect.scoped, Effect.provide(RuntimeTransport.layer))

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
