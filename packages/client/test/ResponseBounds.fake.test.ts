// A server that keeps sending valid packets: an endless run of results, or a result set larger
// than the client agreed to buffer. Each ends in a ProtocolError naming the limit and a closed
// connection, with the client's memory bounded; a stream is not bounded by the response size.
import { assert, describe, it } from "@effect/vitest"
import { FakeServer } from "@effect-mysql/fake-server"
import {
  ColumnFlag,
  ColumnType,
  makeColumnDefinition,
  makeOkPacket,
  OkPacket,
  StatusFlag
} from "@effect-mysql/protocol"
import { Effect, Result, Stream } from "effect"
import { connect, optionsFor } from "./fakeSupport.ts"

const user = "app"
const password = "app-secret"
const accounts = [{ user, password }]
const plain = { ssl: { mode: "disabled" } } as const

const okPayload = (statusFlags: number) => Result.getOrThrow(OkPacket.encode(makeOkPacket({ statusFlags })))
const moreResults = okPayload(StatusFlag.SERVER_STATUS_AUTOCOMMIT | StatusFlag.SERVER_MORE_RESULTS_EXISTS)
const last = okPayload(StatusFlag.SERVER_STATUS_AUTOCOMMIT)

/** Answers `SELECT 1` with `count` OKs saying "more results exist", then a last OK. */
const manyResultsServer = (count: number) =>
  FakeServer.start({
    accounts,
    cachedUsers: [user],
    hooks: {
      onCommand: (command, session) =>
        command._tag === "ComQuery" && command.query === "SELECT 1"
          ? Effect.gen(function* () {
              for (let sent = 0; sent < count; sent += 1000) {
                yield* session.send(
                  "command",
                  Array.from({ length: Math.min(1000, count - sent) }, () => moreResults)
                )
              }
              yield* session.send("command", [last])
              return true
            }).pipe(Effect.catch(() => Effect.succeed(true)))
          : Effect.succeed(false)
    }
  })

const wide = "x".repeat(1000)
const bigAnswer: FakeServer.FakeAnswer = {
  _tag: "ResultSet",
  columns: [
    makeColumnDefinition({
      name: "s",
      type: ColumnType.VAR_STRING,
      collation: 45,
      columnLength: 4000,
      flags: ColumnFlag.NOT_NULL
    })
  ],
  rows: Array.from({ length: 1000 }, () => [wide])
}

describe("bounded responses", () => {
  it.effect(
    "200,000 results flagged SERVER_MORE_RESULTS_EXISTS: ProtocolError at maxResults (default 10,000), bounded memory",
    () =>
      Effect.gen(function* () {
        const server = yield* manyResultsServer(200_000)
        const conn = yield* connect(optionsFor(server, user, password, plain))
        const before = process.memoryUsage().rss
        const error = yield* Effect.flip(conn.queryAll("SELECT 1"))
        assert.strictEqual(error._tag, "ProtocolError", `${error._tag}: ${error.message}`)
        if (error._tag === "ProtocolError") assert.strictEqual(error.field, "maxResults")
        assert.include(error.message, "10000")
        assert.isBelow(process.memoryUsage().rss - before, 64 * 1024 * 1024)
        assert.isDefined(conn.failure)
        const later = yield* Effect.flip(conn.query("SELECT 1"))
        assert.strictEqual(later._tag, "TransportError")
      }),
    30_000
  )

  it.effect("maxResults is an option: 20 results pass with maxResults 21, fail with 20", () =>
    Effect.gen(function* () {
      const server = yield* manyResultsServer(20)
      const roomy = yield* connect(optionsFor(server, user, password, { ...plain, maxResults: 21 }))
      assert.strictEqual((yield* roomy.queryAll("SELECT 1")).length, 21)
      const tight = yield* connect(optionsFor(server, user, password, { ...plain, maxResults: 20 }))
      const error = yield* Effect.flip(tight.queryAll("SELECT 1"))
      assert.strictEqual(error._tag, "ProtocolError")
    })
  )

  it.effect("a buffered result over maxResponseSize: ProtocolError, connection closed; a stream of it passes", () =>
    Effect.gen(function* () {
      const server = yield* FakeServer.start({
        accounts,
        cachedUsers: [user],
        statements: (sql) => (sql === "SELECT big" ? bigAnswer : undefined)
      })
      const options = optionsFor(server, user, password, { ...plain, maxResponseSize: 256 * 1024 })
      const conn = yield* connect(options)
      const error = yield* Effect.flip(conn.query("SELECT big"))
      assert.strictEqual(error._tag, "ProtocolError", `${error._tag}: ${error.message}`)
      if (error._tag === "ProtocolError") assert.strictEqual(error.field, "maxResponseSize")
      assert.isDefined(conn.failure)

      const streaming = yield* connect(options)
      const rows = yield* Stream.runCount(streaming.stream("SELECT big"))
      assert.strictEqual(rows, 1000)
      assert.isUndefined(streaming.failure)
    })
  )

  it.effect("maxResults and maxResponseSize refuse values that cannot work", () =>
    Effect.gen(function* () {
      const server = yield* FakeServer.start({ accounts })
      for (const extra of [{ maxResults: 0 }, { maxResults: 1.5 }, { maxResponseSize: 10 }]) {
        const error = yield* Effect.flip(Effect.scoped(connect(optionsFor(server, user, password, extra))))
        assert.strictEqual(error._tag, "ConfigError")
        if (error._tag === "ConfigError") assert.strictEqual(error.option, Object.keys(extra)[0])
      }
    })
  )
})
