/**
 * The side-by-side benchmark: effect-mysql, called directly (`MysqlConnection`) and through
 * effect/sql's `SqlClient`, against mysql2 and the mariadb connector, on the same Node, against the
 * same throwaway MariaDB, in one run; effect-mysql also under Deno and Bun, and a plain-JS
 * reference decoder in the replay workload. The replication workloads read row changes from the
 * binlog of a second throwaway MariaDB (`Binlog.ts`), with zongji as the peer.
 *
 *   node --conditions=@effect-mysql/source packages/bench/src/main.ts [--quick] [--rounds=N] [--pin]
 *     [--runtimes=node,deno,bun] [--only=text,binary,replication,…] [--json=FILE] [--profile=DIR]
 *     [--instructions]
 *
 * Each driver runs in a worker process of its own, so its CPU time (`process.cpuUsage`) is its
 * own. After a warm-up run each, the workers take turns, A B C A B C with the order rotated every
 * round, and the table shows medians. `--pin` puts the server (and the replay server) on core 1
 * and the workers on core 0 with `taskset`. `--profile=DIR` writes a V8 CPU profile of each Node
 * worker (`node --cpu-prof`) into DIR. `--instructions` counts, instead, the instructions per
 * `SELECT 1` of each Node worker under callgrind (see `Instructions.ts`).
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { MysqlConnection } from "@effect-mysql/client"
import { MariaDbServer, SshKeys, SshServer, TempDirectory, TestAccounts, TestPki } from "@effect-mysql/testing"
import { NodeTransport } from "@effect-mysql/transport/node"
import { Console, Effect } from "effect"
import { binlogArgs, replicationAccount, writeChanges } from "./Binlog.ts"
import { decodeRecorded } from "./drivers/PlainJs.ts"
import { instructionsPerQuery } from "./Instructions.ts"
import { type Recording, recordingProxy, serve } from "./Replay.ts"
import { Worker, type WorkerCommand } from "./WorkerProcess.ts"
import {
  type BinlogStart,
  binarySql,
  concurrentSql,
  createInsertTable,
  createRowsTable,
  type DriverName,
  fillRowsTable,
  fullSizes,
  isReplication,
  type Job,
  type Measurement,
  quickSizes,
  type Sizes,
  type SshTarget,
  streamSql,
  supports,
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
const instructions = flag("instructions")
/** `--instructions`: a warm-up, then a short and a long run of `SELECT 1` (see `Instructions.ts`). */
const instructionSizes = quick ? { warmup: 500, short: 200, long: 1_200 } : { warmup: 2_000, short: 1_000, long: 6_000 }

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
    { name: "select1-ssh", size: sizes.select1, unit: "queries", sql: "SELECT 1" },
    { name: "concurrent", size: sizes.concurrent, unit: "queries", sql: concurrentSql },
    { name: "connect", size: sizes.connects, unit: "connects", sql: "" },
    { name: "connect-tls", size: sizes.connects, unit: "connects", sql: "" },
    { name: "connect-tls-full", size: sizes.connects, unit: "connects", sql: "" },
    { name: "insert", size: sizes.inserts, unit: "inserts", sql: "" },
    { name: "batch-insert", size: sizes.batchRows, unit: "rows", sql: "" },
    { name: "stream", size: sizes.streamRows, unit: "rows", sql: streamSql(sizes.streamRows, sizes.fetchRows) },
    { name: "replication", size: sizes.rowChanges, unit: "row changes", sql: "" },
    { name: "replication-single", size: sizes.rowChanges, unit: "row changes", sql: "" }
  ] satisfies ReadonlyArray<{ name: WorkloadName; size: number; unit: string; sql: string }>
).filter((w) => only === undefined || only.includes(w.name))

const peers = ["mysql2", "mariadb", "zongji"]
const plainJs = "plain-JS reference"

/** The workloads whose allocation per row is counted, in one extra run per worker. */
const allocationWorkloads: ReadonlyArray<WorkloadName> = ["text", "replay"]

const labels: Record<DriverName, string> = {
  connection: "effect-mysql MysqlConnection",
  sqlclient: "effect-mysql SqlClient",
  mysql2: "mysql2",
  mariadb: "mariadb",
  "plain-js": plainJs,
  zongji: "zongji",
  replication: "effect-mysql Replication"
}

const isOurs = (label: string) => label.startsWith("effect-mysql")

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

/** With `--pin`, what puts a worker on core 0. */
const pinPrefix = pin ? ["taskset", "-c", "0"] : []

/**
 * Every worker of the run, each command after `prefix`. `--expose-gc` lets a worker collect
 * before it counts allocations.
 */
const workerCommands = (prefix: ReadonlyArray<string>): Array<WorkerCommand> => {
  const commands: Array<WorkerCommand> = []
  if (runtimes.includes("node")) {
    const profile = profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]
    for (const driver of [
      "connection",
      "sqlclient",
      "mysql2",
      "mariadb",
      "plain-js",
      "zongji",
      "replication"
    ] as const) {
      const argv = [process.execPath, sourceCondition, "--expose-gc", ...profile, workerScript, driver]
      commands.push({ label: labels[driver], driver, command: [...prefix, ...argv] })
    }
  }
  const deno = binaryOf("deno")
  const bun = binaryOf("bun")
  for (const driver of ["connection", "sqlclient", "replication"] as const) {
    if (runtimes.includes("deno") && deno !== undefined) {
      const argv = [deno, "run", "-A", sourceCondition, "--v8-flags=--expose-gc", workerScript, driver]
      commands.push({ label: `${labels[driver]} (deno)`, driver, command: [...prefix, ...argv] })
    }
    if (runtimes.includes("bun") && bun !== undefined) {
      const argv = [bun, sourceCondition, workerScript, driver]
      commands.push({ label: `${labels[driver]} (bun)`, driver, command: [...prefix, ...argv] })
    }
  }
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
  /** Bytes allocated on the JavaScript heap per row, from one extra run. */
  readonly allocatedPerUnit: number | undefined
  /** For a replication workload: row changes per row event. */
  readonly rowsPerEvent: number | undefined
  readonly runs: ReadonlyArray<Measurement>
}

const summarize = (
  workload: (typeof workloads)[number],
  driver: string,
  runs: ReadonlyArray<Measurement>,
  allocation: Measurement | undefined
): Summary => {
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
    allocatedPerUnit: allocation?.allocatedBytes === undefined ? undefined : allocation.allocatedBytes / workload.size,
    rowsPerEvent: runs[0]?.rowEvents === undefined ? undefined : workload.size / runs[0].rowEvents,
    runs
  }
}

const rotate = <A>(items: ReadonlyArray<A>, by: number) => items.map((_, i) => items[(i + by) % items.length]!)

/** Where the workers go: the server, the replay server, and the binlog server with its ranges. */
interface Targets {
  readonly server: Target
  readonly replayPort: number
  readonly binlog: { readonly target: Target; readonly starts: Partial<Record<WorkloadName, BinlogStart>> } | undefined
  readonly ssh: SshTarget | undefined
}

const jobOf = (workload: (typeof workloads)[number], targets: Targets): Job => {
  const job = { workload: workload.name, size: workload.size, sql: workload.sql }
  const { binlog } = targets
  const start = binlog?.starts[workload.name]
  if (binlog !== undefined && start !== undefined) return { ...job, target: binlog.target, binlog: start }
  const target =
    workload.name === "replay"
      ? { ...targets.server, port: targets.replayPort }
      : workload.name === "select1-ssh" && targets.ssh !== undefined
        ? { ...targets.server, ssh: targets.ssh }
        : targets.server
  return { ...job, target }
}

/**
 * Runs every workload on every worker that supports it, alternating; the stream workload on a
 * fresh worker per run; then, where allocation is counted, one more run of each.
 */
const runAll = async (targets: Targets): Promise<Array<Summary>> => {
  const commands = workerCommands(pinPrefix)
  const workers = commands.map(({ label, command }) => new Worker(label, command))
  await Promise.all(workers.map((w) => w.ready))
  const results: Array<Summary> = []
  try {
    for (const workload of workloads) {
      const job = jobOf(workload, targets)
      const taking = commands.flatMap((command, i) =>
        supports(command.driver, workload.name) ? [{ command, worker: workers[i]! }] : []
      )
      const runs = new Map<string, Array<Measurement>>(taking.map(({ command }) => [command.label, []]))
      const allocations = new Map<string, Measurement>()
      const started = performance.now()
      if (workload.name === "stream") {
        // A fresh process per run: an earlier workload's grown heap would hide this one's growth.
        for (let round = 0; round < rounds; round++) {
          for (const { command } of rotate(taking, round)) {
            const worker = new Worker(command.label, command.command)
            await worker.ready
            runs.get(command.label)!.push(await worker.run(job))
            await worker.stop()
          }
        }
      } else {
        for (const { worker } of taking) await worker.run(job)
        for (let round = 0; round < rounds; round++) {
          for (const { worker } of rotate(taking, round)) runs.get(worker.label)!.push(await worker.run(job))
        }
        if (allocationWorkloads.includes(workload.name)) {
          for (const { worker } of taking) allocations.set(worker.label, await worker.run({ ...job, allocation: true }))
        }
      }
      for (const [label, measured] of runs) results.push(summarize(workload, label, measured, allocations.get(label)))
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

/**
 * What a row adds to the numbers: its stream's RSS growth, its allocation per row, for ours in
 * `replay` how far it is from the plain-JS reference, in `concurrent` the ratio to its own
 * sequential `select1` rate, in a replication workload the row changes per row event and, for ours,
 * the ratios to zongji.
 */
const notes = (r: Summary, results: ReadonlyArray<Summary>): string => {
  const out: Array<string> = []
  if (r.peakRssGrowthMb !== undefined) out.push(`RSS +${fmt(r.peakRssGrowthMb)} MB`)
  if (r.allocatedPerUnit !== undefined) out.push(`${fmt(r.allocatedPerUnit)} B allocated per row`)
  if (r.rowsPerEvent !== undefined) out.push(`${fmt(r.rowsPerEvent, 1)} row changes per row event`)
  const same = (workload: WorkloadName, driver: string) =>
    results.find((s) => s.workload === workload && s.driver === driver)
  const plain = same("replay", plainJs)
  if (r.workload === "replay" && isOurs(r.driver) && plain !== undefined) {
    out.push(`plain-JS speed ${times(plain.wallMs / r.wallMs)}, CPU ${times(plain.cpuMs / r.cpuMs)}`)
  }
  const zongji = same(r.workload, "zongji")
  if (isOurs(r.driver) && zongji !== undefined) {
    out.push(`speed vs zongji ${times(zongji.wallMs / r.wallMs)}, CPU vs zongji ${times(zongji.cpuMs / r.cpuMs)}`)
  }
  const sequential = same("select1", r.driver)
  if (r.workload === "concurrent" && sequential !== undefined) {
    out.push(`${times(sequential.wallMs / sequential.size / (r.wallMs / r.size))} its sequential rate`)
  }
  return out.join("; ")
}

const table = (results: ReadonlyArray<Summary>): string => {
  const lines = [
    "| workload | driver | median | rate | client CPU | CPU per unit | speed vs mysql2 | speed vs mariadb | CPU vs mysql2 | CPU vs mariadb | notes |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  ]
  for (const workload of workloads) {
    const rows = results.filter((r) => r.workload === workload.name)
    const peer = (name: string) => rows.find((r) => r.driver === name)
    for (const r of rows) {
      const compared = !peers.includes(r.driver)
      const vs = (name: string, f: (p: Summary) => number) => {
        const p = peer(name)
        return compared && p !== undefined ? times(f(p)) : ""
      }
      const perUnitUs = (r.cpuMs * 1000) / r.size
      lines.push(
        `| ${workload.name} | ${r.driver} | ${fmt(r.wallMs, 1)} ms | ${fmt((r.size / r.wallMs) * 1000)} ${r.unit}/s | ${fmt(r.cpuMs)} ms | ${fmt(perUnitUs, 2)} µs | ${vs("mysql2", (p) => p.wallMs / r.wallMs)} | ${vs("mariadb", (p) => p.wallMs / r.wallMs)} | ${vs("mysql2", (p) => p.cpuMs / r.cpuMs)} | ${vs("mariadb", (p) => p.cpuMs / r.cpuMs)} | ${notes(r, results)} |`
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

/**
 * The plain-JS reference's values, column by column, against effect-mysql's for the same bytes:
 * a reference that decoded less would flatter the limit it stands for.
 */
const checkReference = async (recording: Recording, expected: ReadonlyArray<Record<string, unknown>>) => {
  const decoded = await decodeRecorded(recording.response, 1_000)
  const comparable = (value: unknown) => (value instanceof Date ? value.getTime() : value)
  if (decoded.length !== expected.length) throw new Error(`reference: ${decoded.length} of ${expected.length} rows`)
  decoded.forEach((row, i) => {
    for (const [column, value] of Object.entries(row)) {
      if (comparable(value) !== comparable(expected[i]![column])) {
        throw new Error(`reference: row ${i}, ${column}: ${String(value)} vs ${String(expected[i]![column])}`)
      }
    }
  })
}

/** Records the text fetch through the proxy with effect-mysql, checks the reference on it, then serves it. */
const startReplay = (target: Target) =>
  Effect.gen(function* () {
    const proxy = yield* Effect.promise(() => recordingProxy(target.host, target.port, textSql))
    const result = yield* Effect.scoped(
      Effect.flatMap(
        MysqlConnection.connect({
          host: target.host,
          port: proxy.port,
          user: target.user,
          password: target.password,
          database: target.database,
          ssl: { mode: "disabled" }
        }),
        (conn) => conn.query(textSql)
      )
    )
    const recording: Recording = proxy.recording()
    yield* Effect.promise(() => checkReference(recording, result.rows as ReadonlyArray<Record<string, unknown>>))
    return yield* Effect.acquireRelease(
      Effect.promise(() => serve(recording)),
      (replay) => Effect.promise(replay.close)
    )
  })

const serverArgs = ["--innodb-buffer-pool-size=512M", "--innodb-flush-log-at-trx-commit=2", "--max-connections=500"]

/** With `--pin`, puts a server on core 1. */
const pinServer = (server: MariaDbServer.MariaDbServer) => {
  if (pin) execFileSync("taskset", ["-a", "-p", "-c", "1", String(server.pid)], { stdio: "ignore" })
}

/**
 * When a replication workload runs: the binlog server, started and written before the workers
 * start, and where each workload's range begins.
 */
const startBinlog = (pki: TestPki.TestPki) =>
  Effect.gen(function* () {
    const chosen = workloads.flatMap((w) => (isReplication(w.name) ? [w.name] : []))
    if (chosen.length === 0) return undefined
    yield* Console.error("Starting the binlog server…")
    const server = yield* MariaDbServer.start({ pki, args: [...serverArgs, ...binlogArgs] }).pipe(
      Effect.retry({ times: 3 })
    )
    pinServer(server)
    const starts = yield* writeChanges(server, chosen, sizes.rowChanges)
    const target: Target = {
      host: server.host,
      port: server.port,
      ...replicationAccount,
      database: server.database,
      ca: pki.ca.pem
    }
    return { target, starts }
  })

/** When `select1-ssh` runs: an OpenSSH server on loopback that the drivers tunnel through. */
const startSsh = Effect.gen(function* () {
  if (!workloads.some((w) => w.name === "select1-ssh")) return undefined
  yield* Console.error("Starting the SSH server…")
  const dir = yield* TempDirectory.make("bench-ssh-")
  const key = yield* SshKeys.generate(Path.join(dir, "id_ed25519"), { type: "ed25519" })
  const server = yield* SshServer.start({ authorizedKeys: [key.publicKey] })
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    privateKey: key.privateKey,
    fingerprint: server.fingerprints[0]!
  } satisfies SshTarget
})

const program = Effect.gen(function* () {
  if (pin && !hasTaskset) return yield* Effect.die(new Error("--pin needs taskset (util-linux)"))
  const loadBefore = Os.loadavg()
  yield* Console.error(`Starting MariaDB${quick ? " (quick mode)" : ""}…`)
  const pki = yield* TestPki.generate
  // Another process may take the port the server was given before it binds: start it again.
  const server = yield* MariaDbServer.start({ pki, args: serverArgs }).pipe(Effect.retry({ times: 3 }))
  pinServer(server)
  if (pin) execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" })
  yield* Console.error(`Loading ${fmt(sizes.fetchRows)} rows…`)
  yield* loadData(server)
  const target: Target = {
    host: server.host,
    port: server.port,
    ...TestAccounts.plain,
    database: server.database,
    ca: pki.ca.pem
  }
  const machine = () => {
    const cpus = Os.cpus()
    return [
      `machine: ${cpus.length} × ${cpus[0]?.model ?? "?"}, ${fmt(Os.totalmem() / 2 ** 30)} GiB, ${Os.type()} ${Os.release()}`,
      `runtimes: node ${process.versions.node}, ${version(binaryOf("deno"), ["--version"])}, bun ${version(binaryOf("bun"), ["--version"])}; MariaDB ${server.version}`,
      `load average (1 min) before ${loadBefore[0]!.toFixed(2)}, after ${Os.loadavg()[0]!.toFixed(2)}; ${instructions ? "callgrind" : `${rounds} rounds`}; ${pin ? "pinned: server on core 1, clients on core 0" : "not pinned"}`
    ]
  }
  if (instructions) {
    const outDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "bench-callgrind-"))
    const counted = workerCommands([]).filter((w) => w.command[0] === process.execPath && w.driver !== "plain-js")
    yield* Console.error(`Counting instructions per SELECT 1 under callgrind (files in ${outDir})…`)
    const perQuery = yield* Effect.promise(() =>
      instructionsPerQuery(counted, target, { ...instructionSizes, prefix: pinPrefix }, outDir)
    )
    const mariadb = perQuery.find((c) => c.label === "mariadb")?.perQuery
    const lines = ["| driver | instructions per SELECT 1 | vs mariadb |", "| --- | ---: | ---: |"]
    for (const { label, perQuery: n } of perQuery) {
      lines.push(`| ${label} | ${fmt(n)} | ${mariadb === undefined ? "" : `${(n / mariadb).toFixed(2)}×`} |`)
    }
    return yield* Console.log(`${machine().join("\n")}\n\n${lines.join("\n")}`)
  }
  const replay = yield* startReplay(target)
  const binlog = yield* startBinlog(pki)
  const ssh = yield* startSsh
  yield* Console.error(`Running ${workloads.length} workloads, ${rounds} rounds each after a warm-up…`)
  const results = yield* Effect.promise(() => runAll({ server: target, replayPort: replay.port, binlog, ssh }))
  yield* Console.log(`${machine().join("\n")}\n\n${table(results)}`)
  if (jsonFile !== undefined) {
    Fs.writeFileSync(jsonFile, JSON.stringify({ machine: machine(), sizes, rounds, pin, results }, null, 2))
  }
}).pipe(Effect.scoped, Effect.provide(NodeTransport.layer))

Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
