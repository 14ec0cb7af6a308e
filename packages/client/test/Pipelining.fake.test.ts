// Pipelining seen from the server: a fake server that will not answer the first command until the
// second has arrived proves the second was written while the first answer was still due.
import { assert, describe, it } from "@effect/vitest"
import { FakeServer } from "@effect-mysql/fake-server"
import { type ClientCommand, decodeCommand, encodePacket, makeOkPacket, OkPacket } from "@effect-mysql/protocol"
import { type Duration, Effect, Result } from "effect"
import { connect, optionsFor } from "./fakeSupport.ts"

// A native-password account: the login needs no RSA exchange over the plaintext connection.
const accounts = [{ user: "app", password: "app-secret", plugin: "mysql_native_password" }]

const isQuery = (command: ClientCommand, sql: string) => command._tag === "ComQuery" && command.query === sql

/**
 * A server that holds its answer to `SELECT 'first'` until the client's next command has arrived,
 * then answers both (each from sequence id 1): OKs with 1 and 2 affected rows.
 */
const holdsFirstAnswer = (waitForSecond: Duration.Input) =>
  FakeServer.start({
    accounts,
    hooks: {
      onCommand: (command, session) => {
        if (!isQuery(command, "SELECT 'first'")) return Effect.succeed(false)
        return Effect.gen(function* () {
          session.startCommand()
          const second = yield* session.receive("command").pipe(Effect.timeout(waitForSecond))
          const decoded = decodeCommand(second, session.capabilities)
          const ok = (affectedRows: number) =>
            encodePacket(Result.getOrThrow(OkPacket.encode(makeOkPacket({ affectedRows }), session.capabilities)), 1)
              .bytes
          if (Result.isFailure(decoded) || !isQuery(decoded.success, "SELECT 'second'")) return false
          yield* session.sendRaw(new Uint8Array([...ok(1), ...ok(2)]))
          return true
        }).pipe(Effect.orDie)
      }
    }
  })

describe("pipelining against a fake server", () => {
  it.live("a second query goes out while the answer to the first is still due; answers are matched in order", () =>
    Effect.gen(function* () {
      const server = yield* holdsFirstAnswer("5 seconds")
      const conn = yield* connect(optionsFor(server, "app", "app-secret"))
      const [first, second] = yield* Effect.all([conn.query("SELECT 'first'"), conn.query("SELECT 'second'")], {
        concurrency: "unbounded"
      })
      assert.strictEqual(first.affectedRows, 1)
      assert.strictEqual(second.affectedRows, 2)
      // The connection is in step afterwards.
      assert.deepStrictEqual((yield* conn.query("SELECT 7 AS n")).rows, [{ n: 7n }])
    }).pipe(Effect.scoped)
  )

  it.live("text with parameters waits for earlier answers: its escaping depends on the sql_mode they leave", () =>
    Effect.gen(function* () {
      // The server waits a moment for a second command before it answers the first.
      let early: Uint8Array | undefined
      const server = yield* FakeServer.start({
        accounts,
        hooks: {
          onCommand: (command, session) => {
            if (!isQuery(command, "SELECT 'first'")) return Effect.succeed(false)
            return Effect.gen(function* () {
              session.startCommand()
              early = yield* session.receive("command").pipe(
                Effect.timeoutOption("300 millis"),
                Effect.map((received) => (received._tag === "Some" ? received.value : undefined))
              )
              const ok = Result.getOrThrow(OkPacket.encode(makeOkPacket(), session.capabilities))
              yield* session.sendRaw(encodePacket(ok, 1).bytes)
              return true
            }).pipe(Effect.orDie)
          }
        }
      })
      const conn = yield* connect(optionsFor(server, "app", "app-secret"))
      const [, second] = yield* Effect.all(
        [conn.query("SELECT 'first'"), conn.query("SELECT ? AS n", { params: [5] })],
        { concurrency: "unbounded" }
      )
      assert.isUndefined(early)
      assert.deepStrictEqual(second.rows, [{ n: 5n }])
    }).pipe(Effect.scoped)
  )
})
