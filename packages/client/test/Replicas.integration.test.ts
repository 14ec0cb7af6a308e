// A MysqlClient over a real primary and replica (packages/testing's ReplicaPair, replicating by
// GTID over verified TLS): writes and transactions on the primary, reads marked with
// `withReplicaReads` on the replica, read-your-writes while the replica's SQL thread is stopped
// (waiting, or falling back to the primary), the lag bound, each host's state in `stats`, and the
// primary killed mid-load: every acknowledged commit is there after its restart.
import { assert, describe, layer } from "@effect/vitest"
import { ReplicaPair, TestAccounts, TestPki } from "@effect-mysql/testing"
import { Context, Effect, Fiber, Layer, type Scope } from "effect"
import type { SqlClient } from "effect/sql"
import { isSqlError } from "effect/sql/SqlError"
import * as MysqlClient from "../src/MysqlClient.ts"
import { withClient as withClientOf } from "./fakeSupport.ts"

class Pair extends Context.Service<Pair, { readonly pair: ReplicaPair.ReplicaPair; readonly ca: string }>()(
  "test/ReplicaPair"
) {}

const PairLive = Layer.effect(
  Pair,
  Effect.orDie(
    Effect.gen(function* () {
      const pki = yield* TestPki.generate
      return { pair: yield* ReplicaPair.start({ pki }), ca: pki.ca.pem }
    })
  )
)

const options = (
  { pair, ca }: Context.Service.Shape<typeof Pair>,
  extra: Partial<MysqlClient.MysqlClientOptions> = {}
): MysqlClient.MysqlClientOptions => ({
  // The replica first: the client finds the writer by role, not by position.
  hosts: [pair.replica, pair.primary].map((server) => `${server.host}:${server.port}`),
  user: TestAccounts.root.user,
  password: TestAccounts.root.password,
  database: pair.primary.database,
  ssl: { mode: "verify-identity", ca },
  connectTimeout: "3 seconds",
  targetSessionAttrs: "read-write",
  hostCheckInterval: "200 millis",
  ...extra
})

const withClient = <A, E>(
  shared: Context.Service.Shape<typeof Pair>,
  extra: Partial<MysqlClient.MysqlClientOptions>,
  body: (sql: SqlClient.SqlClient, client: MysqlClient.MysqlClient) => Effect.Effect<A, E, Scope.Scope>
) => withClientOf(options(shared, extra), body)

/** The server a statement ran on: 1 is the primary, 2 the replica. */
const serverId = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<{ id: number }>`SELECT @@server_id AS id`, (rows) => Number(rows[0]!.id))

const noteOf = (sql: SqlClient.SqlClient, id: number) =>
  Effect.map(
    sql<{ note: string; server: number }>`SELECT note, @@server_id AS server FROM replica_reads WHERE id = ${id}`,
    (rows) => (rows[0] === undefined ? undefined : { note: rows[0].note, server: Number(rows[0].server) })
  )

/** A fresh `replica_reads` on both servers, then the replica's SQL thread stopped until the scope closes. */
const stoppedReplica = (sql: SqlClient.SqlClient, pair: ReplicaPair.ReplicaPair) =>
  Effect.gen(function* () {
    yield* sql`CREATE OR REPLACE TABLE replica_reads (id INT PRIMARY KEY, note VARCHAR(20))`
    yield* pair.waitCaughtUp
    yield* pair.stopSqlThread
    yield* Effect.addFinalizer(() => Effect.orDie(pair.startSqlThread))
  })

layer(PairLive, { timeout: 180_000, excludeTestServices: true })("a primary and a replica", (it) => {
  it.effect("writes and transactions go to the primary; marked reads to the replica", () =>
    Effect.gen(function* () {
      const shared = yield* Pair
      yield* withClient(shared, {}, (sql, client) =>
        Effect.gen(function* () {
          assert.strictEqual(yield* serverId(sql), 1)
          assert.strictEqual(yield* MysqlClient.withReplicaReads(serverId(sql)), 2)
          // A transaction inside `withReplicaReads` stays on the writer.
          const inTransaction = yield* MysqlClient.withReplicaReads(sql.withTransaction(serverId(sql)))
          assert.strictEqual(inTransaction, 1)
          const stats = yield* client.stats
          assert.deepStrictEqual(
            stats.hosts?.map(({ role, status, writer }) => ({ role, status, writer })),
            [
              { role: "replica", status: "up", writer: false },
              { role: "primary", status: "up", writer: true }
            ]
          )
          assert.strictEqual(stats.hosts?.[0]?.lagSeconds, 0)
        })
      )
    })
  )

  describe("read-your-writes while the replica's SQL thread is stopped", () => {
    it.effect("a replica read waits until the replica has applied the client's write", () =>
      Effect.gen(function* () {
        const shared = yield* Pair
        const { pair } = shared
        yield* withClient(shared, { replicaReads: { maxLag: false, waitTimeout: "10 seconds" } }, (sql) =>
          Effect.gen(function* () {
            yield* stoppedReplica(sql, pair)
            yield* sql`INSERT INTO replica_reads VALUES (1, 'waited')`
            const started = performance.now()
            const read = yield* Effect.forkChild(MysqlClient.withReplicaReads(noteOf(sql, 1)))
            yield* Effect.sleep("500 millis")
            yield* pair.startSqlThread
            const found = yield* Fiber.join(read)
            const waitedMs = Math.round(performance.now() - started)
            console.log(`read-your-writes: the replica read waited ${waitedMs} ms for the replica`)
            assert.deepStrictEqual(found, { note: "waited", server: 2 })
            assert.isAtLeast(waitedMs, 450)
          })
        )
      })
    )

    it.effect("a replica read that waits too long reads from the primary", () =>
      Effect.gen(function* () {
        const shared = yield* Pair
        const { pair } = shared
        yield* withClient(shared, { replicaReads: { maxLag: false, waitTimeout: "300 millis" } }, (sql) =>
          Effect.gen(function* () {
            yield* stoppedReplica(sql, pair)
            yield* sql`INSERT INTO replica_reads VALUES (2, 'fell back')`
            const started = performance.now()
            const found = yield* MysqlClient.withReplicaReads(noteOf(sql, 2))
            const tookMs = Math.round(performance.now() - started)
            console.log(`read-your-writes: fell back to the primary after ${tookMs} ms`)
            assert.deepStrictEqual(found, { note: "fell back", server: 1 })
            assert.isAtLeast(tookMs, 250)
            // Without read-your-writes the replica answers, without the row.
            yield* pair.startSqlThread
          })
        )
        yield* withClient(
          shared,
          { replicaReads: { maxLag: false, readYourWrites: false } },
          Effect.fnUntraced(function* (sql) {
            yield* pair.stopSqlThread
            yield* sql`INSERT INTO replica_reads VALUES (3, 'stale')`
            const found = yield* MysqlClient.withReplicaReads(noteOf(sql, 3))
            yield* pair.startSqlThread
            assert.strictEqual(found, undefined)
          })
        )
      })
    )

    it.effect("inside causal scopes, a replica read waits only for its own scope's writes", () =>
      Effect.gen(function* () {
        const shared = yield* Pair
        const { pair } = shared
        yield* withClient(shared, { replicaReads: { maxLag: false, waitTimeout: "300 millis" } }, (sql) =>
          Effect.gen(function* () {
            yield* stoppedReplica(sql, pair)
            const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
              Effect.suspend(() => {
                const started = performance.now()
                return Effect.map(effect, (found) => ({ found, ms: Math.round(performance.now() - started) }))
              })
            // The scope that wrote waits for its write, then falls back to the primary.
            const own = yield* MysqlClient.withCausalScope(
              Effect.andThen(
                sql`INSERT INTO replica_reads VALUES (4, 'own write')`,
                timed(MysqlClient.withReplicaReads(noteOf(sql, 4)))
              )
            )
            // Another scope, which wrote nothing, reads the replica at once: stale, as it may be.
            const other = yield* MysqlClient.withCausalScope(timed(MysqlClient.withReplicaReads(noteOf(sql, 4))))
            // Outside any scope, a read waits for every write of the client.
            const outside = yield* timed(MysqlClient.withReplicaReads(noteOf(sql, 4)))
            yield* pair.startSqlThread
            console.log(
              `causal scopes: the writing scope's read took ${own.ms} ms, the other's ${other.ms} ms, one outside ${outside.ms} ms`
            )
            assert.deepStrictEqual(own.found, { note: "own write", server: 1 })
            assert.isAtLeast(own.ms, 250)
            assert.isUndefined(other.found)
            assert.isBelow(other.ms, 250)
            assert.deepStrictEqual(outside.found, { note: "own write", server: 1 })
            assert.isAtLeast(outside.ms, 250)
          })
        )
      })
    )

    it.effect("a replica that is not replicating is past any lag bound: reads go to the primary", () =>
      Effect.gen(function* () {
        const shared = yield* Pair
        const { pair } = shared
        yield* withClient(shared, { replicaReads: { readYourWrites: false } }, (sql, client) =>
          Effect.gen(function* () {
            assert.strictEqual(yield* MysqlClient.withReplicaReads(serverId(sql)), 2)
            yield* pair.stopSqlThread
            yield* Effect.addFinalizer(() => Effect.orDie(pair.startSqlThread))
            // The next host check reads Seconds_Behind_Master as NULL.
            yield* Effect.sleep("600 millis")
            assert.strictEqual((yield* client.stats).hosts?.[0]?.lagSeconds, null)
            assert.strictEqual(yield* MysqlClient.withReplicaReads(serverId(sql)), 1)
            yield* pair.startSqlThread
            yield* Effect.sleep("600 millis")
            assert.strictEqual(yield* MysqlClient.withReplicaReads(serverId(sql)), 2)
          })
        )
      })
    )
  })

  it.effect("the primary killed mid-load: typed retryable errors, every acknowledged commit kept, rejoin", () =>
    Effect.gen(function* () {
      const shared = yield* Pair
      const { pair } = shared
      yield* withClient(shared, { maxConnections: 20 }, (sql, client) =>
        Effect.gen(function* () {
          yield* sql`CREATE OR REPLACE TABLE replica_load (id INT PRIMARY KEY)`
          const acknowledged = new Set<number>()
          const errors = new Map<string, number>()
          let next = 0
          let stop = false
          const writer = Effect.gen(function* () {
            while (!stop) {
              const id = ++next
              const written = yield* Effect.result(sql`INSERT INTO replica_load VALUES (${id})`)
              if (written._tag === "Success") acknowledged.add(id)
              else {
                const error = written.failure
                assert.isTrue(isSqlError(error), String(error))
                const key = `${error.reason._tag} retryable=${error.isRetryable}`
                errors.set(key, (errors.get(key) ?? 0) + 1)
                yield* Effect.sleep("20 millis")
              }
            }
          })
          const writers = yield* Effect.forkChild(
            Effect.all(
              Array.from({ length: 20 }, () => writer),
              { concurrency: "unbounded" }
            )
          )
          yield* Effect.sleep("500 millis")
          yield* pair.killPrimary
          const killedAt = performance.now()
          yield* Effect.sleep("300 millis")
          assert.strictEqual((yield* client.stats).hosts?.[1]?.status, "down")
          yield* pair.restartPrimary
          // The primary's host check finds it again; writes resume there.
          while ((yield* client.stats).hosts?.[1]?.status !== "up") yield* Effect.sleep("50 millis")
          const rejoinedMs = Math.round(performance.now() - killedAt)
          const before = acknowledged.size
          yield* Effect.sleep("500 millis")
          stop = true
          yield* Fiber.join(writers)
          assert.isAbove(acknowledged.size, before, "writes resumed on the restarted primary")
          const present = new Set(
            (yield* sql<{ id: number }>`SELECT id FROM replica_load`).map((row) => Number(row.id))
          )
          const lost = [...acknowledged].filter((id) => !present.has(id))
          console.log(
            `primary kill -9 under 20 writers: ${acknowledged.size} acknowledged, ${lost.length} lost, failures ${JSON.stringify(Object.fromEntries(errors))}, primary back ${rejoinedMs} ms after the kill`
          )
          assert.deepStrictEqual(lost, [])
          for (const key of errors.keys()) assert.include(key, "retryable=true")
        })
      )
    })
  )
})
