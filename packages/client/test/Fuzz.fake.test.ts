// The fuzzer's bounded sample, run on every build: recorded MariaDB sessions replayed to the client
// as recorded, the regression fixtures, then seeded mutations for a fixed time. Every case must end
// in a result or a typed error within its bound. `pnpm fuzz` runs 100,000 cases (fuzz/fuzz.ts).
import { assert, describe, it } from "@effect/vitest"
import { Mutation } from "@effect-mysql/fake-server"
import { Effect } from "effect"
import { TransportLive } from "./fakeSupport.ts"
import { type CaseOutcome, findingOf, loadRecorded, loadRegressions, planOf, runCase } from "./fuzz/FuzzCase.ts"

const recorded = loadRecorded()

// Fixed seeds keep the build reproducible; FUZZ_SEED explores others.
const baseSeed = Number(process.env.FUZZ_SEED ?? 1_000_000)
const sampleMillis = 20_000
const maxCases = 6_000
const concurrency = 16

const describeFinding = (name: string, seed: number, outcome: CaseOutcome) =>
  `${name} seed ${seed}: ${outcome.verdict} after ${outcome.millis} ms\n${outcome.detail ?? ""}`

describe("fuzzing with recorded MariaDB sessions", () => {
  for (const target of recorded) {
    it.live(
      `${target.session.name}: the recording replays to a result, whole and in random pieces`,
      () =>
        Effect.gen(function* () {
          for (const chunkSeed of [0, 1, 2, 3]) {
            const outcome = yield* runCase(target, Mutation.faithful(target.transcript.turns, chunkSeed))
            assert.strictEqual(outcome.verdict, "result", describeFinding(target.session.name, chunkSeed, outcome))
          }
        }).pipe(Effect.provide(TransportLive)),
      30_000
    )
  }

  it.live(
    "the regression fixtures end in a result or a typed error",
    () =>
      Effect.gen(function* () {
        for (const regression of loadRegressions()) {
          const target = recorded.find((r) => r.session.name === regression.transcript)
          assert.isDefined(target, regression.transcript)
          const outcome = yield* runCase(target!, planOf(target!, regression.seed))
          assert.isFalse(findingOf(outcome), describeFinding(regression.transcript, regression.seed, outcome))
        }
      }).pipe(Effect.provide(TransportLive)),
    60_000
  )

  it.live(
    `seeded mutations for ${sampleMillis / 1000} s: no defect, no untyped error, no hang`,
    () =>
      Effect.gen(function* () {
        const deadline = Date.now() + sampleMillis
        const findings: Array<string> = []
        let run = 0
        let index = 0
        // Batches of `concurrency` cases until the time or the count runs out.
        while (Date.now() < deadline && index < maxCases) {
          const batch = Array.from({ length: concurrency }, () => index++)
          yield* Effect.forEach(
            batch,
            (i) => {
              const target = recorded[i % recorded.length]!
              const seed = baseSeed + i
              return Effect.map(runCase(target, planOf(target, seed)), (outcome) => {
                run++
                if (findingOf(outcome)) findings.push(describeFinding(target.session.name, seed, outcome))
              })
            },
            { concurrency, discard: true }
          )
        }
        console.log(`fuzz sample: ${run} cases from seed ${baseSeed}, ${findings.length} findings`)
        assert.deepStrictEqual(findings, [])
        assert.isAtLeast(run, 200)
      }).pipe(Effect.provide(TransportLive)),
    sampleMillis + 30_000
  )
})
