// MysqlClient over connections the application already has: a MysqlPool it keeps, or a single
// MysqlConnection whose transactions take turns.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { SqlClient } from "effect/sql"
import { MysqlClient, MysqlPool } from "../src/index.ts"
import { connect, optionsFor, TransportLive } from "./support.ts"

describe("fromPool", () => {
  it.effect("runs statements on the pool's connections and leaves the pool open when it closes", () =>
    Effect.gen(function* () {
      const pool = yield* MysqlPool.make(optionsFor("plain"), { maxConnections: 2 })
      const rows = yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        return yield* sql<{ N: number }>`SELECT ${41} + 1 AS n`
      }).pipe(
        Effect.provide(
          MysqlClient.layerFrom(MysqlClient.fromPool(pool, { transformResultNames: (n) => n.toUpperCase() }))
        )
      )
      assert.deepStrictEqual(rows, [{ N: 42 }])
      const after = yield* pool.use((connection) => connection.query<{ one: number }>("SELECT 1 AS one"))
      assert.deepStrictEqual(after.rows, [{ one: 1 }])
    }).pipe(Effect.scoped, Effect.provide(TransportLive))
  )
})

describe("fromConnection", () => {
  it.live("gives each transaction the connection to itself, and rolls back a failed one", () =>
    Effect.gen(function* () {
      const connection = yield* connect(optionsFor("plain"))
      const client = yield* MysqlClient.fromConnection(connection, { disablePreparedStatements: true })
      const sql: SqlClient.SqlClient = client
      yield* sql`CREATE OR REPLACE TABLE existing_turns (id INT PRIMARY KEY, fiber VARCHAR(8))`
      // Each transaction writes, waits, then counts its own rows: another's rows between its
      // statements would mean the two shared the connection's transaction.
      const transaction = (fiber: string, ids: ReadonlyArray<number>) =>
        sql.withTransaction(
          Effect.gen(function* () {
            for (const id of ids) {
              yield* sql`INSERT INTO existing_turns VALUES (${id}, ${fiber})`
              yield* Effect.sleep("20 millis")
            }
            const [row] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM existing_turns WHERE fiber <> ${fiber}`
            return Number(row!.n)
          })
        )
      const a = yield* Effect.forkChild(transaction("a", [1, 2, 3]))
      const b = yield* Effect.forkChild(transaction("b", [4, 5, 6]))
      yield* Effect.sleep("30 millis")
      assert.deepStrictEqual(
        { borrowed: (yield* client.stats).borrowed, waiting: (yield* client.stats).waiting },
        { borrowed: 1, waiting: 1 },
        "one transaction holds the connection, the other waits its turn"
      )
      const others = [yield* Fiber.join(a), yield* Fiber.join(b)].sort()
      assert.deepStrictEqual(others, [0, 3])
      const failed = yield* Effect.flip(
        sql.withTransaction(Effect.andThen(sql`INSERT INTO existing_turns VALUES (7, 'c')`, Effect.fail("undo")))
      )
      assert.strictEqual(failed, "undo")
      const [count] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM existing_turns`
      assert.strictEqual(Number(count!.n), 6)
      const after = yield* client.stats
      assert.deepStrictEqual([after.borrowed, after.waiting], [0, 0])
      yield* sql`DROP TABLE existing_turns`
    }).pipe(Effect.scoped, Effect.provide(Layer.merge(TransportLive, Reactivity.layer)))
  )
})
