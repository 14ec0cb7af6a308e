/**
 * The side-by-side benchmark: effect-mysql against mysql2 and the mariadb connector, on the same
 * Node, against the same throwaway MariaDB, in one run; effect-mysql also under Deno and Bun.
 *
 *   node --conditions=@effect-mysql/source packages/bench/src/main.ts [--quick] [--rounds=N] [--pin]
 *     [--runtimes=node,deno,bun] [--only=text,binary,…] [--json=FILE] [--profile=DIR]
 *
 * Each driver runs in a worker process of its own, so its CPU time (`process.cpuUsage`) is its
 * own. After a warm-up run each, the workers take turns, A B C A B C with the order rotated every
 * round, and the table shows medians. `--pin` puts the server (and the replay server) on core 1
 * and the workers on core 0 with `taskset`. `--profile=DIR` writes a V8 CPU profile of each Node
 * worker (`node --cpu-prof`) into DIR.
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { MysqlConnection } from "@effect-mysql/client"
import { MariaDbServer, TestAccounts, TestPki } from "@effect-mysql/testing"
import { NodeTransport } from "@effect-mysql/transport/node"
import { Console, Effect } from "effect"
import { type Recording, recordingProxy, serve } from "./Replay.ts"
import { Worker } from "./WorkerProcess.ts"
import {
  binarySql,
  createInsertTable,
  createRowsTable,
  fillRowsTable,
  fullSizes,
  type Job,
  type Measurement,
  quickSizes,
  type Sizes,
  streamSql,
  type Target,
  textSql,
  type WorkloadName
} from "./Workload.ts"

const args = process.argv.slice(2)
const flag = (name: string) => args.includes(`--${name}`)
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)

const quick = flag("quick")
const sizes: Sizes = quick ? quickSizes : fullSizes
const rounds = Number(option("rounds") ?? (quick ? 3 : 5))
const pin = flag("pin")
const runtimes = (option("runtimes") ?? "node,deno,bun").split(",")
const only = option("only")?.split(",")
const jsonFile = option("json")
const profileDir = option("profile")

const root = Path.resolve(import.meta.dirname, "../../..")
const workerScript = Path.join(import.meta.dirname, "worker.ts")
// Workers run our sources, as the tests do (docs/development.md, "Sources and builds").
const sourceCondition = "--conditions=@effect-mysql/source"

/** Workloads in the order they run, with their size and the unit their rate is counted in. */
const workloads = (
  [
    { name: "text", size: sizes.fetchRows, unit: "rows", sql: textSql },
    { name: "binary", size: sizes.fetchRows, unit: "rows", sql: binarySql },
    { name: "replay", size: sizes.fetchRows, unit: "rows", sql: textSql },
    { name: "text-tls", size: sizes.fetchRows, unit: "rows", sql: textSql },
    { name: "text-zlib", size: sizes.fetchRows, unit: "rows", sql: textSql },
    { name: "select1", size: sizes.select1, unit: "queries", sql: "SELECT 1" },
    { name: "connect", size: sizes.connects, unit: "connects", sql: "" },
    { name: "connect-tls", size: sizes.connects, unit: "connects", sql: "" },
    { name: "insert", size: sizes.inserts, unit: "inserts", sql: "" },
    { name: "stream", size: sizes.streamRows, unit: "rows", sql: streamSql(sizes.streamRows, sizes.fetchRows) }
  ] satisfies ReadonlyArray<{ name: WorkloadName; size: number; unit: string; sql: string }>
).filter((w) => only === undefined || only.includes(w.name))

const ours = "effect-mysql"
const peers = ["mysql2", "mariadb"]

const binaryOf = (name: string) => {
  const path = Path.join(root, "node_modules", ".bin", name)
  return Fs.existsSync(path) ? path : undefined
}

const hasTaskset = (() => {
  try {
    execFileSync("taskset", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

/** The command of each worker: label → argv. */
const workerCommands = (): Array<[string, Array<string>]> => {
  const prefix = pin ? ["taskset", "-c", "0"] : []
  const commands: Array<[string, Array<string>]> = []
  if (runtimes.includes("node")) {
    const profile = profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]
    for (const driver of [ours, ...peers]) {
      commands.push([driver, [...prefix, process.execPath, sourceCondition, ...profile, workerScript, driver]])
    }
  }
  const deno = binaryOf("deno")
  if (runtimes.includes("deno") && deno !== undefined) {
    commands.push([`${ours} (deno)`, [...prefix, deno, "run", "-A", sourceCondition, workerScript, ours]])
  }
  const bun = binaryOf("bun")
  if (runtimes.includes("bun") && bun !== undefined)
    commands.push([`${ours} (bun)`, [...prefix, bun, sourceCondition, workerScript, ours]])
  return commands
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

interface Summary {
  readonly workload: WorkloadName
  readonly unit: string
  readonly size: number
  readonly driver: string
  readonly wallMs: number
  readonly cpuMs: number
  readonly peakRssGrowthMb: number | undefined
  readonly runs: ReadonlyArray<Measurement>
}

const summarize = (workload: (typeof workloads)[number], driver: string, runs: ReadonlyArray<Measurement>): Summary => {
  for (const run of runs) {
    if (run.rows !== workload.size) throw new Error(`${driver}, ${workload.name}: ${run.rows} of ${workload.size}`)
  }
  const growth = runs.flatMap((r) => (r.peakRssGrowthMb === undefined ? [] : [r.peakRssGrowthMb]))
  return {
    workload: workload.name,
    unit: workload.unit,
    size: workload.size,
    driver,
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuUserMs + r.cpuSystemMs)),
    peakRssGrowthMb: growth.length === 0 ? undefined : median(growth),
    runs
  }
}

const rotate = <A>(items: ReadonlyArray<A>, by: number) => items.map((_, i) => items[(i + by) % items.length]!)

/** Runs every workload on every worker, alternating; the stream workload on a fresh worker per run. */
const runAll = async (target: Target, replayPort: number): Promise<Array<Summary>> => {
  const commands = workerCommands()
  const workers = commands.map(([label, command]) => new Worker(label, command))
  await Promise.all(workers.map((w) => w.ready))
  const results: Array<Summary> = []
  try {
    for (const workload of workloads) {
      const job: Job = {
        workload: workload.name,
        size: workload.size,
        sql: workload.sql,
        target: workload.name === "replay" ? { ...target, port: replayPort } : target
      }
      const runs = new Map<string, Array<Measurement>>(commands.map(([label]) => [label, []]))
      const started = performance.now()
      if (workload.name === "stream") {
        // A fresh process per run: an earlier workload's grown heap would hide this one's growth.
        for (let round = 0; round < rounds; round++) {
          for (const [label, command] of rotate(commands, round)) {
            const worker = new Worker(label, command)
            await worker.ready
            runs.get(label)!.push(await worker.run(job))
            await worker.stop()
          }
        }
      } else {
        for (const worker of workers) await worker.run(job)
        for (let round = 0; round < rounds; round++) {
          for (const worker of rotate(workers, round)) runs.get(worker.label)!.push(await worker.run(job))
        }
      }
      for (const [label, measured] of runs) results.push(summarize(workload, label, measured))
      const load = Os.loadavg()[0]!.toFixed(2)
      console.error(`  ${workload.name}: ${((performance.now() - started) / 1000).toFixed(1)} s (load ${load})`)
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()))
  }
  return results
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** `x.xx×`: how many times better ours is (a rate ratio, or a CPU ratio turned around). */
const times = (n: number) => `${n.toFixed(2)}×`

const table = (results: ReadonlyArray<Summary>): string => {
  const lines = [
    "| workload | driver | median | rate | client CPU | CPU per unit | speed vs mysql2 | speed vs mariadb | CPU vs mysql2 | CPU vs mariadb |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  ]
  for (const workload of workloads) {
    const rows = results.filter((r) => r.workload === workload.name)
    const peer = (name: string) => rows.find((r) => r.driver === name)
    for (const r of rows) {
      const isOurs = r.driver.startsWith(ours)
      const vs = (name: string, f: (p: Summary) => number) => {
        const p = peer(name)
        return isOurs && p !== undefined ? times(f(p)) : ""
      }
      const perUnitUs = (r.cpuMs * 1000) / r.size
      const extra = r.peakRssGrowthMb === undefined ? "" : `, RSS +${fmt(r.peakRssGrowthMb)} MB`
      lines.push(
        `| ${workload.name} | ${r.driver} | ${fmt(r.wallMs, 1)} ms${extra} | ${fmt((r.size / r.wallMs) * 1000)} ${r.unit}/s | ${fmt(r.cpuMs)} ms | ${fmt(perUnitUs, 2)} µs | ${vs("mysql2", (p) => p.wallMs / r.wallMs)} | ${vs("mariadb", (p) => p.wallMs / r.wallMs)} | ${vs("mysql2", (p) => p.cpuMs / r.cpuMs)} | ${vs("mariadb", (p) => p.cpuMs / r.cpuMs)} |`
      )
    }
  }
  return lines.join("\n")
}

const version = (command: string | undefined, argv: ReadonlyArray<string>) => {
  if (command === undefined) return "absent"
  try {
    return execFileSync(command, argv, { encoding: "utf8" }).split("\n")[0]!.trim()
  } catch {
    return "absent"
  }
}

const loadData = (server: MariaDbServer.MariaDbServer) =>
  Effect.scoped(
    Effect.gen(function* () {
      const conn = yield* MysqlConnection.connect({
        host: server.host,
        port: server.port,
        ...TestAccounts.root,
        database: server.database,
        ssl: { mode: "disabled" }
      })
      yield* conn.query(createRowsTable)
      yield* conn.query(fillRowsTable(sizes.fetchRows))
      yield* conn.query(createInsertTable)
      yield* conn.query("ANALYZE TABLE bench_rows")
    })
  )

/** Records the text fetch through the proxy with effect-mysql, then serves it. */
const startReplay = (target: Target) =>
  Effect.gen(function* () {
    const proxy = yield* Effect.promise(() => recordingProxy(target.host, target.port, textSql))
    yield* Effect.scoped(
      Effect.flatMap(MysqlConnection.connect({ ...target, port: proxy.port, ssl: { mode: "disabled" } }), (conn) =>
        conn.query(textSql)
      )
    )
    const recording: Recording = proxy.recording()
    return yield* Effect.acquireRelease(
      Effect.promise(() => serve(recording)),
      (replay) => Effect.promise(replay.close)
    )
  })

const program = Effect.gen(function* () {
  if (pin && !hasTaskset) return yield* Effect.die(new Error("--pin needs taskset (util-linux)"))
  const loadBefore = Os.loadavg()
  yield* Console.error(`Starting MariaDB${quick ? " (quick mode)" : ""}…`)
  const pki = yield* TestPki.generate
  // Another process may take the port the server was given before it binds: start it again.
  const server = yield* MariaDbServer.start({
    pki,
    args: ["--innodb-buffer-pool-size=512M", "--innodb-flush-log-at-trx-commit=2", "--max-connections=500"]
  }).pipe(Effect.retry({ times: 3 }))
  if (pin) {
    execFileSync("taskset", ["-a", "-p", "-c", "1", String(server.pid)], { stdio: "ignore" })
    execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" })
  }
  yield* Console.error(`Loading ${fmt(sizes.fetchRows)} rows…`)
  yield* loadData(server)
  const target: Target = {
    host: server.host,
    port: server.port,
    ...TestAccounts.plain,
    database: server.database,
    ca: pki.ca.pem
  }
  const replay = yield* startReplay(target)
  yield* Console.error(`Running ${workloads.length} workloads, ${rounds} rounds each after a warm-up…`)
  const results = yield* Effect.promise(() => runAll(target, replay.port))
  const loadAfter = Os.loadavg()
  const cpus = Os.cpus()
  const machine = [
    `machine: ${cpus.length} × ${cpus[0]?.model ?? "?"}, ${fmt(Os.totalmem() / 2 ** 30)} GiB, ${Os.type()} ${Os.release()}`,
    `runtimes: node ${process.versions.node}, ${version(binaryOf("deno"), ["--version"])}, bun ${version(binaryOf("bun"), ["--version"])}; MariaDB ${server.version}`,
    `load average (1 min) before ${loadBefore[0]!.toFixed(2)}, after ${loadAfter[0]!.toFixed(2)}; ${rounds} rounds; ${pin ? "pinned: server on core 1, clients on core 0" : "not pinned"}`
  ]
  yield* Console.log(`${machine.join("\n")}\n\n${table(results)}`)
  if (jsonFile !== undefined) {
    Fs.writeFileSync(jsonFile, JSON.stringify({ machine, sizes, rounds, pin, results }, null, 2))
  }
}).pipe(Effect.scoped, Effect.provide(NodeTransport.layer))

Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
