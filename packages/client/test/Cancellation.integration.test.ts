// Interruption and statement timeouts stop the statement on the server (KILL QUERY) and keep the
// connection; a silent network fails within the read deadline and the pool replaces what it broke.
import { assert, describe, it } from "@effect/vitest"
import { FaultProxy } from "@effect-mysql/testing"
import { Effect, Exit, Fiber, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { MysqlClient } from "../src/index.ts"
import { clientLayer, connect, optionsFor, running, TransportLive, target } from "./support.ts"

const elapsed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = Date.now()
    const exit = yield* Effect.exit(effect)
    return [exit, Date.now() - start] as const
  })

describe("KILL QUERY on interruption and timeout", () => {
  it.live("SELECT SLEEP(30) interrupted after 100 ms returns within a second and leaves the server", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const observer = yield* connect(optionsFor("root"))
      const fiber = yield* Effect.forkChild(conn.query("SELECT SLEEP(30)"))
      yield* Effect.sleep("100 millis")
      assert.strictEqual(yield* running(observer, "SELECT SLEEP(30)"), 1)
      const [, millis] = yield* elapsed(Fiber.interrupt(fiber))
      assert.isBelow(millis, 1000)
      assert.strictEqual(yield* running(observer, "SELECT SLEEP(30)"), 0)
      // The same connection goes on: nothing left unread, and the KILL did not touch the next statement.
      assert.isUndefined(conn.failure)
      assert.deepStrictEqual((yield* conn.query("SELECT CONNECTION_ID() AS id")).rows, [{ id: conn.info.connectionId }])
    })
  )

  it.live("a statement timeout stops the statement and keeps the connection", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain", { statementTimeout: "10 seconds" }))
      const [exit, millis] = yield* elapsed(conn.execute("SELECT SLEEP(?) AS s", [20], { timeout: "200 millis" }))
      assert.isBelow(millis, 1500)
      assert.isTrue(exit._tag === "Failure")
      const error = yield* Effect.flip(conn.query("SELECT SLEEP(5)", { timeout: "150 millis" }))
      assert.strictEqual(error._tag, "StatementTimeoutError")
      assert.deepStrictEqual((yield* conn.query("SELECT 1 AS one")).rows, [{ one: 1 }])
    })
  )

  it.live("without killQueryOnInterrupt the connection is closed instead", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain", { killQueryOnInterrupt: false }))
      yield* Effect.timeout(conn.query("SELECT SLEEP(5)"), "100 millis").pipe(Effect.ignore)
      assert.strictEqual(conn.failure?._tag, "TransportError")
    })
  )

  // A write the server does not take cannot be settled by a KILL: the connection is closed instead.
  it.live("a statement stuck sending (the server stopped reading) is interrupted or times out promptly", () =>
    Effect.gen(function* () {
      const proxy = yield* FaultProxy.start({ target: { host: target.host, port: target.port } })
      const viaProxy = (extra: Parameters<typeof optionsFor>[1]) =>
        connect({ ...optionsFor("plain", extra), host: proxy.host, port: proxy.port, ssl: { mode: "disabled" } })
      const huge = `SELECT LENGTH('${"x".repeat(24 * 1024 * 1024)}')`

      const interrupted = yield* viaProxy({})
      yield* proxy.setMode(FaultProxy.blackhole)
      const fiber = yield* Effect.forkChild(interrupted.query(huge))
      yield* Effect.sleep("200 millis")
      const [, millis] = yield* elapsed(Fiber.interrupt(fiber))
      assert.isBelow(millis, 1000)
      assert.strictEqual(interrupted.failure?._tag, "TransportError")

      yield* proxy.setMode(FaultProxy.forward)
      const timed = yield* viaProxy({ statementTimeout: "300 millis" })
      yield* proxy.setMode(FaultProxy.blackhole)
      const [error, timedMillis] = yield* elapsed(Effect.flip(timed.query(huge)))
      assert.isBelow(timedMillis, 1500)
      assert.isTrue(Exit.isSuccess(error) && error.value._tag === "StatementTimeoutError")
      assert.strictEqual(timed.failure?._tag, "TransportError")
    })
  )

  it.live("closing a connection whose network went silent does not wait for the server", () =>
    Effect.gen(function* () {
      const proxy = yield* FaultProxy.start({ target: { host: target.host, port: target.port } })
      const [exit, millis] = yield* elapsed(
        Effect.scoped(
          Effect.gen(function* () {
            const conn = yield* connect({
              ...optionsFor("plain"),
              host: proxy.host,
              port: proxy.port,
              ssl: { mode: "disabled" }
            })
            assert.deepStrictEqual((yield* conn.query("SELECT 1 AS one")).rows, [{ one: 1 }])
            yield* proxy.setMode(FaultProxy.blackhole)
          })
        )
      )
      assert.isTrue(Exit.isSuccess(exit))
      assert.isBelow(millis, 2000)
    })
  )

  it.live(
    "through SqlClient: a timed-out statement fails with StatementTimeoutError, the pool keeps the connection",
    () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const client = yield* MysqlClient.MysqlClient
        const error = yield* Effect.flip(sql`SELECT SLEEP(10)`)
        assert.strictEqual(error.reason._tag, "StatementTimeoutError")
        yield* Effect.timeout(sql`SELECT SLEEP(10)`, "100 millis").pipe(Effect.ignore)
        assert.deepStrictEqual(yield* sql`SELECT 1 AS one`, [{ one: 1 }])
        const stats = yield* client.stats
        assert.strictEqual(stats.opened, 1)
        assert.strictEqual(stats.closed, 0)
      }).pipe(Effect.provide(clientLayer("plain", { statementTimeout: "200 millis" })))
  )

  it.live("through SqlClient: withStatementTimeout sets the timeout of the statements in one effect", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const error = yield* Effect.flip(sql`SELECT SLEEP(10)`.pipe(MysqlClient.withStatementTimeout("150 millis")))
      assert.strictEqual(error.reason._tag, "StatementTimeoutError")
      assert.deepStrictEqual(yield* sql`SELECT SLEEP(0.3) AS s`, [{ s: 0 }])
    }).pipe(Effect.provide(clientLayer("plain")))
  )
})

describe("a black-holed network", () => {
  const viaProxy = (proxy: FaultProxy.FaultProxy, extra: Parameters<typeof clientLayer>[1]) =>
    MysqlClient.layer({
      ...optionsFor("plain"),
      host: proxy.host,
      port: proxy.port,
      ssl: { mode: "disabled" },
      ...extra
    }).pipe(Layer.provide(TransportLive))

  it.live("fails the query with a TimeoutError within its read deadline; the pool replaces the connection", () =>
    Effect.gen(function* () {
      const proxy = yield* FaultProxy.start({ target: { host: target.host, port: target.port } })
      yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const client = yield* MysqlClient.MysqlClient
        assert.deepStrictEqual(yield* sql`SELECT 1 AS one`, [{ one: 1 }])
        yield* proxy.setMode(FaultProxy.blackhole)
        const [exit, millis] = yield* elapsed(sql`SELECT 2 AS two`)
        assert.isBelow(millis, 2500)
        assert.isTrue(exit._tag === "Failure")
        if (exit._tag === "Failure") {
          const error = exit.cause.reasons.find((r) => r._tag === "Fail")
          const reason = (error as { error: { reason: { _tag: string; cause: { _tag: string } } } }).error.reason
          assert.strictEqual(reason._tag, "ConnectionError")
          assert.strictEqual(reason.cause._tag, "TimeoutError")
        }
        yield* proxy.setMode(FaultProxy.forward)
        assert.deepStrictEqual(yield* sql`SELECT 3 AS three`, [{ three: 3 }])
        const stats = yield* client.stats
        assert.strictEqual(stats.closed, 1)
        assert.strictEqual(stats.opened, 2)
      }).pipe(
        Effect.provide(
          viaProxy(proxy, { readTimeout: "500 millis", cancelTimeout: "500 millis", heartbeatInterval: false })
        )
      )
    })
  )

  it.live("heartbeats find a silent idle connection and the pool replaces it", () =>
    Effect.gen(function* () {
      const proxy = yield* FaultProxy.start({ target: { host: target.host, port: target.port } })
      yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const client = yield* MysqlClient.MysqlClient
        yield* proxy.setMode(FaultProxy.blackhole)
        yield* Effect.sleep("1 second")
        yield* proxy.setMode(FaultProxy.forward)
        const stats = yield* client.stats
        assert.isAtLeast(stats.closed, 1)
        assert.deepStrictEqual(yield* sql`SELECT 1 AS one`, [{ one: 1 }])
      }).pipe(
        Effect.provide(
          viaProxy(proxy, {
            minConnections: 1,
            heartbeatInterval: "200 millis",
            validationTimeout: "300 millis",
            connectTimeout: "2 seconds"
          })
        )
      )
    })
  )
})

describe("SQL in the finalizers of an interrupted fiber", () => {
  /** A new table of its own for each test. */
  const table = (name: string) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe(`DROP TABLE IF EXISTS ${name}`)
      yield* sql.unsafe(`CREATE TABLE ${name} (id INT PRIMARY KEY) ENGINE=InnoDB`)
    })

  const countOf = (name: string) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql.unsafe<{ n: bigint | number }>(`SELECT COUNT(*) AS n FROM ${name}`)
      return Number(rows[0]!.n)
    })

  it.live("an interrupted withTransaction ends interrupted, and its ROLLBACK ran", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const client = yield* MysqlClient.MysqlClient
      yield* table("interrupted_tx")
      const fiber = yield* Effect.forkChild(
        sql.withTransaction(Effect.andThen(sql`INSERT INTO interrupted_tx VALUES (1)`, Effect.never))
      )
      yield* Effect.sleep("300 millis")
      yield* Fiber.interrupt(fiber)
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit) && Exit.hasInterrupts(exit) && !Exit.hasDies(exit), String(exit))
      assert.strictEqual(yield* countOf("interrupted_tx"), 0)
      // The ROLLBACK left the connection usable: the pool did not have to replace it.
      assert.strictEqual((yield* client.stats).closed, 0)
    }).pipe(Effect.provide(clientLayer("plain")))
  )

  it.live("Effect.ensuring(INSERT) on an interrupted fiber writes its row", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* table("ensured_insert")
      const fiber = yield* Effect.forkChild(
        Effect.never.pipe(Effect.ensuring(Effect.orDie(sql`INSERT INTO ensured_insert VALUES (1)`)))
      )
      yield* Effect.sleep("200 millis")
      yield* Fiber.interrupt(fiber)
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.hasInterrupts(exit) && !Exit.hasDies(exit), String(exit))
      assert.strictEqual(yield* countOf("ensured_insert"), 1)
    }).pipe(Effect.provide(clientLayer("plain")))
  )
})
