// The pool under load and at its limits, against the real MariaDB of the run.
import { assert, describe, it } from "@effect/vitest"
import { TransportError } from "@effect-mysql/transport"
import { Deferred, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import { MysqlClient, type MysqlConnection, MysqlPool } from "../src/index.ts"
import { clientLayer, connect, optionsFor, TransportLive } from "./support.ts"

const connectionId = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<{ id: number }>`SELECT CONNECTION_ID() AS id`, (rows) => rows[0]!.id)

describe("MysqlClient's pool", () => {
  it.live(
    "200 fibers × 500 queries through 10 connections: every answer is its own, nothing leaks",
    () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const client = yield* MysqlClient.MysqlClient
        let wrong = 0
        yield* Effect.forEach(
          Array.from({ length: 200 }, (_, fiber) => fiber),
          (fiber) =>
            Effect.gen(function* () {
              for (let i = 0; i < 500; i++) {
                const n = fiber * 1000 + i
                // Half prepared with a parameter, half as text, so both paths carry the load.
                const rows =
                  i % 2 === 0
                    ? yield* sql<{ n: number }>`SELECT ${n} AS n`
                    : yield* sql.unsafe<{ n: number }>(`SELECT ${n} AS n`)
                if (rows.length !== 1 || Number(rows[0]!.n) !== n) wrong++
              }
            }),
          { concurrency: "unbounded", discard: true }
        )
        assert.strictEqual(wrong, 0)
        const stats = yield* client.stats
        assert.strictEqual(stats.borrowed, 0)
        assert.strictEqual(stats.waiting, 0)
        assert.isAtMost(stats.size, 10)
        assert.strictEqual(stats.closed, 0)
        assert.strictEqual(stats.opened, stats.size)
      }).pipe(Effect.provide(clientLayer("plain", { maxConnections: 10 }))),
    300_000
  )

  it.live("an exhausted pool fails a borrower after acquireTimeout with a clear error", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const held = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(sql.withTransaction(Deferred.await(held)))
      yield* Effect.sleep("50 millis")
      const error = yield* Effect.flip(sql`SELECT 1`)
      assert.strictEqual(error.reason._tag, "ConnectionError")
      assert.strictEqual((error.reason.cause as { _tag: string })._tag, "PoolTimeoutError")
      assert.include(error.message, "no connection became free within")
      yield* Deferred.succeed(held, undefined)
      yield* Fiber.join(holder)
      assert.deepStrictEqual(yield* sql`SELECT 1 AS one`, [{ one: 1 }])
    }).pipe(Effect.provide(clientLayer("plain", { maxConnections: 1, acquireTimeout: "200 millis" })))
  )

  it.live("failWaiters fails the borrowers waiting now, and only them", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* MysqlPool.make(optionsFor("plain"), { maxConnections: 1 })
        const held = yield* Deferred.make<void>()
        const holder = yield* Effect.forkChild(pool.use(() => Deferred.await(held)))
        yield* Effect.sleep("50 millis")
        const waiter = yield* Effect.forkChild(pool.use((connection) => connection.query("SELECT 1")))
        yield* Effect.sleep("50 millis")
        const gone = new TransportError({ reason: "io-error", message: "the server stopped answering" })
        yield* pool.failWaiters(gone)
        assert.strictEqual(yield* Effect.flip(Fiber.join(waiter)), gone)
        // A borrower that comes later waits as usual, and gets the connection once it is free.
        const later = yield* Effect.forkChild(pool.use((connection) => connection.query("SELECT 2 AS two")))
        yield* Effect.sleep("50 millis")
        yield* Deferred.succeed(held, undefined)
        yield* Fiber.join(holder)
        assert.strictEqual(Number((yield* Fiber.join(later)).rows[0]?.two), 2)
      })
    ).pipe(Effect.provide(TransportLive))
  )

  it.effect("resetOnRelease drops session state before the connection is lent again", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const id = yield* connectionId(sql)
      yield* sql`SET @x = 1`
      assert.strictEqual(yield* connectionId(sql), id)
      assert.deepStrictEqual(yield* sql`SELECT @x AS x`, [{ x: null }])
    }).pipe(Effect.provide(clientLayer("plain", { maxConnections: 1, resetOnRelease: true })))
  )

  it.effect("a connection returned inside a transaction is reset, not lent with the transaction open", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE OR REPLACE TABLE pool_open_tx (v INT)`
      yield* Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* sql.reserve
          yield* conn.executeUnprepared("BEGIN", [], undefined)
          yield* conn.executeUnprepared("INSERT INTO pool_open_tx VALUES (1)", [], undefined)
        })
      )
      assert.deepStrictEqual(yield* sql`SELECT COUNT(*) AS n FROM pool_open_tx`, [{ n: 0 }])
      yield* sql`DROP TABLE pool_open_tx`
    }).pipe(Effect.provide(clientLayer("plain", { maxConnections: 1 })))
  )

  it.effect("idle connections above the minimum close after idleTimeout (TestClock)", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const client = yield* MysqlClient.MysqlClient
      const gate = yield* Deferred.make<void>()
      // Three transactions at once hold three connections.
      const holders = yield* Effect.forkChild(
        Effect.forEach([1, 2, 3], () => sql.withTransaction(Deferred.await(gate)), { concurrency: "unbounded" })
      )
      // Real connections open in real time; the test clock only drives the pool's idle timer.
      for (let wait = 0; wait < 500 && (yield* client.stats).borrowed < 3; wait++) {
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
      }
      assert.strictEqual((yield* client.stats).borrowed, 3)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holders)
      assert.strictEqual((yield* client.stats).size, 3)
      yield* TestClock.adjust("61 seconds")
      yield* TestClock.adjust("61 seconds")
      const stats = yield* client.stats
      assert.strictEqual(stats.size, 1)
      assert.strictEqual(stats.closed, 2)
    }).pipe(Effect.provide(clientLayer("plain", { minConnections: 1, heartbeatInterval: false })))
  )

  it.effect("a connection older than maxLifetime is replaced, not lent (TestClock)", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const first = yield* connectionId(sql)
      assert.strictEqual(yield* connectionId(sql), first)
      yield* TestClock.adjust("11 minutes")
      const second = yield* connectionId(sql)
      assert.notStrictEqual(second, first)
    }).pipe(
      Effect.provide(
        clientLayer("plain", { maxLifetime: "10 minutes", idleTimeout: "1 hour", heartbeatInterval: false })
      )
    )
  )

  it.live("a connection killed on the server is found by validation and replaced", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const first = yield* connectionId(sql)
      yield* Effect.scoped(
        Effect.flatMap(MysqlPool.make(optionsFor("root"), { heartbeatInterval: false }), (pool) =>
          Effect.scoped(Effect.flatMap(pool.get, (conn) => conn.query(`KILL CONNECTION ${first}`)))
        )
      ).pipe(Effect.provide(TransportLive))
      yield* Effect.sleep("50 millis")
      const second = yield* connectionId(sql)
      assert.notStrictEqual(second, first)
    }).pipe(Effect.provide(clientLayer("plain", { validateAfter: "10 millis", heartbeatInterval: false })))
  )

  it.live("closing the pool waits for a borrowed connection to come back", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(clientLayer("plain"), scope)
      const sql = SqlClient.SqlClient.pipe(Effect.provideContext(context))
      const client = yield* sql
      const running = yield* Effect.forkChild(client`SELECT SLEEP(0.3) AS s`)
      yield* Effect.sleep("50 millis")
      const start = Date.now()
      yield* Scope.close(scope, Exit.void)
      assert.isAtLeast(Date.now() - start, 150)
      assert.deepStrictEqual(yield* Fiber.join(running), [{ s: 0 }])
    })
  )

  it.live("use lends a connection for one effect and takes it back; the effect's failure is its own", () =>
    Effect.gen(function* () {
      const pool = yield* MysqlPool.make(optionsFor("plain"), { maxConnections: 1, heartbeatInterval: false })
      const idOf = (conn: MysqlConnection.MysqlConnection) =>
        Effect.map(conn.query<{ id: number }>("SELECT CONNECTION_ID() AS id"), (r) => r.rows[0]!.id)
      const first = yield* pool.use(idOf)
      assert.strictEqual(yield* pool.use(idOf), first, "the idle connection, lent again")
      assert.strictEqual((yield* pool.use(() => pool.stats)).borrowed, 1)
      assert.strictEqual(yield* Effect.flip(pool.use(() => Effect.fail("its own" as const))), "its own")
      const stats = yield* pool.stats
      assert.strictEqual(stats.borrowed, 0)
      assert.strictEqual(stats.idle, 1)
      // A connection that fails while lent leaves the pool; the next borrower gets a new one.
      const admin = yield* connect(optionsFor("root"))
      const failed = yield* pool.use((conn) =>
        Effect.andThen(
          admin.query(`KILL CONNECTION ${conn.info.connectionId}`),
          Effect.as(Effect.exit(conn.query("SELECT 1")), conn)
        )
      )
      assert.isDefined(failed.failure)
      assert.notStrictEqual(yield* pool.use(idOf), first)
    }).pipe(Effect.provide(TransportLive))
  )

  it.live("a connection idle past validateAfter is pinged before use lends it; a dead one is replaced", () =>
    Effect.gen(function* () {
      const pool = yield* MysqlPool.make(optionsFor("plain"), { validateAfter: "10 millis", heartbeatInterval: false })
      const idOf = (conn: MysqlConnection.MysqlConnection) => Effect.succeed(conn.info.connectionId)
      const first = yield* pool.use(idOf)
      const admin = yield* connect(optionsFor("root"))
      yield* admin.query(`KILL CONNECTION ${first}`)
      yield* Effect.sleep("50 millis")
      const second = yield* pool.use(idOf)
      assert.notStrictEqual(second, first)
      assert.strictEqual((yield* pool.stats).borrowed, 0)
    }).pipe(Effect.provide(TransportLive))
  )

  it.live("a PoolTimeoutError counts the borrower that waited", () =>
    Effect.gen(function* () {
      const pool = yield* MysqlPool.make(optionsFor("plain"), { maxConnections: 1, acquireTimeout: "200 millis" })
      const held = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(Effect.scoped(Effect.andThen(pool.get, Deferred.await(held))))
      yield* Effect.sleep("50 millis")
      const error = yield* Effect.flip(Effect.scoped(pool.get))
      yield* Deferred.succeed(held, undefined)
      yield* Fiber.join(holder)
      assert.strictEqual(error._tag, "PoolTimeoutError")
      if (error._tag !== "PoolTimeoutError") return
      assert.strictEqual(error.waiting, 1)
      assert.strictEqual(error.borrowed, 1)
      assert.include(error.message, "1 waiting")
      assert.strictEqual((yield* pool.stats).waiting, 0)
    }).pipe(Effect.provide(TransportLive))
  )

  it.live("idle connections killed on the server leave the pool at once; the next queries see no error", () =>
    Effect.gen(function* () {
      const pool = yield* MysqlPool.make(optionsFor("plain"), {
        minConnections: 3,
        maxConnections: 3,
        heartbeatInterval: false
      })
      /** Three connections at once, so each is a different one. */
      const idsOfAll = Effect.scoped(
        Effect.forEach([1, 2, 3], () => Effect.map(pool.get, (conn) => conn.info.connectionId), {
          concurrency: "unbounded"
        })
      )
      const killed = yield* idsOfAll
      const admin = yield* connect(optionsFor("root"))
      for (const id of killed) yield* admin.query(`KILL CONNECTION ${id}`)
      // The server closes each socket as it kills; the pool hears of it while the connections sit idle.
      yield* Effect.sleep("100 millis")
      const answers = yield* Effect.forEach(
        [1, 2, 3],
        (n) =>
          Effect.scoped(
            Effect.flatMap(pool.get, (conn) =>
              Effect.map(
                conn.query<{ n: number; id: number }>(`SELECT ${n} AS n, CONNECTION_ID() AS id`),
                (r) => r.rows[0]!
              )
            )
          ),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(
        answers.map((row) => Number(row.n)),
        [1, 2, 3]
      )
      for (const row of answers) assert.notInclude(killed, Number(row.id))
      const stats = yield* pool.stats
      assert.strictEqual(stats.closed, 3)
      assert.strictEqual(stats.size, 3)
    }).pipe(Effect.provide(TransportLive))
  )
})
