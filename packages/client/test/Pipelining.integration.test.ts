// Commands issued concurrently on one connection are pipelined: every answer goes to its own
// caller, and an error, an interruption or a timeout of one leaves the others correct.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Stream } from "effect"
import { LocalInfile, type MysqlConnection } from "../src/index.ts"
import { connect, optionsFor, running } from "./support.ts"

const inStep = (conn: MysqlConnection.MysqlConnection) =>
  Effect.gen(function* () {
    assert.isUndefined(conn.failure)
    assert.deepStrictEqual((yield* conn.query("SELECT CONNECTION_ID() AS id")).rows, [{ id: conn.info.connectionId }])
  })

describe("pipelining on one connection", () => {
  it.live("1,000 concurrent executions and queries: every caller gets its own answer", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      yield* conn.execute("SELECT ? AS n", [0])
      const answers = yield* Effect.forEach(
        Array.from({ length: 1000 }, (_, i) => i),
        (i) =>
          i % 3 === 0
            ? Effect.map(conn.query<{ n: number }>(`SELECT ${i} AS n`), (r) => Number(r.rows[0]!.n))
            : Effect.map(conn.execute<{ n: bigint }>("SELECT ? AS n", [i]), (r) => Number(r.rows[0]!.n)),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(
        answers,
        Array.from({ length: 1000 }, (_, i) => i)
      )
      yield* inStep(conn)
    })
  )

  it.live(
    "a failing statement among pipelined ones fails alone; streams, prepares and text with values wait their turn",
    () =>
      Effect.gen(function* () {
        const conn = yield* connect(optionsFor("plain", { multipleStatements: true }))
        const results = yield* Effect.all(
          [
            Effect.exit(conn.query("SELECT 1 AS a")),
            Effect.exit(conn.query("SELECT * FROM no_such_table")),
            Effect.exit(conn.execute("SELECT ? AS b", ["two"])),
            Effect.exit(Stream.runCollect(conn.stream("SELECT seq AS c FROM seq_1_to_3"))),
            Effect.exit(conn.query("SELECT ? AS d", { params: ["it's"] })),
            Effect.exit(conn.ping),
            Effect.exit(conn.queryAll("SELECT 5 AS e; SELECT 6 AS f")),
            Effect.exit(conn.execute("SELECT ? + 1 AS g", [6]))
          ],
          { concurrency: "unbounded" }
        )
        const [a, missing, b, c, d, ping, ef, g] = results
        assert.deepStrictEqual(Exit.isSuccess(a) && a.value.rows, [{ a: 1 }])
        assert.isTrue(Exit.isFailure(missing))
        assert.deepStrictEqual(Exit.isSuccess(b) && b.value.rows, [{ b: "two" }])
        assert.deepStrictEqual(Exit.isSuccess(c) && c.value, [{ c: 1 }, { c: 2 }, { c: 3 }])
        assert.deepStrictEqual(Exit.isSuccess(d) && d.value.rows, [{ d: "it's" }])
        assert.isTrue(Exit.isSuccess(ping))
        assert.deepStrictEqual(Exit.isSuccess(ef) && ef.value.map((result) => result.rows), [[{ e: 5 }], [{ f: 6 }]])
        assert.deepStrictEqual(Exit.isSuccess(g) && g.value.rows, [{ g: 7 }])
        yield* inStep(conn)
      })
  )

  it.live(
    "the interrupted head of a queue is not killed (the KILL could reach the next one): the rest of its answer is read",
    () =>
      Effect.gen(function* () {
        const conn = yield* connect(optionsFor("plain"))
        const observer = yield* connect(optionsFor("root"))
        const slow = yield* Effect.forkChild(conn.query("SELECT SLEEP(0.5) AS s"))
        yield* Effect.sleep("50 millis")
        const behind = yield* Effect.forkChild(
          Effect.all([conn.execute("SELECT ? AS n", [1]), conn.query("SELECT 2 AS n")], { concurrency: "unbounded" })
        )
        yield* Effect.sleep("50 millis")
        assert.strictEqual(yield* running(observer, "SELECT SLEEP(0.5) AS s"), 1)
        yield* Fiber.interrupt(slow)
        const [one, two] = yield* Fiber.join(behind)
        assert.deepStrictEqual(one.rows, [{ n: 1 }])
        assert.deepStrictEqual(two.rows, [{ n: 2 }])
        yield* inStep(conn)
      })
  )

  it.live("alone in the queue, an interrupted statement is killed as before", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const observer = yield* connect(optionsFor("root"))
      const fiber = yield* Effect.forkChild(conn.query("SELECT SLEEP(30)"))
      yield* Effect.sleep("100 millis")
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* running(observer, "SELECT SLEEP(30)"), 0)
      yield* inStep(conn)
    })
  )

  it.live("a command interrupted while it waits its turn still has its answer read; the next one gets its own", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const slow = yield* Effect.forkChild(conn.query("SELECT SLEEP(0.3) AS s"))
      yield* Effect.sleep("50 millis")
      const waiting = yield* Effect.forkChild(conn.query("SELECT 'interrupted' AS w"))
      const last = yield* Effect.forkChild(conn.execute("SELECT ? AS l", ["last"]))
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(waiting)
      assert.deepStrictEqual((yield* Fiber.join(last)).rows, [{ l: "last" }])
      assert.deepStrictEqual((yield* Fiber.join(slow)).rows, [{ s: 0 }])
      yield* inStep(conn)
    })
  )

  it.live("a statement timeout of one pipelined statement leaves the others' answers", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const [timedOut, next] = yield* Effect.all(
        [Effect.flip(conn.query("SELECT SLEEP(1)", { timeout: "200 millis" })), conn.query("SELECT 3 AS n")],
        { concurrency: "unbounded" }
      )
      assert.strictEqual(timedOut._tag, "StatementTimeoutError")
      assert.deepStrictEqual(next.rows, [{ n: 3 }])
      yield* inStep(conn)
    })
  )

  it.live("under compression, concurrent commands take turns whole and answer correctly", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain", { compression: { algorithms: ["zlib"], required: true } }))
      const answers = yield* Effect.forEach(
        Array.from({ length: 50 }, (_, i) => i),
        (i) => Effect.map(conn.execute<{ n: bigint }>("SELECT ? AS n", [i]), (r) => Number(r.rows[0]!.n)),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(
        answers,
        Array.from({ length: 50 }, (_, i) => i)
      )
      yield* inStep(conn)
    })
  )

  it.live(
    "with LOCAL INFILE allowed, text waits its turn: a command written behind a LOAD would be read as the file",
    () =>
      Effect.gen(function* () {
        const conn = yield* connect(
          optionsFor("root", { localInfile: LocalInfile.fromMap({ "numbers.txt": "1\n2\n3\n" }) })
        )
        yield* conn.query("CREATE TEMPORARY TABLE loaded (n INT)")
        const [load, after, execution] = yield* Effect.all(
          [
            conn.query("LOAD DATA LOCAL INFILE 'numbers.txt' INTO TABLE loaded"),
            conn.query("SELECT COUNT(*) AS n FROM loaded"),
            conn.execute("SELECT ? AS x", ["x"])
          ],
          { concurrency: "unbounded" }
        )
        assert.strictEqual(load.affectedRows, 3)
        assert.deepStrictEqual(after.rows, [{ n: 3 }])
        assert.deepStrictEqual(execution.rows, [{ x: "x" }])
        yield* inStep(conn)
      })
  )
})
