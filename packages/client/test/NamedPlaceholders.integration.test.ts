// `:name` placeholders against the run's server, through every command that takes values: a
// prepared statement, text with values written in, and a stream.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { connect, optionsFor } from "./support.ts"

describe("named placeholders", () => {
  it.effect("fill execute, query and stream, and a misspelt name is refused before anything is sent", () =>
    Effect.gen(function* () {
      const connection = yield* connect(optionsFor("plain"))
      const executed = yield* connection.execute("SELECT :a AS a, :b AS b, :a + 1 AS c, '12:30' AS t", {
        a: 41,
        b: "x"
      })
      assert.deepStrictEqual(executed.rows, [{ a: 41, b: "x", c: 42, t: "12:30" }])
      const text = yield* connection.query("SELECT :name AS name", { params: { name: "it's" } })
      assert.deepStrictEqual(text.rows, [{ name: "it's" }])
      const streamed = yield* connection
        .stream<{ seq: number }>("SELECT seq FROM seq_1_to_10 WHERE seq > :from", { from: 7 })
        .pipe(Stream.runCollect)
      assert.deepStrictEqual(streamed, [{ seq: 8 }, { seq: 9 }, { seq: 10 }])
      const misspelt = yield* Effect.flip(connection.execute("SELECT :id", { idd: 1 }))
      assert.strictEqual(misspelt._tag, "ArgumentError")
      assert.include(misspelt.message, "no value for the placeholder :id")
      assert.isUndefined(connection.failure)
    })
  )
})
