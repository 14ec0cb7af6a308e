// Every column type through the real server, written with the binary protocol and read back with
// both the text protocol (COM_QUERY) and the binary one (COM_STMT_EXECUTE), edge values included.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import type { MysqlConnection } from "../src/index.ts"
import { connect, optionsFor } from "./support.ts"

interface Case {
  readonly type: string
  /** What is written (as a parameter). */
  readonly input: unknown
  /** What reads back with the default type options (defaults to `input`). */
  readonly expected?: unknown
}

const utc = (iso: string) => new Date(iso)

const cases: ReadonlyArray<Case> = [
  { type: "TINYINT", input: -128 },
  { type: "TINYINT UNSIGNED", input: 255 },
  { type: "SMALLINT", input: -32768 },
  { type: "SMALLINT UNSIGNED", input: 65535 },
  { type: "MEDIUMINT", input: -8388608 },
  { type: "MEDIUMINT UNSIGNED", input: 16777215 },
  { type: "INT", input: -2147483648 },
  { type: "INT UNSIGNED", input: 4294967295 },
  { type: "BIGINT", input: -9223372036854775808n },
  { type: "BIGINT", input: 9223372036854775807n },
  { type: "BIGINT UNSIGNED", input: 18446744073709551615n },
  // A BIGINT is a number while it is safe (above, the limits stay bigints).
  { type: "BIGINT", input: 0n, expected: 0 },
  { type: "BIGINT UNSIGNED", input: 9007199254740991n, expected: 9007199254740991 },
  { type: "BIGINT", input: -9007199254740993n },
  { type: "FLOAT", input: 1.5 },
  { type: "DOUBLE", input: -1.2345678901234567e300 },
  { type: "DECIMAL(65,30)", input: "12345678901234567890123456789012345.123456789012345678901234567890" },
  { type: "DECIMAL(12,2)", input: "-0.50" },
  { type: "DATE", input: utc("2024-02-29T00:00:00.000Z") },
  { type: "DATETIME(6)", input: utc("2024-02-29T13:14:15.123Z") },
  { type: "DATETIME", input: utc("1970-01-01T00:00:00.000Z") },
  { type: "TIMESTAMP(3)", input: utc("2038-01-19T03:14:07.999Z") },
  { type: "TIME(6)", input: "-838:59:59.000000" },
  { type: "TIME", input: "100:00:01" },
  { type: "YEAR", input: 2155 },
  { type: "BIT(12)", input: Uint8Array.of(0x0a, 0xbc) },
  { type: "ENUM('a','b','ç')", input: "ç" },
  { type: "SET('x','y','z')", input: "x,z" },
  { type: "CHAR(4)", input: "ab" },
  { type: "VARCHAR(64)", input: "utf8mb4: 𝄞 🎉 ü" },
  { type: "VARCHAR(64)", input: "" },
  { type: "TEXT", input: "line\nbreak\ttab\\backslash'quote" },
  { type: "BINARY(4)", input: Uint8Array.of(0, 1, 2, 3) },
  { type: "VARBINARY(8)", input: Uint8Array.of(0xff, 0x00, 0x80) },
  { type: "BLOB", input: new Uint8Array(0) },
  { type: "JSON", input: '{"a":[1,2,{"b":null}],"s":"é"}', expected: { a: [1, 2, { b: null }], s: "é" } },
  { type: "INT", input: null }
]

// Dates are local by default, like mysql2 and mariadb; the test pins UTC so expectations are fixed.
const types = { timeZone: "Z" } as const

const roundTrip = (conn: MysqlConnection.MysqlConnection, testCase: Case, index: number) =>
  Effect.gen(function* () {
    const table = `types_${index}`
    yield* conn.query(`CREATE TEMPORARY TABLE ${table} (v ${testCase.type})`)
    yield* conn.execute(`INSERT INTO ${table} VALUES (?)`, [testCase.input as never])
    const text = yield* conn.query(`SELECT v FROM ${table}`)
    const binary = yield* conn.execute(`SELECT v FROM ${table} WHERE ? = 1`, [1])
    return { text: text.rows[0]!.v, binary: binary.rows[0]!.v }
  })

describe("types", () => {
  it.effect("every column type reads back the same through the text and the binary protocol", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain", { types }))
      yield* conn.query("SET time_zone = '+00:00'")
      for (const [index, testCase] of cases.entries()) {
        const { text, binary } = yield* roundTrip(conn, testCase, index)
        const expected = testCase.expected ?? testCase.input
        assert.deepStrictEqual(text, expected, `${testCase.type} (text) of ${String(testCase.input)}`)
        assert.deepStrictEqual(binary, expected, `${testCase.type} (binary) of ${String(testCase.input)}`)
      }
    })
  )

  it.effect("zero dates read as null, or as their text with dates: 'string'", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain", { types }))
      yield* conn.query("SET SESSION sql_mode = ''")
      yield* conn.query("CREATE TEMPORARY TABLE z (d DATE, t DATETIME(6))")
      yield* conn.query("INSERT INTO z VALUES ('0000-00-00', '0000-00-00 00:00:00')")
      assert.deepStrictEqual((yield* conn.query("SELECT d, t FROM z")).rows, [{ d: null, t: null }])
      assert.deepStrictEqual((yield* conn.execute("SELECT d, t FROM z WHERE ? = 1", [1])).rows, [{ d: null, t: null }])
      const strings = yield* conn.execute("SELECT d, t FROM z WHERE ? = 1", [1], { types: { dates: "string" } })
      assert.deepStrictEqual(strings.rows, [{ d: "0000-00-00", t: "0000-00-00 00:00:00.000000" }])
    })
  )

  it.effect("DATETIME(6) keeps its microseconds as text; BIGINT a number while safe, a bigint when asked", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const text = yield* conn.query("SELECT CAST('2024-02-29 13:14:15.123456' AS DATETIME(6)) AS t", {
        types: { dates: "string" }
      })
      assert.deepStrictEqual(text.rows, [{ t: "2024-02-29 13:14:15.123456" }])
      const sql = "SELECT CAST(42 AS SIGNED) AS small, CAST(9007199254740993 AS SIGNED) AS big"
      assert.deepStrictEqual((yield* conn.query(sql)).rows, [{ small: 42, big: 9007199254740993n }])
      const bigints = yield* conn.query(sql, { types: { bigint: "bigint" } })
      assert.deepStrictEqual(bigints.rows, [{ small: 42, big: 9007199254740993n }])
    })
  )

  it.effect("empty strings and NULL stay apart; rows can be arrays", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const text = yield* conn.query<ReadonlyArray<unknown>>("SELECT '' AS e, NULL AS n", { rowShape: "array" })
      assert.deepStrictEqual(text.rows, [["", null]])
      const binary = yield* conn.execute<ReadonlyArray<unknown>>("SELECT ? AS e, ? AS n", ["", null], {
        rowShape: "array"
      })
      assert.deepStrictEqual(binary.rows, [["", null]])
    })
  )
})

const unsendable: ReadonlyArray<readonly [string, unknown]> = [
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["-Infinity", Number.NEGATIVE_INFINITY],
  ["an invalid Date", new Date(Number.NaN)],
  ["a symbol", Symbol("s")],
  ["a function", () => 1]
]

describe("parameters", () => {
  it.effect("a value that cannot be sent is an ArgumentError naming its position; the connection stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      for (const [name, value] of unsendable) {
        const prepared = yield* Effect.flip(conn.execute("SELECT ?, ?", [1, value as never]))
        assert.strictEqual(prepared._tag, "ArgumentError", `${name} (execute): ${prepared.message}`)
        assert.strictEqual((prepared as { position?: number }).position, 2, name)
        const text = yield* Effect.flip(conn.query("SELECT ?, ?", { params: [1, value as never] }))
        assert.strictEqual(text._tag, "ArgumentError", `${name} (query): ${text.message}`)
        assert.strictEqual((text as { position?: number }).position, 2, name)
        const streamed = yield* Effect.flip(Stream.runCollect(conn.stream("SELECT ?, ?", [1, value as never])))
        assert.strictEqual(streamed._tag, "ArgumentError", `${name} (stream): ${streamed.message}`)
        assert.strictEqual(conn.failure, undefined, name)
        assert.deepStrictEqual((yield* conn.execute("SELECT ? AS v", ["x"])).rows, [{ v: "x" }], name)
      }
    })
  )

  it.effect("values given to query as a second argument are refused, saying how to pass them", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const error = yield* Effect.flip(conn.query("SELECT ?", [1] as never))
      assert.strictEqual(error._tag, "ArgumentError")
      assert.match(error.message, /execute\(sql, params\)/)
      assert.match(error.message, /params/)
      assert.strictEqual(conn.failure, undefined)
      const notArray = yield* Effect.flip(conn.execute("SELECT ?", { rowShape: "array" } as never))
      assert.strictEqual(notArray._tag, "ArgumentError")
      assert.deepStrictEqual((yield* conn.query("SELECT 1 AS one")).rows, [{ one: 1 }])
    })
  )

  it.effect(
    "a statement prepared for reuse refuses what execute refuses: values not in an array, an unknown zone",
    () =>
      Effect.gen(function* () {
        const conn = yield* connect(optionsFor("plain"))
        const statement = yield* conn.prepare("SELECT ? AS v")
        const notArray = yield* Effect.flip(statement.execute({ rowShape: "array" } as never))
        assert.strictEqual(notArray._tag, "ArgumentError")
        assert.match(notArray.message, /as an array/)
        const zone = yield* Effect.flip(statement.execute([1], { types: { timeZone: "Europe/Nowhere" } }))
        assert.strictEqual(zone._tag, "ArgumentError")
        assert.match(zone.message, /Europe\/Nowhere/)
        assert.deepStrictEqual((yield* statement.execute(["x"])).rows, [{ v: "x" }])
      }).pipe(Effect.scoped)
  )
})

describe("time zones", () => {
  const winter = new Date("2024-01-15T11:00:00.000Z") // 12:00 in Berlin (CET, UTC+1)
  const summer = new Date("2024-07-15T10:00:00.000Z") // 12:00 in Berlin (CEST, UTC+2)

  it.effect("an IANA zone writes and reads Dates as its wall-clock time, summer and winter", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain", { types: { timeZone: "Europe/Berlin" } }))
      yield* conn.query("CREATE TEMPORARY TABLE tz (id INT, v DATETIME(3))")
      yield* conn.execute("INSERT INTO tz VALUES (?, ?)", [1, winter])
      yield* conn.query("INSERT INTO tz VALUES (?, ?)", { params: [2, summer] })
      const text = yield* conn.query("SELECT v FROM tz ORDER BY id", { types: { dates: "string" } })
      assert.deepStrictEqual(text.rows, [{ v: "2024-01-15 12:00:00.000" }, { v: "2024-07-15 12:00:00.000" }])
      assert.deepStrictEqual((yield* conn.query("SELECT v FROM tz ORDER BY id")).rows, [{ v: winter }, { v: summer }])
      const binary = yield* conn.execute("SELECT v FROM tz WHERE id = ?", [2])
      assert.deepStrictEqual(binary.rows, [{ v: summer }])
    })
  )

  it.effect("an unknown zone is a ConfigError at connect", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(connect(optionsFor("plain", { types: { timeZone: "Europe/Nowhere" } })))
      assert.strictEqual(error._tag, "ConfigError")
      assert.strictEqual((error as { option?: string }).option, "types.timeZone")
      assert.match(error.message, /Europe\/Nowhere/)
    })
  )
})
