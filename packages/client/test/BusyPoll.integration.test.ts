// Low-latency mode against the real server: commands answer the same with busyPoll on, over TCP,
// TLS and the Unix socket; Deno, which cannot poll, and bounds the transport cannot take are refused.
import { assert, describe, it } from "@effect/vitest"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Effect } from "effect"
import type { ConnectionOptions } from "../src/ConnectionOptions.ts"
import { connect, optionsFor, target, verifyIdentity } from "./support.ts"

const busyPoll = "200 micros"

/** A text query, a prepared statement and a larger result on one connection. */
const commandsAnswer = (options: ConnectionOptions) =>
  Effect.gen(function* () {
    const conn = yield* connect(options)
    for (let i = 0; i < 20; i++) assert.deepStrictEqual((yield* conn.query("SELECT 1 AS one")).rows, [{ one: 1 }])
    assert.deepStrictEqual((yield* conn.execute("SELECT CONCAT(?, '!') AS s", ["hi"])).rows, [{ s: "hi!" }])
    const rows = yield* conn.query("SELECT seq FROM seq_1_to_5000")
    assert.strictEqual(rows.rows.length, 5000)
  }).pipe(Effect.scoped)

describe("busyPoll", () => {
  if (RuntimeTransport.runtime === "deno") {
    it.effect("is refused on Deno with a typed error", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(connect(optionsFor("plain", { busyPoll })))
        assert.strictEqual(error._tag, "TransportError")
        assert.match(error.message, /^busyPoll cannot be honoured on Deno/)
      }).pipe(Effect.scoped)
    )
  } else {
    it.effect("commands answer over TCP, TLS and the Unix socket", () =>
      Effect.gen(function* () {
        yield* commandsAnswer(optionsFor("plain", { busyPoll, ssl: { mode: "disabled" } }))
        yield* commandsAnswer(optionsFor("plain", { busyPoll, ssl: verifyIdentity }))
        if (target.socketPath !== undefined) {
          yield* commandsAnswer({ ...optionsFor("plain", { busyPoll }), socketPath: target.socketPath })
        }
      })
    )
  }

  it.effect("a bound the transport cannot take is refused, naming the option", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(connect(optionsFor("plain", { busyPoll: "20 millis" })))
      assert.strictEqual(error._tag, "TransportError")
      assert.match(error.message, /^busyPoll: 20ms is longer than 10ms/)
    }).pipe(Effect.scoped)
  )
})
