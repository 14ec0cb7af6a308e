// The whole configuration from the environment, through effect's Config: MYSQL_URL
// (mysql://user:password@host:port/database?ssl-mode=VERIFY_IDENTITY&ssl-ca=/path/ca.pem) and/or
// MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD, MYSQL_DATABASE, and every URL parameter as
// MYSQL_ + its name (MYSQL_SSL_MODE, MYSQL_SSL_CA, …); a variable wins over the URL.
import { MysqlClient } from "@effect-mysql/client"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Console, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"

const SqlLive = MysqlClient.layerConfig().pipe(Layer.provide(RuntimeTransport.layer))

const program = Effect.gen(function* () {
  const client = yield* MysqlClient.MysqlClient
  const sql = yield* SqlClient.SqlClient
  const [who] = yield* sql<{ user: string }>`SELECT CURRENT_USER() AS user`
  const [tls] = yield* sql<{ Value: string }>`SHOW SESSION STATUS LIKE 'Ssl_version'`
  yield* Console.log(`${client.server.flavor} ${client.server.version}: ${who?.user} with ${tls?.Value}`)
})

Effect.runPromise(program.pipe(Effect.provide(SqlLive))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
