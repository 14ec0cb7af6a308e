// `types.cast`: a conversion of one's own, chosen per column once per result set, over the text and
// the binary protocol, per connection and per statement; a cast that throws fails the statement.
import { assert, describe, it } from "@effect/vitest"
import { ColumnType, type ValueOptions } from "@effect-mysql/protocol"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { clientLayer, connect, optionsFor } from "./support.ts"

// DECIMAL columns as a tagged amount in cents; everything else as decoded.
const types: ValueOptions = Object.freeze<ValueOptions>({
  cast: (column) =>
    column.type === ColumnType.NEWDECIMAL
      ? (value: unknown) => (value === null ? null : { cents: Math.round(Number(value) * 100) })
      : undefined
})

const sql = "SELECT CAST(12.34 AS DECIMAL(10,2)) AS price, 'x' AS name, CAST(NULL AS DECIMAL(4,2)) AS none"
const expected = [{ price: { cents: 1234 }, name: "x", none: null }]

describe("types.cast", () => {
  it.effect("converts the columns it chooses, through both protocols and per statement", () =>
    Effect.gen(function* () {
      const connection = yield* connect(optionsFor("plain", { types }))
      assert.deepStrictEqual((yield* connection.query(sql)).rows, expected)
      assert.deepStrictEqual((yield* connection.execute(`${sql} FROM DUAL WHERE ? = 1`, [1])).rows, expected)
      const plain = yield* connect(optionsFor("plain"))
      assert.deepStrictEqual((yield* plain.query(sql, { types })).rows, expected)
      assert.deepStrictEqual((yield* plain.query(sql)).rows, [{ price: "12.34", name: "x", none: null }])
    })
  )

  it.effect("reaches SqlClient's rows", () =>
    Effect.gen(function* () {
      const client = yield* SqlClient.SqlClient
      assert.deepStrictEqual(yield* client.unsafe(sql), expected)
    }).pipe(Effect.provide(clientLayer("plain", { types })))
  )

  it.effect("a cast that throws fails the statement with a ProtocolError naming the column", () =>
    Effect.gen(function* () {
      const failing: ValueOptions = {
        cast: (column) =>
          column.name === "name"
            ? () => {
                throw new Error("no names here")
              }
            : undefined
      }
      const connection = yield* connect(optionsFor("plain"))
      const error = yield* Effect.flip(connection.query(sql, { types: failing }))
      assert.strictEqual(error._tag, "ProtocolError")
      assert.include(error.message, "types.cast of column name threw: no names here")
    })
  )
})
