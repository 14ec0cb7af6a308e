/**
 * What the worker needs of a driver: for a job, set up what is not timed (a connection, a warm
 * prepared statement, an empty insert table) and hand back the timed part.
 */
import {
  isReplication,
  type Job,
  type Link,
  type ReplicationWorkload,
  slowEvery,
  slowPauseMs,
  type Target,
  type WorkloadName
} from "../Workload.ts"

export interface Prepared {
  /** The timed part; answers the number of rows (or statements, or connections) it handled. */
  readonly run: () => Promise<number>
  /** For a replication workload: the row events the row changes came in, once `run` is over. */
  readonly rowEvents?: () => number
  readonly close: () => Promise<void>
}

export interface Driver {
  readonly prepare: (job: Job) => Promise<Prepared>
}

/** The statement drivers take every workload but the replication ones. */
export const sendsStatements: (
  workload: WorkloadName
) => asserts workload is Exclude<WorkloadName, ReplicationWorkload> = (workload) => {
  if (isReplication(workload)) throw new Error(`${workload} is read by the replication drivers`)
}

export const linkOf = (workload: WorkloadName): Link =>
  workload === "text-tls" || workload === "connect-tls" || workload === "connect-tls-full"
    ? "tls"
    : workload === "text-zlib"
      ? "zlib"
      : "plain"

/** Connection options the two peers spell alike: TLS trusting the test CA, or their zlib compression. */
export const peerOptions = (target: Target, link: Link) => ({
  host: target.host,
  port: target.port,
  user: target.user,
  password: target.password,
  database: target.database,
  ...(link === "tls" ? { ssl: { ca: target.ca } } : {}),
  ...(link === "zlib" ? { compress: true } : {})
})

/** The timed part of `select1` and `insert` for a promise driver: `times` statements in a row. */
export const sequentially =
  (times: number, statement: (i: number) => Promise<unknown>) => async (): Promise<number> => {
    for (let i = 0; i < times; i++) await statement(i)
    return times
  }

/** The timed part of `concurrent` for a promise driver: `times` statements issued at once. */
export const concurrently = (times: number, statement: (i: number) => Promise<unknown>) => async (): Promise<number> =>
  (await Promise.all(Array.from({ length: times }, (_, i) => statement(i)))).length

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The slow consumer of `stream`, for drivers whose streams are async iterables. */
export const consumeSlowly = async (rows: AsyncIterable<unknown>): Promise<number> => {
  let n = 0
  for await (const _ of rows) {
    n++
    if (n % slowEvery === 0) await sleep(slowPauseMs)
  }
  return n
}
