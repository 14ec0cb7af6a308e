/**
 * `--instructions`: user-space instructions per `SELECT 1`, counted by valgrind's callgrind, which
 * gives the same count run after run on a machine whose timings are noise.
 *
 * A process's count includes starting the runtime, loading the driver, connecting and compiling,
 * so each worker runs twice under callgrind: both processes run the same warm-up, then one runs
 * `short` statements and the other `long`. The difference of the two totals, divided by
 * `long - short`, is what one more statement costs once the code is warm: the driver, the runtime
 * beneath it (event loop, streams, garbage collection on every thread), not the kernel.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Worker, type WorkerCommand } from "./WorkerProcess.ts"
import type { Job, Target } from "./Workload.ts"

export interface InstructionRuns {
  readonly warmup: number
  readonly short: number
  readonly long: number
  /** What goes before `valgrind` (with `--pin`, `taskset`). */
  readonly prefix: ReadonlyArray<string>
}

/** The `totals:` line callgrind writes at the end of its output file: instructions executed. */
const totalInstructions = (file: string): number => {
  const line = Fs.readFileSync(file, "utf8")
    .split("\n")
    .find((l) => l.startsWith("totals:") || l.startsWith("summary:"))
  if (line === undefined) throw new Error(`${file} has no totals`)
  return Number(line.split(/\s+/)[1])
}

/** Runs the warm-up and then `size` statements in one worker under callgrind; its total. */
const countRun = async (worker: WorkerCommand, job: Job, runs: InstructionRuns, size: number, outFile: string) => {
  const valgrind = ["valgrind", "--tool=callgrind", `--callgrind-out-file=${outFile}`]
  const child = new Worker(worker.label, [...runs.prefix, ...valgrind, ...worker.command])
  await child.ready
  await child.run({ ...job, size: runs.warmup })
  await child.run({ ...job, size })
  await child.stop()
  return totalInstructions(outFile)
}

/** Instructions per `SELECT 1` of each worker. */
export const instructionsPerQuery = async (
  workers: ReadonlyArray<WorkerCommand>,
  target: Target,
  runs: InstructionRuns,
  outDir: string
): Promise<Array<{ readonly label: string; readonly perQuery: number }>> => {
  const job: Job = { workload: "select1", target, size: 0, sql: "SELECT 1" }
  const counted: Array<{ label: string; perQuery: number }> = []
  for (const worker of workers) {
    const file = (size: number) => Path.join(outDir, `${worker.driver}-${size}.callgrind`)
    const short = await countRun(worker, job, runs, runs.short, file(runs.short))
    const long = await countRun(worker, job, runs, runs.long, file(runs.long))
    const perQuery = (long - short) / (runs.long - runs.short)
    counted.push({ label: worker.label, perQuery })
    console.error(`  ${worker.label}: ${Math.round(perQuery)} per query`)
  }
  return counted
}
