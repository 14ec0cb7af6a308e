// Pipelining seen from the server: a fake server that waits for the client's next command before it
// answers the first tells whether that command was written while the first answer was still due.
import { assert, describe, it } from "@effect/vitest"
import { FakeServer } from "@effect-mysql/fake-server"
import { type ClientCommand, decodeCommand, encodePacket, makeOkPacket, OkPacket } from "@effect-mysql/protocol"
import { type Duration, Effect, Result } from "effect"
import { connect, optionsFor } from "./fakeSupport.ts"

// A native-password account: the login needs no RSA exchange over the plaintext connection.
const accounts = [{ user: "app", password: "app-secret", plugin: "mysql_native_password" }]

const isQuery = (command: ClientCommand, sql: string) => command._tag === "ComQuery" && command.query === sql

/**
 * A server that, given `SELECT 'first'`, waits up to `within` for the client's next command before
 * it answers. Without one, it answers the first alone (an OK, 1 affected row); with a pipelined
 * `SELECT 'second'`, it answers both (OKs with 1 and 2 affected rows, each from sequence id 1).
 * `early` is the command that arrived while the first answer was still due.
 */
const waitingForSecond = (within: Duration.Input) =>
  Effect.gen(function* () {
    const seen: { early: ClientCommand | undefined } = { early: undefined }
    const server = yield* FakeServer.start({
      accounts,
      hooks: {
        onCommand: (command, session) => {
          if (!isQuery(command, "SELECT 'first'")) return Effect.succeed(false)
          const ok = (affectedRows: number) =>
            encodePacket(Result.getOrThrow(OkPacket.encode(makeOkPacket({ affectedRows }), session.capabilities)), 1)
              .bytes
          return Effect.gen(function* () {
            session.startCommand()
            const next = yield* session.receive("command").pipe(Effect.timeoutOption(within))
            if (next._tag === "None") {
              yield* session.sendRaw(ok(1))
              return true
            }
            const decoded = decodeCommand(next.value, session.capabilities)
            if (Result.isFailure(decoded)) return false
            seen.early = decoded.success
            if (!isQuery(decoded.success, "SELECT 'second'")) return false
            yield* session.sendRaw(new Uint8Array([...ok(1), ...ok(2)]))
            return true
          }).pipe(Effect.orDie)
        }
      }
    })
    return { server, seen }
  })

describe("pipelining against a fake server", () => {
  it.live("a second query goes out while the answer to the first is still due; answers are matched in order", () =>
    Effect.gen(function* () {
      const { server, seen } = yield* waitingForSecond("5 seconds")
      const conn = yield* connect(optionsFor(server, "app", "app-secret"))
      const [first, second] = yield* Effect.all([conn.query("SELECT 'first'"), conn.query("SELECT 'second'")], {
        concurrency: "unbounded"
      })
      assert.isDefined(seen.early)
      assert.strictEqual(first.affectedRows, 1)
      assert.strictEqual(second.affectedRows, 2)
      // The connection is in step afterwards.
      assert.deepStrictEqual((yield* conn.query("SELECT 7 AS n")).rows, [{ n: 7 }])
    }).pipe(Effect.scoped)
  )

  it.live("text with parameters waits for earlier answers: its escaping depends on the sql_mode they leave", () =>
    Effect.gen(function* () {
      const { server, seen } = yield* waitingForSecond("300 millis")
      const conn = yield* connect(optionsFor(server, "app", "app-secret"))
      const [, second] = yield* Effect.all(
        [conn.query("SELECT 'first'"), conn.query("SELECT ? AS n", { params: [5] })],
        { concurrency: "unbounded" }
      )
      assert.isUndefined(seen.early)
      assert.deepStrictEqual(second.rows, [{ n: 5 }])
    }).pipe(Effect.scoped)
  )
})
