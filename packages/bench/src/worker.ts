/**
 * A worker process: one driver, one process, so that `process.cpuUsage()` is that driver's CPU
 * time alone. It reads jobs as JSON lines on stdin and answers each with one JSON line on stdout.
 *
 *   node packages/bench/src/worker.ts effect-mysql|mysql2|mariadb
 *   deno run -A packages/bench/src/worker.ts effect-mysql
 *   bun packages/bench/src/worker.ts effect-mysql
 */
import * as Readline from "node:readline"
import type { Driver } from "./drivers/Driver.ts"
import type { Job, Measurement, WorkerReply } from "./Workload.ts"

const loadDriver = async (name: string | undefined): Promise<Driver> => {
  switch (name) {
    case "effect-mysql":
      return (await import("./drivers/EffectMysql.ts")).driver
    case "mysql2":
      return (await import("./drivers/Mysql2.ts")).driver
    case "mariadb":
      return (await import("./drivers/Mariadb.ts")).driver
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

const measure = async (driver: Driver, job: Job): Promise<Measurement> => {
  const prepared = await driver.prepare(job)
  try {
    const cpu = process.cpuUsage()
    const t0 = performance.now()
    const outcome = job.workload === "stream" ? await withRssSampling(prepared.run) : { rows: await prepared.run() }
    const wallMs = performance.now() - t0
    const used = process.cpuUsage(cpu)
    return { wallMs, cpuUserMs: used.user / 1000, cpuSystemMs: used.system / 1000, ...outcome }
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
