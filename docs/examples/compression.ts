// The compressed protocol inside TLS: MySQL packets → compression → TLS → TCP.
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
    ssl: { mode: "verify-identity", ca: readFileSync(yield* Config.String("MYSQL_SSL_CA"), "utf8") },
    // The first the server offers: zstd on MySQL 8.0.18 and later, zlib on MariaDB.
    compression: { algorithms: ["zstd", "zlib"], zstdLevel: 3 }
  })
  const [status] = (yield* conn.query<{ Value: string }>("SHOW SESSION STATUS LIKE 'Compression'")).rows
  yield* Console.log(`compression: ${conn.info.compression?.algorithm ?? "none"} (the server says ${status?.Value})`)

  const [row] = (yield* conn.query<{ text: string }>("SELECT REPEAT('compressible ', 100000) AS text")).rows
  yield* Console.log(`received ${row?.text.length} characters`)
}).pipe(Effect.scoped, Effect.provide(RuntimeTransport.layer))

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
