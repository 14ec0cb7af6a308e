/** mysql2 (promise API; its callback core for streaming), with its default type mapping. */
import mysqlCore from "mysql2"
import mysql from "mysql2/promise"
import { chunks, concurrentSql, insertSql, insertValues, type Job, type Link, type Target } from "../Workload.ts"
import {
  concurrently,
  consumeSlowly,
  type Driver,
  linkOf,
  type Prepared,
  peerOptions,
  sendsStatements,
  sequentially
} from "./Driver.ts"
import { forward } from "./SshForward.ts"

const options = (target: Target, link: Link): mysql.ConnectionOptions => peerOptions(target, link)

const prepare = async (job: Job): Promise<Prepared> => {
  sendsStatements(job.workload)
  const link = linkOf(job.workload)
  if (job.workload === "connect" || job.workload === "connect-tls" || job.workload === "connect-tls-full") {
    return {
      run: async () => {
        for (let i = 0; i < job.size; i++) await (await mysql.createConnection(options(job.target, link))).end()
        return job.size
      },
      close: async () => {}
    }
  }
  const tunnel = job.target.ssh === undefined ? undefined : await forward(job.target)
  // The callback connection underneath the promise one: its queries can stream.
  const core = mysqlCore.createConnection({
    ...options(job.target, link),
    ...(tunnel === undefined ? {} : { stream: tunnel.stream })
  })
  await new Promise<void>((resolve, reject) => core.connect((error) => (error ? reject(error) : resolve())))
  const conn = core.promise()
  const close = async () => {
    await conn.end()
    tunnel?.close()
  }
  switch (job.workload) {
    case "text":
    case "text-tls":
    case "text-zlib":
    case "replay":
      return { run: async () => ((await conn.query(job.sql))[0] as Array<unknown>).length, close }
    case "binary":
      await conn.execute(job.sql, [2 ** 30])
      return { run: async () => ((await conn.execute(job.sql, [0]))[0] as Array<unknown>).length, close }
    case "select1":
    case "select1-ssh":
      return { run: sequentially(job.size, () => conn.query("SELECT 1")), close }
    case "insert":
      await conn.query("TRUNCATE TABLE bench_insert")
      return { run: sequentially(job.size, (i) => conn.execute(insertSql, insertValues(i))), close }
    case "concurrent":
      await conn.execute(concurrentSql, [0])
      return { run: concurrently(job.size, (i) => conn.execute(concurrentSql, [i])), close }
    case "batch-insert": {
      await conn.query("TRUNCATE TABLE bench_insert")
      const batches = chunks(Array.from({ length: job.size }, (_, i) => insertValues(i)))
      return {
        // mysql2 expands `VALUES ?` with an array of rows into one multi-row INSERT.
        run: async () => {
          let inserted = 0
          for (const rows of batches) {
            const [result] = await conn.query("INSERT INTO bench_insert (a, b, c) VALUES ?", [rows])
            inserted += (result as { affectedRows: number }).affectedRows
          }
          return inserted
        },
        close
      }
    }
    case "stream":
      return {
        run: () => consumeSlowly(core.query(job.sql).stream()),
        close
      }
  }
}

export const driver: Driver = { prepare }
