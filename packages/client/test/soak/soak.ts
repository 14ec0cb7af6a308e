/**
 * A bounded soak on loopback: a throwaway MariaDB behind the fault proxy, `MysqlClient` (pool,
 * SqlClient) with TLS (verify-identity) and zlib compression, many fibers mixing reads, writes and
 * transactions, while the proxy cuts every connection now and then. At the end it reports the
 * queries run, latency percentiles, errors by kind, the rows found against the writes
 * acknowledged, and memory at start and end; it fails if an acknowledged write is missing or an
 * error is not a typed one.
 *
 *   node --expose-gc --conditions=@effect-mysql/source packages/client/test/soak/soak.ts [--seconds=180]
 *     [--fibers=32] [--cut-every=8]
 *
 * (`pnpm soak` runs it with the defaults.)
 */
import { FaultProxy, MariaDbServer, TestAccounts, TestPki } from "@effect-mysql/testing"
import { Cause, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import * as MysqlClient from "../../src/MysqlClient.ts"
import * as MysqlConnection from "../../src/MysqlConnection.ts"
import { TransportLive, typedErrorTags } from "../fakeSupport.ts"

const argument = (name: string, fallback: number): number => {
  const given = process.argv.find((arg) => arg.startsWith(`--${name}=`))
  const value = given === undefined ? fallback : Number(given.slice(name.length + 3))
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: not a positive number`)
  return value
}

const seconds = argument("seconds", 180)
const fibers = argument("fibers", 32)
const cutEverySeconds = argument("cut-every", 8)

const latencies: Array<number> = []
const errors = new Map<string, number>()
const ackedIds = new Set<number>()
let ackedTransactions = 0
let attemptedTransactions = 0
let queries = 0
let cuts = 0
let untyped = 0

/** "ConnectionError/TransportError": effect/sql's reason and our error under it. */
const kindOf = (error: unknown): string => {
  const reason = (error as { reason?: { _tag?: string; cause?: { _tag?: string } } }).reason
  const inner = reason?.cause?._tag
  if (reason?._tag === undefined || inner === undefined || !typedErrorTags.has(inner)) untyped++
  return `${reason?._tag ?? String(error)}/${inner ?? "?"}`
}

/** What a defect carries: an effect/sql error that was turned into a defect, or something else. */
const defectOf = (cause: Cause.Cause<unknown>): string => {
  const die = cause.reasons.find((reason) => reason._tag === "Die")
  const defect = die?._tag === "Die" ? (die.defect as { _tag?: string; reason?: { _tag?: string } }) : undefined
  return defect?._tag === undefined ? "interrupt" : `${defect._tag}/${defect.reason?._tag ?? "?"}`
}

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = performance.now()
    const exit = yield* Effect.exit(effect)
    latencies.push(performance.now() - start)
    queries++
    if (exit._tag === "Failure") {
      const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
      const kind = error === undefined ? `defect/${defectOf(exit.cause)}` : kindOf(error.error)
      if (error === undefined) {
        untyped++
        if (untyped === 1) console.error(`first defect:\n${Cause.pretty(exit.cause)}`)
      }
      errors.set(kind, (errors.get(kind) ?? 0) + 1)
    }
    return exit
  })

const worker = (fiber: number, until: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    for (let n = 0; n < 10_000_000 && Date.now() < until; n++) {
      const dice = Math.random()
      if (dice < 0.5) {
        yield* timed(sql`SELECT id, payload FROM soak_items WHERE fiber = ${fiber} ORDER BY id DESC LIMIT 20`)
      } else if (dice < 0.8) {
        const exit = yield* timed(
          sql`INSERT INTO soak_items (fiber, n, payload) VALUES (${fiber}, ${n}, ${`payload ${fiber}/${n} `.repeat(4)})`
            .raw
        )
        if (exit._tag === "Success") ackedIds.add(Number((exit.value as { insertId: number }).insertId))
      } else {
        attemptedTransactions++
        const exit = yield* timed(
          sql.withTransaction(
            Effect.gen(function* () {
              const inserted = yield* sql`INSERT INTO soak_items (fiber, n, payload) VALUES (${fiber}, ${n}, 'tx')`.raw
              yield* sql`UPDATE soak_counters SET value = value + 1 WHERE id = 1`
              return Number((inserted as { insertId: number }).insertId)
            })
          )
        )
        if (exit._tag === "Success") {
          ackedTransactions++
          ackedIds.add(exit.value)
        }
      }
    }
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

/** Memory after a full collection when the runtime offers one (`node --expose-gc`), so trends show. */
const memory = () => {
  ;(globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage()
}

const program = Effect.scoped(
  Effect.gen(function* () {
    const pki = yield* TestPki.generate
    const server = yield* MariaDbServer.start({ pki })
    const proxy = yield* FaultProxy.start({ target: server })
    const direct = {
      host: server.host,
      port: server.port,
      user: TestAccounts.root.user,
      password: TestAccounts.root.password,
      database: server.database,
      ssl: { mode: "verify-identity", ca: pki.ca.pem }
    } as const
    yield* Effect.scoped(
      Effect.gen(function* () {
        const conn = yield* MysqlConnection.connect(direct)
        yield* conn.query(
          "CREATE TABLE soak_items (id BIGINT AUTO_INCREMENT PRIMARY KEY, fiber INT, n INT, payload VARCHAR(400), KEY (fiber, id)) ENGINE=InnoDB"
        )
        yield* conn.query("CREATE TABLE soak_counters (id INT PRIMARY KEY, value BIGINT) ENGINE=InnoDB")
        yield* conn.query("INSERT INTO soak_counters VALUES (1, 0)")
      })
    )

    const client = MysqlClient.layer({
      ...direct,
      host: proxy.host,
      port: proxy.port,
      compression: { algorithms: ["zlib"], required: true },
      maxConnections: 16,
      readTimeout: "5 seconds",
      connectTimeout: "5 seconds",
      acquireTimeout: "10 seconds"
    }).pipe(Layer.provide(TransportLive))

    const memoryStart = memory()
    const started = Date.now()
    const until = started + seconds * 1000
    // Memory every 30 s: a leak grows steadily, a warm-up levels off.
    const samples: Array<string> = []
    const sampler = Effect.gen(function* () {
      for (let i = 1; Date.now() + 30_000 < until; i++) {
        yield* Effect.sleep("30 seconds")
        const now = memory()
        samples.push(`${i * 30}s rss ${mib(now.rss)} heap ${mib(now.heapUsed)} external ${mib(now.external)}`)
      }
    })
    // The proxy drops every open connection at random moments, about every `cutEverySeconds`.
    const cutter = Effect.gen(function* () {
      while (Date.now() < until - 2_000) {
        yield* Effect.sleep(Math.round(cutEverySeconds * 1000 * (0.5 + Math.random())))
        if (Date.now() >= until - 2_000) break
        yield* proxy.cut
        cuts++
      }
    })
    yield* Effect.all(
      [
        Effect.forEach(
          Array.from({ length: fibers }, (_, i) => i),
          (fiber) => worker(fiber, until),
          { concurrency: "unbounded", discard: true }
        ).pipe(Effect.provide(client)),
        cutter,
        sampler
      ],
      { concurrency: "unbounded", discard: true }
    )
    const elapsed = (Date.now() - started) / 1000
    const memoryEnd = memory()

    const check = yield* Effect.scoped(
      Effect.gen(function* () {
        const conn = yield* MysqlConnection.connect(direct)
        const ids = yield* conn.query<{ id: bigint }>("SELECT id FROM soak_items")
        const counter = yield* conn.query<{ value: bigint }>("SELECT value FROM soak_counters WHERE id = 1")
        return { ids: new Set(ids.rows.map((row) => Number(row.id))), counter: Number(counter.rows[0]!.value) }
      })
    ).pipe(Effect.provide(TransportLive))
    const missing = [...ackedIds].filter((id) => !check.ids.has(id))
    const sorted = latencies.slice().sort((a, b) => a - b)
    const errorCount = [...errors.values()].reduce((a, b) => a + b, 0)

    console.log(
      `soak: ${elapsed.toFixed(0)} s, ${fibers} fibers, MariaDB ${server.version}, TLS verify-identity + zlib`
    )
    console.log(`queries run: ${queries} (${Math.round(queries / elapsed)}/s), proxy cuts: ${cuts}`)
    console.log(
      `latency: p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, max ${percentile(sorted, 100).toFixed(1)} ms`
    )
    console.log(`errors: ${errorCount} ${JSON.stringify(Object.fromEntries(errors))}; untyped: ${untyped}`)
    console.log(
      `rows: ${check.ids.size} present, ${ackedIds.size} acknowledged, ${missing.length} acknowledged but missing (${check.ids.size - ackedIds.size + missing.length} present without an acknowledgement: the answer was cut)`
    )
    console.log(
      `transactions: ${ackedTransactions} acknowledged of ${attemptedTransactions}, counter ${check.counter} (must be ≥ acknowledged and ≤ attempted)`
    )
    console.log(
      `memory: rss ${mib(memoryStart.rss)} -> ${mib(memoryEnd.rss)}, heap used ${mib(memoryStart.heapUsed)} -> ${mib(memoryEnd.heapUsed)}, external ${mib(memoryStart.external)} -> ${mib(memoryEnd.external)}`
    )
    console.log(`memory every 30 s: ${samples.join("; ")}`)
    const ok =
      missing.length === 0 &&
      untyped === 0 &&
      check.counter >= ackedTransactions &&
      check.counter <= attemptedTransactions
    console.log(ok ? "soak: PASS" : "soak: FAIL")
    return ok
  })
)

Effect.runPromise(program.pipe(Effect.provide(TransportLive))).then(
  (ok) => process.exit(ok ? 0 : 1),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
