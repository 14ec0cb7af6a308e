// Change data capture: follows a database's binlog over verify-identity TLS, prints each change,
// and stores the position of every Commit in a file; started again, it goes on from there, with
// no change lost and none repeated. CDC_MAX_COMMITS (optional) ends it after that many transactions.
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { Replication } from "@effect-mysql/replication"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Config, Console, Effect, Option, Stream } from "effect"

// Rows hold bigints (BIGINT columns), which JSON.stringify refuses on its own.
const show = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v))

const program = Effect.gen(function* () {
  const positionFile = yield* Config.String("CDC_POSITION_FILE").pipe(Config.withDefault("cdc-position.json"))
  const maxCommits = yield* Config.Int("CDC_MAX_COMMITS").pipe(Config.option)
  // The position stored by the last run, or only the changes from now on.
  const from: Replication.StartFrom = existsSync(positionFile) ? JSON.parse(readFileSync(positionFile, "utf8")) : "now"
  let commits = 0
  yield* Replication.stream({
    host: yield* Config.String("MYSQL_HOST"),
    port: yield* Config.Port("MYSQL_PORT").pipe(Config.withDefault(3306)),
    user: yield* Config.String("MYSQL_USER"),
    password: yield* Config.Redacted("MYSQL_PASSWORD"),
    ssl: { mode: "verify-identity", ca: readFileSync(yield* Config.String("MYSQL_SSL_CA"), "utf8") },
    serverId: 4242,
    from,
    heartbeat: "5 seconds"
  }).pipe(
    Stream.tap((change) => {
      switch (change._tag) {
        case "RowsInserted":
        case "RowsDeleted":
          return Console.log(`${change.table}: ${change._tag === "RowsInserted" ? "+" : "-"} ${show(change.rows)}`)
        case "RowsUpdated":
          return Console.log(`${change.table}: ~ ${show(change.rows.map((row) => row.after))}`)
        case "SchemaChange":
          return Console.log(`schema: ${change.query}`)
        case "Commit":
          // Handled: from here on, a restart starts after this transaction.
          commits++
          return Effect.sync(() => writeFileSync(positionFile, JSON.stringify(change.position)))
        case "Rotate":
          return Effect.void
      }
    }),
    Stream.takeUntil((change) => change._tag === "Commit" && Option.exists(maxCommits, (max) => commits >= max)),
    Stream.runDrain
  )
})

Effect.runPromise(program.pipe(Effect.provide(RuntimeTransport.layer))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
