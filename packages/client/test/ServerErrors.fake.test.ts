// Errors after which a server closes the connection, against the fake server, which answers them
// and keeps the socket open: the errno alone must make the connection unusable (a real server's
// close races with the client's next read).
import { assert, describe, it } from "@effect/vitest"
import { FakeServer } from "@effect-mysql/fake-server"
import { Effect } from "effect"
import { connect, optionsFor } from "./fakeSupport.ts"

const accounts = [{ user: "app", password: "app-secret" }]

const answering = (errno: number, sqlState: string, flavor: "mysql" | "mariadb") =>
  FakeServer.start({
    accounts,
    flavor,
    cachedUsers: ["app"],
    statements: (sql) => (sql === "FAIL" ? { _tag: "Error", errno, sqlState, message: `error ${errno}` } : undefined)
  })

describe("server errors that close the connection", () => {
  const closing = [
    [1153, "08S01", "mysql"],
    [1053, "08S01", "mysql"],
    [1158, "08S01", "mysql"],
    [1161, "08S01", "mysql"],
    [1927, "70100", "mariadb"],
    [4031, "HY000", "mysql"]
  ] as const
  for (const [errno, sqlState, flavor] of closing) {
    it.effect(`${errno} (${flavor}) fails the connection: the next command fails at once, naming it`, () =>
      Effect.gen(function* () {
        const server = yield* answering(errno, sqlState, flavor)
        const conn = yield* connect(optionsFor(server, "app", "app-secret", { ssl: { mode: "disabled" } }))
        const error = yield* Effect.flip(conn.query("FAIL"))
        assert.strictEqual(error._tag, "ServerError")
        assert.include(error.message, "the server closed the connection after this error")
        assert.strictEqual(conn.failure, error)
        const next = yield* Effect.flip(conn.query("SELECT 1"))
        assert.strictEqual(next._tag, "TransportError")
        assert.include(next.message, `error ${errno}`)
      })
    )
  }

  const keeping = [
    [1317, "70100", "mysql"], // ER_QUERY_INTERRUPTED: KILL QUERY keeps the connection
    [4031, "HY000", "mariadb"], // MariaDB's 4031 is a trigger error
    [1064, "42000", "mysql"]
  ] as const
  for (const [errno, sqlState, flavor] of keeping) {
    it.effect(`${errno} (${flavor}) keeps the connection`, () =>
      Effect.gen(function* () {
        const server = yield* answering(errno, sqlState, flavor)
        const conn = yield* connect(optionsFor(server, "app", "app-secret", { ssl: { mode: "disabled" } }))
        const error = yield* Effect.flip(conn.query("FAIL"))
        assert.strictEqual(error._tag, "ServerError")
        assert.notInclude(error.message, "closed the connection")
        assert.isUndefined(conn.failure)
        assert.deepStrictEqual((yield* conn.query("SELECT 1 AS one")).rows, [{ one: 1 }])
      })
    )
  }

  it.effect("1047 (a Galera node outside the primary component) closes the connection on the client's side", () =>
    Effect.gen(function* () {
      // The node refuses every statement, ROLLBACK included: only closing ends a transaction on it.
      const server = yield* answering(1047, "08S01", "mariadb")
      const conn = yield* connect(optionsFor(server, "app", "app-secret", { ssl: { mode: "disabled" } }))
      const error = yield* Effect.flip(conn.query("FAIL"))
      assert.strictEqual(error._tag, "ServerError")
      assert.notInclude(error.message, "the server closed the connection")
      assert.strictEqual(conn.failure, error)
      assert.isFalse(conn.inTransaction)
      assert.strictEqual((yield* Effect.flip(conn.query("SELECT 1")))._tag, "TransportError")
    })
  )
})
