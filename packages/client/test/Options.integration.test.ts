// Options against the real server: text round-trips unchanged under every collation the client
// accepts, into columns of other character sets too, and a live connection prints no secret.
import { inspect } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Formatter } from "effect"
import { connect, optionsFor } from "./support.ts"

describe("collation", () => {
  for (const collation of [45, 224, 33]) {
    it.effect(`${collation}: text and parameters round-trip into utf8mb4 and latin1 columns`, () =>
      Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* connect(optionsFor("root", { collation }))
          yield* conn.query(
            "CREATE TEMPORARY TABLE charsets (l VARCHAR(8) CHARACTER SET latin1, u VARCHAR(8) CHARACTER SET utf8mb4)"
          )
          yield* conn.execute("INSERT INTO charsets VALUES (?, ?)", ["é", "é"])
          yield* conn.query("INSERT INTO charsets VALUES ('ü', 'ü')")
          const rows = yield* conn.query("SELECT l, u, HEX(l) AS lh, HEX(u) AS uh FROM charsets")
          assert.deepStrictEqual(rows.rows, [
            { l: "é", u: "é", lh: "E9", uh: "C3A9" },
            { l: "ü", u: "ü", lh: "FC", uh: "C3BC" }
          ])
        })
      )
    )
  }
})

describe("secrets", () => {
  it.effect("a connection opened with a string password prints it nowhere", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const options = optionsFor("root")
        const conn = yield* connect(options)
        const password = options.password as string
        assert.notInclude(inspect(conn, { depth: 10 }), password)
        assert.notInclude(Formatter.format(conn), password)
        assert.notInclude(JSON.stringify(conn), password)
      })
    )
  )
})
