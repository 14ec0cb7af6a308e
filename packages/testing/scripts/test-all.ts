/**
 * Runs the vitest suite once per runtime (Node, Deno, Bun), then the release checks once (the
 * `release` project, under Node: it builds, packs and installs the packages and drives the three
 * runtimes itself), and prints the totals as `N passed, N failed`. Arguments go to vitest, except
 * `--runtimes=node,deno,bun,release`, which picks the runs; the release run is left out by default
 * when vitest arguments narrow the suite. Exits non-zero when any run fails, crashes or runs no test.
 *
 *   node packages/testing/scripts/test-all.ts [--runtimes=node] [vitest args…]
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const root = Path.resolve(import.meta.dirname, "../../..")
const vitest = Path.join(root, "node_modules/vitest/vitest.mjs")
const config = ["run", "--config", "vitest.workspace.ts"]

// vitest runs under Deno as an ordinary npm program, and under Bun only with worker threads.
const commands: Record<string, (args: Array<string>) => [string, Array<string>]> = {
  node: (args) => ["node", [vitest, ...config, "--project=!release", ...args]],
  deno: (args) => ["deno", ["run", "-A", vitest, ...config, "--project=!release", ...args]],
  bun: (args) => ["bun", [vitest, ...config, "--pool=threads", "--project=!release", ...args]],
  release: (args) => ["node", [vitest, ...config, "--project=release", ...args]]
}

const selected = process.argv.find((arg) => arg.startsWith("--runtimes="))
// pnpm passes a literal `--` before script arguments.
const vitestArgs = process.argv.slice(2).filter((arg) => arg !== selected && arg !== "--")
const runtimes = selected
  ? selected.slice("--runtimes=".length).split(",")
  : Object.keys(commands).filter((run) => run !== "release" || vitestArgs.length === 0)

interface Totals {
  passed: number
  failed: number
  skipped: number
  ok: boolean
}

const runOn = (runtime: string): Totals => {
  const command = commands[runtime]
  if (command === undefined) throw new Error(`unknown runtime ${runtime}; choose from ${Object.keys(commands)}`)
  const report = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-mysql-vitest-")), "report.json")
  const [program, args] = command([
    ...vitestArgs,
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`
  ])
  console.log(`\n=== ${runtime}: ${program} ${args.join(" ")}\n`)
  const result = spawnSync(program, args, { cwd: root, stdio: "inherit" })
  if (!Fs.existsSync(report)) {
    console.log(`=== ${runtime}: vitest wrote no report (exit ${result.status ?? result.signal})`)
    return { passed: 0, failed: 1, skipped: 0, ok: false }
  }
  const json = JSON.parse(Fs.readFileSync(report, "utf8"))
  Fs.rmSync(Path.dirname(report), { recursive: true, force: true })
  const totals = {
    passed: json.numPassedTests,
    failed: json.numFailedTests,
    skipped: json.numPendingTests + json.numTodoTests,
    ok: result.status === 0 && json.numPassedTests > 0
  }
  console.log(`=== ${runtime}: ${totals.passed} passed, ${totals.failed} failed, exit ${result.status}`)
  return totals
}

const all = runtimes.map(runOn)
const sum = (key: "passed" | "failed" | "skipped") => all.reduce((n, totals) => n + totals[key], 0)
const skipped = sum("skipped")
console.log(`\n${sum("passed")} passed, ${sum("failed")} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`)
process.exit(all.every((totals) => totals.ok) ? 0 : 1)
