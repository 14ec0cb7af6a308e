// The stall check's verdicts, against a fake server that never answers one statement and answers
// the check's process-list query as each test says: idle or unknown fail the wait at once, a
// running statement or a check that fails for another reason keeps it waiting.
import { assert, describe, it } from "@effect/vitest"
import { FakeServer } from "@effect-mysql/fake-server"
import { ColumnType, makeColumnDefinition } from "@effect-mysql/protocol"
import { Effect, Fiber, Stream } from "effect"
import { connect, optionsFor } from "./fakeSupport.ts"

const user = "app"
const password = "app-secret"

/** What the check's query answers, given the id of the connection that asks. */
type CheckAnswer = (askingConnection: number) => FakeServer.FakeAnswer

/** A server that never answers `SELECT stuck` and answers the check with `answer`. */
const serverWhoseCheckSays = (answer: CheckAnswer) =>
  FakeServer.start({
    accounts: [{ user, password }],
    cachedUsers: [user],
    statements: (sql, context) =>
      sql.includes("information_schema.PROCESSLIST") ? answer(context.connectionId) : undefined,
    hooks: {
      onCommand: (command) => Effect.succeed(command._tag === "ComQuery" && command.query === "SELECT stuck")
    }
  })

/** The process list says `command` (null: no such thread); `self` is what CONNECTION_ID() says. */
const commandIs =
  (command: string | null, self?: number): CheckAnswer =>
  (askingConnection) => ({
    _tag: "ResultSet",
    columns: [
      makeColumnDefinition({ name: "SELF", type: ColumnType.LONGLONG, columnLength: 21 }),
      makeColumnDefinition({ name: "COMMAND", type: ColumnType.VAR_STRING, collation: 45, columnLength: 64 })
    ],
    rows: [[String(self ?? askingConnection), command]]
  })

const options = (server: FakeServer.FakeServer, extra: Parameters<typeof optionsFor>[3] = {}) =>
  optionsFor(server, user, password, { ssl: { mode: "disabled" }, stallCheckAfter: "300 millis", ...extra })

describe("the stall check's verdicts", () => {
  it.live("the server reports the connection idle: TransportError after the check and its grace", () =>
    Effect.gen(function* () {
      const server = yield* serverWhoseCheckSays(commandIs("Sleep"))
      const conn = yield* connect(options(server))
      const error = yield* Effect.flip(conn.query("SELECT stuck"))
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "reports the connection idle")
      assert.isDefined(conn.failure)
      assert.strictEqual((yield* Effect.flip(conn.query("SELECT 1")))._tag, "TransportError")
    })
  )

  it.live("the server no longer knows the connection: TransportError", () =>
    Effect.gen(function* () {
      const server = yield* serverWhoseCheckSays(commandIs(null))
      const conn = yield* connect(options(server))
      const error = yield* Effect.flip(conn.query("SELECT stuck"))
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "no longer knows the connection")
    })
  )

  for (const [name, answer] of [
    ["still runs a statement", commandIs("Query")],
    [
      "cannot be asked (the check's query is refused)",
      () => ({ _tag: "Error", errno: 1227, sqlState: "42000", message: "Access denied" }) as const
    ],
    ["is a proxy's backend (CONNECTION_ID() is not the greeting's id)", commandIs("Sleep", 999_999)]
  ] as const) {
    it.live(`the server ${name}: the wait goes on, checked again at each interval`, () =>
      Effect.gen(function* () {
        const server = yield* serverWhoseCheckSays(answer)
        const conn = yield* connect(options(server))
        const waiting = yield* Effect.forkChild(conn.query("SELECT stuck"))
        yield* Effect.sleep("1500 millis")
        assert.isUndefined(waiting.pollUnsafe())
        assert.isUndefined(conn.failure)
        // The connection itself and at least three checks, each on a connection of its own.
        assert.isAtLeast(server.connections.length, 4)
        yield* Fiber.interrupt(waiting)
      })
    )
  }

  it.live("stallCheckAfter: false: no check, the wait is not judged", () =>
    Effect.gen(function* () {
      const server = yield* serverWhoseCheckSays(commandIs("Sleep"))
      const conn = yield* connect(options(server, { stallCheckAfter: false, killQueryOnInterrupt: false }))
      const waiting = yield* Effect.forkChild(conn.query("SELECT stuck"))
      yield* Effect.sleep("1 second")
      assert.isUndefined(waiting.pollUnsafe())
      assert.strictEqual(server.connections.length, 1)
      yield* Fiber.interrupt(waiting)
    })
  )

  it.live("a stream whose consumer is slow to pull is not judged", () =>
    Effect.gen(function* () {
      const server = yield* serverWhoseCheckSays(commandIs("Sleep"))
      const conn = yield* connect(options(server))
      let pulled = 0
      yield* Stream.runForEach(conn.stream("SELECT COMMAND FROM information_schema.PROCESSLIST"), () =>
        Effect.andThen(
          Effect.sleep("1 second"),
          Effect.sync(() => pulled++)
        )
      )
      assert.strictEqual(pulled, 1)
      assert.isUndefined(conn.failure)
    })
  )

  it.live("stallCheckAfter refuses what is not a positive duration or false", () =>
    Effect.gen(function* () {
      const server = yield* serverWhoseCheckSays(commandIs("Sleep"))
      const error = yield* Effect.flip(Effect.scoped(connect(options(server, { stallCheckAfter: "soon" as never }))))
      assert.strictEqual(error._tag, "ConfigError")
      if (error._tag === "ConfigError") assert.strictEqual(error.option, "stallCheckAfter")
    })
  )
})
