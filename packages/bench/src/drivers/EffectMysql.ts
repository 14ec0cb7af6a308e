/**
 * effect-mysql called directly (`MysqlConnection`, no pool, no effect/sql), written as an Effect
 * user would: each timed part is one Effect program run once (a loop of 5,000 `SELECT 1` is one
 * program, not 5,000 `runPromise` calls). The transport layer is the one of the runtime the
 * worker runs on.
 */
import { type ConnectionOptions, MysqlConnection } from "@effect-mysql/client"
import { SshTunnel } from "@effect-mysql/ssh"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Effect, Exit, Layer, ManagedRuntime, Scope, Stream } from "effect"
import {
  concurrentSql,
  insertSql,
  insertValues,
  type Job,
  type Link,
  slowEvery,
  slowPauseMs,
  type Target
} from "../Workload.ts"
import { type Driver, linkOf, type Prepared, sendsStatements } from "./Driver.ts"

const runtime = ManagedRuntime.make(RuntimeTransport.layer)

/** `sessionReuse: false` makes every TLS connect a full handshake (`connect-tls-full`). */
const options = (target: Target, link: Link, sessionReuse = true): ConnectionOptions.ConnectionOptions => ({
  host: target.host,
  port: target.port,
  user: target.user,
  password: target.password,
  database: target.database,
  ssl: link === "tls" ? { mode: "verify-identity", ca: target.ca, sessionReuse } : { mode: "disabled" },
  ...(link === "zlib" ? { compression: { algorithms: ["zlib"] } } : {})
})

/** A connection, through an SSH tunnel of its own when the target names one. */
const connect = (target: Target, connectOptions: ConnectionOptions.ConnectionOptions) =>
  Effect.gen(function* () {
    if (target.ssh === undefined) return yield* MysqlConnection.connect(connectOptions)
    const { host, port, user, privateKey, fingerprint } = target.ssh
    // Built in the connection's scope: the tunnel lives as long as the connection.
    const tunnel = yield* Layer.build(
      SshTunnel.layer({ host, port, user, privateKey, hostKeys: [fingerprint] }).pipe(
        Layer.provide(RuntimeTransport.layer)
      )
    )
    return yield* MysqlConnection.connect(connectOptions).pipe(Effect.provide(tunnel))
  })

const prepare = async (job: Job): Promise<Prepared> => {
  sendsStatements(job.workload)
  const link = linkOf(job.workload)
  const connectOptions = options(job.target, link, job.workload !== "connect-tls-full")
  if (job.workload === "connect" || job.workload === "connect-tls" || job.workload === "connect-tls-full") {
    const connects = Effect.gen(function* () {
      for (let i = 0; i < job.size; i++) yield* Effect.scoped(MysqlConnection.connect(connectOptions))
      return job.size
    })
    return { run: () => runtime.runPromise(connects), close: async () => {} }
  }
  if (job.workload === "batch-insert") throw new Error("batch-insert runs through SqlClient only")
  const scope = await runtime.runPromise(Scope.make())
  const conn = await runtime.runPromise(Scope.provide(connect(job.target, connectOptions), scope))
  const close = () => runtime.runPromise(Scope.close(scope, Exit.void))
  const timed = (program: Effect.Effect<number, unknown, never>): Prepared => ({
    run: () => runtime.runPromise(program),
    close
  })
  switch (job.workload) {
    case "text":
    case "text-tls":
    case "text-zlib":
    case "replay":
      return timed(Effect.map(conn.query(job.sql), (result) => result.rows.length))
    case "binary":
      await runtime.runPromise(conn.execute(job.sql, [2 ** 30]))
      return timed(Effect.map(conn.execute(job.sql, [0]), (result) => result.rows.length))
    case "select1":
    case "select1-ssh":
      return timed(
        Effect.gen(function* () {
          for (let i = 0; i < job.size; i++) yield* conn.query("SELECT 1")
          return job.size
        })
      )
    case "insert":
      await runtime.runPromise(conn.query("TRUNCATE TABLE bench_insert"))
      return timed(
        Effect.gen(function* () {
          for (let i = 0; i < job.size; i++) yield* conn.execute(insertSql, insertValues(i))
          return job.size
        })
      )
    case "concurrent":
      await runtime.runPromise(conn.execute(concurrentSql, [0]))
      return timed(
        Effect.map(
          Effect.forEach(
            Array.from({ length: job.size }, (_, i) => i),
            (i) => conn.execute(concurrentSql, [i]),
            {
              concurrency: "unbounded"
            }
          ),
          (results) => results.length
        )
      )
    case "stream":
      return timed(
        Effect.suspend(() => {
          let n = 0
          let nextPause = slowEvery
          return Effect.map(
            Stream.runForEachArray(conn.stream(job.sql), (rows) => {
              n += rows.length
              if (n < nextPause) return Effect.void
              nextPause = (Math.floor(n / slowEvery) + 1) * slowEvery
              return Effect.sleep(slowPauseMs)
            }),
            () => n
          )
        })
      )
  }
}

export const driver: Driver = { prepare }
