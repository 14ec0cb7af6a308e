/**
 * A worker process: one driver, one process, so that `process.cpuUsage()` is that driver's CPU
 * time alone. It reads jobs as JSON lines on stdin and answers each with one JSON line on stdout.
 *
 *   node packages/bench/src/worker.ts connection|sqlclient|mysql2|mariadb|plain-js|zongji|replication
 *   deno run -A packages/bench/src/worker.ts connection|sqlclient
 *   bun packages/bench/src/worker.ts connection|sqlclient
 */
import * as Readline from "node:readline"
import * as V8 from "node:v8"
import type { Driver } from "./drivers/Driver.ts"
import type { Job, Measurement, WorkerReply } from "./Workload.ts"

const loadDriver = async (name: string | undefined): Promise<Driver> => {
  switch (name) {
    case "connection":
      return (await import("./drivers/EffectMysql.ts")).driver
    case "sqlclient":
      return (await import("./drivers/EffectSqlClient.ts")).driver
    case "plain-js":
      return (await import("./drivers/PlainJs.ts")).driver
    case "mysql2":
      return (await import("./drivers/Mysql2.ts")).driver
    case "mariadb":
      return (await import("./drivers/Mariadb.ts")).driver
    case "zongji":
      return (await import("./drivers/Zongji.ts")).driver
    case "replication":
      return (await import("./drivers/EffectMysqlReplication.ts")).driver
    default:
      throw new Error(`unknown driver ${name}`)
  }
}

/** Samples the resident set while `run` goes on; the largest growth over the start, in MB. */
const withRssSampling = async (run: () => Promise<number>) => {
  const start = process.memoryUsage.rss()
  let peak = start
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 10)
  try {
    const rows = await run()
    peak = Math.max(peak, process.memoryUsage.rss())
    return { rows, peakRssGrowthMb: (peak - start) / 2 ** 20 }
  } finally {
    clearInterval(timer)
  }
}

const isBun = "Bun" in globalThis

/**
 * The bytes `run` allocates on the JavaScript heap: the used heap's growth plus what every
 * collection in between freed. Collected first, so that earlier garbage is not counted. Bun's
 * `GCProfiler` reports a few of its collections only (its counts come out several times below
 * Node's and Deno's for the same code), so Bun answers no count.
 */
const withAllocationCount = async (run: () => Promise<number>) => {
  if (isBun) return { rows: await run() }
  collectGarbage()
  const profiler = new V8.GCProfiler()
  const before = V8.getHeapStatistics().used_heap_size
  profiler.start()
  const rows = await run()
  const after = V8.getHeapStatistics().used_heap_size
  let freed = 0
  for (const { beforeGC, afterGC } of profiler.stop().statistics) {
    // The profile spells the heap statistics in camel case, unlike `getHeapStatistics`.
    freed += usedHeap(beforeGC.heapStatistics) - usedHeap(afterGC.heapStatistics)
  }
  return { rows, allocatedBytes: after - before + freed }
}

const usedHeap = (statistics: object) => (statistics as { usedHeapSize: number }).usedHeapSize

/** A full collection: `gc`, exposed by `--expose-gc`. */
const collectGarbage = () => {
  const { gc } = globalThis as { gc?: () => void }
  if (gc === undefined) throw new Error("the allocation count needs --expose-gc")
  gc()
}

const measure = async (driver: Driver, job: Job): Promise<Measurement> => {
  const prepared = await driver.prepare(job)
  try {
    if (job.allocation === true) {
      return { wallMs: 0, cpuUserMs: 0, cpuSystemMs: 0, ...(await withAllocationCount(prepared.run)) }
    }
    const cpu = process.cpuUsage()
    const t0 = performance.now()
    const outcome = job.workload === "stream" ? await withRssSampling(prepared.run) : { rows: await prepared.run() }
    const wallMs = performance.now() - t0
    const used = process.cpuUsage(cpu)
    const events = prepared.rowEvents === undefined ? {} : { rowEvents: prepared.rowEvents() }
    return { wallMs, cpuUserMs: used.user / 1000, cpuSystemMs: used.system / 1000, ...outcome, ...events }
  } finally {
    await prepared.close()
  }
}

const driver = await loadDriver(process.argv[2])
const reply = (message: WorkerReply) => process.stdout.write(`${JSON.stringify(message)}\n`)
reply({ ready: true })
for await (const line of Readline.createInterface({ input: process.stdin })) {
  if (line.trim() === "") continue
  try {
    reply({ ok: await measure(driver, JSON.parse(line) as Job) })
  } catch (error) {
    reply({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  }
}
process.exit(0)
