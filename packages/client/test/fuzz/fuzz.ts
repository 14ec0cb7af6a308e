/**
 * The fuzzer on demand: replays the recorded transcripts, mutated by consecutive seeds and cut
 * into random writes, to the client, and counts how each case ended. Findings (a defect, an error
 * that is not ours, a hang, an exception that escaped to the process) are printed, saved as
 * regression fixtures with --save, and make the exit code 1.
 *
 *   node --conditions=@effect-mysql/source packages/client/test/fuzz/fuzz.ts [--cases=100000] [--seed=1]
 *     [--concurrency=64] [--save]
 *
 * (`pnpm fuzz` runs it with the defaults; Deno and Bun run the same file.)
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Effect } from "effect"
import { TransportLive } from "../fakeSupport.ts"
import {
  type CaseOutcome,
  findingOf,
  loadRecorded,
  planOf,
  type Regression,
  regressionsDir,
  runCase,
  type Verdict
} from "./FuzzCase.ts"

const argument = (name: string, fallback: number): number => {
  const given = process.argv.find((arg) => arg.startsWith(`--${name}=`))
  const value = given === undefined ? fallback : Number(given.slice(name.length + 3))
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name}: not a number`)
  return value
}

const cases = argument("cases", 100_000)
const firstSeed = argument("seed", 1)
const concurrency = Math.max(1, argument("concurrency", 64))
const save = process.argv.includes("--save")

const recorded = loadRecorded()
const verdicts: Record<Verdict, number> = { result: 0, "typed-error": 0, defect: 0, "untyped-error": 0, hang: 0 }
const errorTags = new Map<string, number>()
const findings: Array<Regression & { readonly outcome: CaseOutcome }> = []
let escaped = 0
let done = 0
let slowest = 0

// An exception thrown from a socket callback never reaches an Effect: count it as a finding.
process.on("uncaughtException", (error) => {
  escaped++
  console.error("uncaught exception:", error)
})
process.on("unhandledRejection", (error) => {
  escaped++
  console.error("unhandled rejection:", error)
})

const one = (index: number) => {
  const target = recorded[index % recorded.length]!
  const seed = firstSeed + index
  const plan = planOf(target, seed)
  return Effect.map(runCase(target, plan), (outcome) => {
    done++
    verdicts[outcome.verdict]++
    slowest = Math.max(slowest, outcome.millis)
    for (const tag of new Set(outcome.errors)) errorTags.set(tag, (errorTags.get(tag) ?? 0) + 1)
    if (findingOf(outcome)) {
      findings.push({
        transcript: target.session.name,
        seed,
        finding: `${outcome.verdict}: ${outcome.detail?.split("\n")[0] ?? ""}`,
        mutations: plan.mutations,
        outcome
      })
      console.error(`FINDING ${target.session.name} seed ${seed}: ${outcome.verdict}\n${outcome.detail}`)
    }
    if (done % 5_000 === 0) console.log(`${done} cases…`)
  })
}

const started = Date.now()
const indices = Array.from({ length: cases }, (_, i) => i)
await Effect.runPromise(
  Effect.forEach(indices, one, { concurrency, discard: true }).pipe(Effect.provide(TransportLive))
)
const seconds = (Date.now() - started) / 1000

if (save && findings.length > 0) {
  Fs.mkdirSync(regressionsDir, { recursive: true })
  for (const { outcome: _outcome, ...regression } of findings) {
    Fs.writeFileSync(
      Path.join(regressionsDir, `${regression.transcript}-${regression.seed}.json`),
      `${JSON.stringify(regression, null, 2)}\n`
    )
  }
}

console.log(
  `\n${done} cases in ${seconds.toFixed(1)} s (${Math.round(done / seconds)}/s), seeds ${firstSeed}–${firstSeed + cases - 1}, ${recorded.length} transcripts`
)
console.log(`verdicts: ${JSON.stringify(verdicts)}`)
console.log(`errors seen (cases): ${JSON.stringify(Object.fromEntries([...errorTags].sort((a, b) => b[1] - a[1])))}`)
console.log(`slowest case: ${slowest} ms; exceptions escaped to the process: ${escaped}`)
console.log(`findings: ${findings.length + escaped}`)
process.exit(findings.length + escaped === 0 ? 0 : 1)
