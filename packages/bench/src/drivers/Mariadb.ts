/** The mariadb connector (promise API), with its default type mapping. */
import mariadb, { type ConnectionConfig, type StreamCallback, type UpsertResult } from "mariadb"
import { concurrentSql, insertSql, insertValues, type Job, type Link, type Target } from "../Workload.ts"
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

// The connector's default connect deadline (1 s) is too short under valgrind (`--instructions`);
// the deadline changes nothing else.
const options = (target: Target, link: Link): ConnectionConfig => ({
  ...peerOptions(target, link),
  connectTimeout: 30_000
})

/** A batch answers one result, or one per packet it sent. */
const affectedRows = (result: UpsertResult | Array<UpsertResult>) =>
  Array.isArray(result) ? result.reduce((sum, r) => sum + r.affectedRows, 0) : result.affectedRows

const prepare = async (job: Job): Promise<Prepared> => {
  sendsStatements(job.workload)
  const link = linkOf(job.workload)
  if (job.workload === "connect" || job.workload === "connect-tls" || job.workload === "connect-tls-full") {
    return {
      run: async () => {
        for (let i = 0; i < job.size; i++) await (await mariadb.createConnection(options(job.target, link))).end()
        return job.size
      },
      close: async () => {}
    }
  }
  const tunnel = job.target.ssh === undefined ? undefined : await forward(job.target)
  const conn = await mariadb.createConnection({
    ...options(job.target, link),
    ...(tunnel === undefined
      ? {}
      : {
          // The connector unref()s its socket when the connection ends; an ssh2 channel has no such method.
          stream: (callback: StreamCallback) => callback(undefined, Object.assign(tunnel.stream, { unref: () => {} }))
        })
  })
  const close = async () => {
    await conn.end()
    tunnel?.close()
  }
  switch (job.workload) {
    case "text":
    case "text-tls":
    case "text-zlib":
    case "replay":
      return { run: async () => (await conn.query<Array<unknown>>(job.sql)).length, close }
    case "binary":
      await conn.execute(job.sql, [2 ** 30])
      return { run: async () => (await conn.execute<Array<unknown>>(job.sql, [0])).length, close }
    case "select1":
    case "select1-ssh":
      return { run: sequentially(job.size, () => conn.query("SELECT 1")), close }
    case "insert":
      await conn.query("TRUNCATE TABLE bench_insert")
      return { run: sequentially(job.size, (i) => conn.execute(insertSql, insertValues(i))), close }
    case "concurrent":
      // The connector pipelines prepared statements issued while earlier ones are under way.
      await conn.execute(concurrentSql, [0])
      return { run: concurrently(job.size, (i) => conn.execute(concurrentSql, [i])), close }
    case "batch-insert": {
      await conn.query("TRUNCATE TABLE bench_insert")
      const rows = Array.from({ length: job.size }, (_, i) => insertValues(i))
      // One call: the connector splits the rows into COM_STMT_BULK_EXECUTE packets itself.
      return { run: async () => affectedRows(await conn.batch(insertSql, rows)), close }
    }
    case "stream":
      return { run: () => consumeSlowly(conn.queryStream(job.sql)), close }
  }
}

export const driver: Driver = { prepare }
