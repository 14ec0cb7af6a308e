/**
 * One fuzz case: a replay server plays a transcript (mutated by a seed, or as recorded) and the
 * client runs the session's steps against it. The case passes when every step, and the login,
 * ends in a value or in one of the client's typed errors within the time bound. A defect (an
 * exception that escaped as a die), an error that is not ours, or a case that outlives its bound
 * (a hang) is a finding.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Mutation, ReplayServer, Transcript } from "@effect-mysql/fake-server"
import { TestAccounts } from "@effect-mysql/testing"
import type { Transport } from "@effect-mysql/transport"
import { Cause, Effect, Exit, Option } from "effect"
import * as MysqlConnection from "../../src/MysqlConnection.ts"
import { type FuzzSession, sessions } from "./Sessions.ts"

export const transcriptsDir = Path.resolve(import.meta.dirname, "../fixtures/transcripts")
export const regressionsDir = Path.resolve(import.meta.dirname, "../fixtures/fuzz-regressions")

/** Every error a connection may fail with: anything else is a finding. */
const typedErrors = new Set([
  "ServerError",
  "AuthenticationError",
  "ConfigError",
  "LocalInfileError",
  "SslConfigError",
  "CompressionNegotiationError",
  "TlsError",
  "TransportError",
  "TimeoutError",
  "ProtocolError",
  "StatementTimeoutError"
])

export interface Recorded {
  readonly transcript: Transcript.Transcript
  readonly session: FuzzSession
}

/** The recorded transcripts with their sessions. */
export const loadRecorded = (): ReadonlyArray<Recorded> =>
  sessions.map((session) => ({
    session,
    transcript: Transcript.fromJson(Fs.readFileSync(Path.join(transcriptsDir, `${session.name}.json`), "utf8"))
  }))

/** A crashing input kept as a regression: which transcript, which seed, and what it did. */
export interface Regression {
  readonly transcript: string
  readonly seed: number
  readonly finding: string
  readonly mutations: ReadonlyArray<string>
}

export const loadRegressions = (): ReadonlyArray<Regression> =>
  Fs.existsSync(regressionsDir)
    ? Fs.readdirSync(regressionsDir)
        .filter((name) => name.endsWith(".json"))
        .sort()
        .map((name) => JSON.parse(Fs.readFileSync(Path.join(regressionsDir, name), "utf8")) as Regression)
    : []

export type Verdict = "result" | "typed-error" | "defect" | "untyped-error" | "hang"

export interface CaseOutcome {
  readonly verdict: Verdict
  /** The error tags the login and the steps ended with, in order. */
  readonly errors: ReadonlyArray<string>
  /** For findings: what went wrong. */
  readonly detail: string | undefined
  readonly millis: number
}

export interface CaseLimits {
  /** The client's readTimeout and connectTimeout. */
  readonly deadline: number
  /** Longer than any deadline: a case still running then is a hang. */
  readonly bound: number
}

export const defaultLimits: CaseLimits = { deadline: 2_000, bound: 10_000 }

const isFinding = (verdict: Verdict) => verdict === "defect" || verdict === "untyped-error" || verdict === "hang"

export const findingOf = (outcome: CaseOutcome): boolean => isFinding(outcome.verdict)

/** Judges the exits of the login and the steps. */
const judge = (exits: ReadonlyArray<Exit.Exit<unknown, unknown>>): Omit<CaseOutcome, "millis"> => {
  const errors: Array<string> = []
  for (const exit of exits) {
    if (Exit.isSuccess(exit)) continue
    if (Cause.hasDies(exit.cause)) return { verdict: "defect", errors, detail: Cause.pretty(exit.cause) }
    const error = Cause.findErrorOption(exit.cause)
    if (Option.isNone(error)) return { verdict: "defect", errors, detail: Cause.pretty(exit.cause) }
    const tag = (error.value as { _tag?: unknown })._tag
    if (typeof tag !== "string" || !typedErrors.has(tag)) {
      return { verdict: "untyped-error", errors, detail: Cause.pretty(exit.cause) }
    }
    errors.push(tag)
  }
  return { verdict: errors.length === 0 ? "result" : "typed-error", errors, detail: undefined }
}

/** Runs the session against a server playing `plan`; never fails, the outcome says how it went. */
export const runCase = (
  recorded: Recorded,
  plan: Mutation.Plan,
  limits: CaseLimits = defaultLimits
): Effect.Effect<CaseOutcome, never, Transport> =>
  Effect.scoped(
    Effect.gen(function* () {
      const started = Date.now()
      const server = yield* Effect.orDie(ReplayServer.start(plan))
      const { session } = recorded
      const account = TestAccounts[session.account]
      const exits: Array<Exit.Exit<unknown, unknown>> = []
      const body = Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* MysqlConnection.connect({
            ...session.options,
            host: server.host,
            port: server.port,
            user: account.user,
            password: account.password,
            database: "test",
            ssl: { mode: "disabled" },
            connectTimeout: limits.deadline,
            readTimeout: limits.deadline,
            // A replay server cannot answer a second connection's KILL QUERY.
            killQueryOnInterrupt: false
          })
          for (const step of session.steps) exits.push(yield* Effect.exit(step(conn)))
        })
      )
      const login = yield* Effect.exit(body).pipe(Effect.timeoutOption(limits.bound))
      const millis = Date.now() - started
      if (Option.isNone(login)) {
        return { verdict: "hang", errors: [], detail: `still running after ${limits.bound} ms`, millis } as const
      }
      return { ...judge([login.value, ...exits]), millis }
    })
  )

/** The plan of a seeded case of `recorded`. */
export const planOf = (recorded: Recorded, seed: number): Mutation.Plan =>
  Mutation.plan(recorded.transcript.turns, seed)
