/**
 * effect-mysql through effect/sql's `SqlClient`, as applications call it: `MysqlClient.layer` with
 * a pool of one connection (the peers use one connection too) and the `sql` template. A statement
 * with a parameter goes as a prepared statement, one without as a text query. Each timed part is
 * one Effect program run once.
 */
import { MysqlClient } from "@effect-mysql/client"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Effect, Layer, ManagedRuntime } from "effect"
import { SqlClient } from "effect/sql"
import { batchRow, chunks, insertValues, type Job } from "../Workload.ts"
import type { Driver, Prepared } from "./Driver.ts"

type Row = ReturnType<typeof batchRow>

/**
 * How `batch-insert` writes its rows: multi-row INSERTs of `batchChunk` rows through `sql.insert`.
 * The one place to change when the client offers a batch API of its own.
 */
const insertMany = (sql: SqlClient.SqlClient, rows: ReadonlyArray<Row>) =>
  Effect.forEach(
    // `chunks` makes no empty chunk.
    chunks(rows) as Array<[Row, ...Array<Row>]>,
    (chunk) => sql`INSERT INTO bench_insert ${sql.insert(chunk)}`,
    { discard: true }
  )

const prepare = async (job: Job): Promise<Prepared> => {
  const { target } = job
  const runtime = ManagedRuntime.make(
    MysqlClient.layer({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database,
      ssl: { mode: "disabled" },
      maxConnections: 1
    }).pipe(Layer.provide(RuntimeTransport.layer))
  )
  const run = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
    runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, f))
  const timed = (f: (sql: SqlClient.SqlClient) => Effect.Effect<number, unknown>): Prepared => ({
    run: () => run(f),
    close: () => runtime.dispose()
  })
  switch (job.workload) {
    case "text":
      return timed((sql) => Effect.map(sql.unsafe(job.sql), (rows) => rows.length))
    case "binary":
      await run((sql) => sql`SELECT * FROM bench_rows WHERE id > ${2 ** 30}`)
      return timed((sql) => Effect.map(sql`SELECT * FROM bench_rows WHERE id > ${0}`, (rows) => rows.length))
    case "select1":
      return timed((sql) =>
        Effect.gen(function* () {
          for (let i = 0; i < job.size; i++) yield* sql`SELECT 1`
          return job.size
        })
      )
    case "insert":
      await run((sql) => sql`TRUNCATE TABLE bench_insert`)
      return timed((sql) =>
        Effect.gen(function* () {
          for (let i = 0; i < job.size; i++) {
            const [a, b, c] = insertValues(i)
            yield* sql`INSERT INTO bench_insert (a, b, c) VALUES (${a}, ${b}, ${c})`
          }
          return job.size
        })
      )
    case "concurrent":
      await run((sql) => sql`SELECT ${0}`)
      return timed((sql) =>
        Effect.map(
          Effect.forEach(
            Array.from({ length: job.size }, (_, i) => i),
            (i) => sql`SELECT ${i}`,
            {
              concurrency: "unbounded"
            }
          ),
          (results) => results.length
        )
      )
    case "batch-insert": {
      await run((sql) => sql`TRUNCATE TABLE bench_insert`)
      const rows = Array.from({ length: job.size }, (_, i) => batchRow(i))
      return timed((sql) => Effect.as(insertMany(sql, rows), rows.length))
    }
    default:
      await runtime.dispose()
      throw new Error(`${job.workload} does not run through SqlClient`)
  }
}

export const driver: Driver = { prepare }
