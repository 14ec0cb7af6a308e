// A network that drops the connection without a word, with the default options: no readTimeout,
// only the stall check, which asks the server over a second connection what the silent connection
// is doing. Each situation ends in a typed error, bounded in time (measured and printed), while a
// legitimate statement longer than the check interval succeeds. The tests run side by side: each
// has its own fault proxy, and most of their time is the wait for the check.
import { assert, describe, it } from "@effect/vitest"
import { FaultProxy } from "@effect-mysql/testing"
import { Effect, Exit, Fiber, Layer, Stream } from "effect"
import * as Cause from "effect/Cause"
import { SqlClient } from "effect/sql"
import type { ConnectionOptions } from "../src/ConnectionOptions.ts"
import type { MysqlError } from "../src/Errors.ts"
import * as MysqlClient from "../src/MysqlClient.ts"
import { connect, optionsFor, TransportLive, target } from "./support.ts"

/** Default options (no readTimeout), through `proxy`, plaintext so the proxy sees the bytes. */
const viaProxy = (proxy: FaultProxy.FaultProxy): ConnectionOptions => ({
  ...optionsFor("plain"),
  host: proxy.host,
  port: proxy.port,
  ssl: { mode: "disabled" }
})

const startProxy = FaultProxy.start({ target: { host: target.host, port: target.port } })

/** The check's interval and the side connection's connect timeout, both defaults. */
const defaultBound = 5_000 + 10_000 + 3_000

/** Runs `effect`, whose wait starts at `dropped()`; answers its exit and the time since the drop. */
const sinceDrop = <A, E, R>(effect: Effect.Effect<A, E, R>, dropped: () => number) =>
  Effect.map(Effect.exit(effect), (exit) => [exit, Date.now() - dropped()] as const)

/** The typed error an exit failed with; a defect or an interruption fails the test. */
const failureOf = <A, E>(exit: Exit.Exit<A, E>): MysqlError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  assert.isFalse(Cause.hasDies(exit.cause), Cause.pretty(exit.cause))
  const error = Cause.findErrorOption(exit.cause)
  if (error._tag === "None") throw new Error(`no typed error: ${Cause.pretty(exit.cause)}`)
  return error.value as MysqlError
}

const report = (situation: string, millis: number, error: { readonly message: string }) =>
  Effect.sync(() => console.log(`silent drop ${situation}: error after ${millis} ms: ${error.message}`))

describe.concurrent("a silent network drop, with the default options", () => {
  it.live(
    "a statement longer than the check interval succeeds: SELECT SLEEP(7)",
    () =>
      Effect.gen(function* () {
        const proxy = yield* startProxy
        const conn = yield* connect(viaProxy(proxy))
        assert.deepStrictEqual((yield* conn.query("SELECT SLEEP(7) AS s")).rows, [{ s: 0 }])
        assert.isUndefined(conn.failure)
        // The checks opened side connections through the proxy and found the statement running.
        assert.isAtLeast(yield* proxy.accepted, 2)
      }),
    30_000
  )

  it.live(
    "mid-query: TransportError naming connectTimeout once the check cannot reach the server",
    () =>
      Effect.gen(function* () {
        const proxy = yield* startProxy
        const conn = yield* connect(viaProxy(proxy))
        const running = yield* Effect.forkChild(conn.query("SELECT SLEEP(1) AS s"))
        yield* Effect.sleep("200 millis")
        yield* proxy.setMode(FaultProxy.blackhole)
        const droppedAt = Date.now()
        const [exit, millis] = yield* sinceDrop(Fiber.join(running), () => droppedAt)
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "TransportError", error.message)
        assert.include(error.message, "connectTimeout")
        assert.isBelow(millis, defaultBound)
        assert.isDefined(conn.failure)
        yield* report("mid-query", millis, error)
      }),
    30_000
  )

  it.live(
    "mid-transaction: the next statement after the drop fails",
    () =>
      Effect.gen(function* () {
        const proxy = yield* startProxy
        const conn = yield* connect(viaProxy(proxy))
        yield* conn.query("BEGIN")
        yield* conn.query("SELECT 1")
        assert.isTrue(conn.inTransaction)
        yield* proxy.setMode(FaultProxy.blackhole)
        const droppedAt = Date.now()
        yield* Effect.sleep("500 millis")
        const [exit, millis] = yield* sinceDrop(conn.query("SELECT 2"), () => droppedAt)
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "TransportError", error.message)
        assert.isBelow(millis, defaultBound)
        assert.isFalse(conn.inTransaction)
        yield* report("mid-transaction", millis, error)
      }),
    30_000
  )

  it.live(
    "mid-stream: rows partly read, the next pull fails",
    () =>
      Effect.gen(function* () {
        const proxy = yield* startProxy
        const conn = yield* connect(viaProxy(proxy))
        let droppedAt = 0
        let rows = 0
        const [exit, millis] = yield* sinceDrop(
          Stream.runForEach(conn.stream("SELECT seq, REPEAT('x', 200) AS pad FROM seq_1_to_5000000"), () =>
            ++rows === 1000
              ? Effect.tap(proxy.setMode(FaultProxy.blackhole), () => Effect.sync(() => (droppedAt = Date.now())))
              : Effect.void
          ),
          () => droppedAt
        )
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "TransportError", error.message)
        assert.isAbove(rows, 1000)
        assert.isBelow(rows, 5_000_000)
        assert.isBelow(millis, defaultBound)
        yield* report("mid-stream", millis, error)
      }),
    30_000
  )

  it.live(
    "a pooled connection reused after the drop: the statement fails, the pool discards the connection",
    () =>
      Effect.gen(function* () {
        const proxy = yield* startProxy
        yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const client = yield* MysqlClient.MysqlClient
          assert.deepStrictEqual(yield* sql`SELECT 1 AS one`, [{ one: 1 }])
          yield* proxy.setMode(FaultProxy.blackhole)
          const droppedAt = Date.now()
          yield* Effect.sleep("500 millis")
          const [exit, millis] = yield* sinceDrop(sql`SELECT 2 AS two`, () => droppedAt)
          assert.isTrue(Exit.isFailure(exit))
          const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
          assert.strictEqual((error as { reason?: { _tag: string } }).reason?._tag, "ConnectionError")
          assert.isBelow(millis, defaultBound)
          yield* report("pooled connection reused", millis, error as Error)
          yield* proxy.setMode(FaultProxy.forward)
          assert.deepStrictEqual(yield* sql`SELECT 3 AS three`, [{ three: 3 }])
          assert.strictEqual((yield* client.stats).closed, 1)
        }).pipe(Effect.provide(MysqlClient.layer(viaProxy(proxy)).pipe(Layer.provide(TransportLive))))
      }),
    30_000
  )

  it.live(
    "a write the path stopped taking (24 MiB query): TransportError",
    () =>
      Effect.gen(function* () {
        const proxy = yield* startProxy
        const conn = yield* connect(viaProxy(proxy))
        yield* proxy.setMode(FaultProxy.blackhole)
        const droppedAt = Date.now()
        const huge = `SELECT LENGTH('${"x".repeat(24 * 1024 * 1024)}')`
        const [exit, millis] = yield* sinceDrop(conn.query(huge), () => droppedAt)
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "TransportError", error.message)
        assert.isBelow(millis, defaultBound)
        yield* report("blocked 24 MiB write", millis, error)
      }),
    30_000
  )
})

describe("readTimeout", () => {
  it.live(
    "bounds a write too: a 24 MiB query into a path that stopped reading, stall check off",
    () =>
      Effect.gen(function* () {
        const proxy = yield* startProxy
        const conn = yield* connect({ ...viaProxy(proxy), readTimeout: "500 millis", stallCheckAfter: false })
        yield* proxy.setMode(FaultProxy.blackhole)
        const huge = `SELECT LENGTH('${"x".repeat(24 * 1024 * 1024)}')`
        const error = failureOf(yield* Effect.exit(conn.query(huge)))
        assert.strictEqual(error._tag, "TimeoutError", error.message)
        if (error._tag === "TimeoutError") assert.strictEqual(error.operation, "write")
        assert.isDefined(conn.failure)
      }),
    30_000
  )
})
