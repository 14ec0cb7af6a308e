/** mysql2 (promise API; its callback core for streaming), with its default type mapping. */
import mysqlCore from "mysql2"
import mysql from "mysql2/promise"
import { insertSql, insertValues, type Job, type Link, type Target } from "../Workload.ts"
import { consumeSlowly, type Driver, linkOf, type Prepared, peerOptions, sequentially } from "./Driver.ts"

const options = (target: Target, link: Link): mysql.ConnectionOptions => peerOptions(target, link)

const prepare = async (job: Job): Promise<Prepared> => {
  const link = linkOf(job.workload)
  if (job.workload === "connect" || job.workload === "connect-tls") {
    return {
      run: async () => {
        for (let i = 0; i < job.size; i++) await (await mysql.createConnection(options(job.target, link))).end()
        return job.size
      },
      close: async () => {}
    }
  }
  // The callback connection underneath the promise one: its queries can stream.
  const core = mysqlCore.createConnection(options(job.target, link))
  await new Promise<void>((resolve, reject) => core.connect((error) => (error ? reject(error) : resolve())))
  const conn = core.promise()
  const close = () => conn.end()
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
      return { run: sequentially(job.size, () => conn.query("SELECT 1")), close }
    case "insert":
      await conn.query("TRUNCATE TABLE bench_insert")
      return { run: sequentially(job.size, (i) => conn.execute(insertSql, insertValues(i))), close }
    case "stream":
      return {
        run: () => consumeSlowly(core.query(job.sql).stream()),
        close
      }
  }
}

export const driver: Driver = { prepare }
