// effect/sql used as applications use it, against the real MariaDB of the run.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Ref, Schema, Stream } from "effect"
import { Model } from "effect/schema"
import { Migrator, SqlClient, type SqlError, SqlModel, SqlResolver, SqlSchema } from "effect/sql"
import { MysqlClient, type Result } from "../src/index.ts"
import { clientLayer } from "./support.ts"

const Live = clientLayer("plain")

/** A table for one test, dropped after it. */
const table = (name: string, columns: string) =>
  Effect.acquireRelease(
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.as(sql.unsafe(`CREATE OR REPLACE TABLE ${name} (${columns})`), sql)
    ),
    (sql) => Effect.ignore(sql.unsafe(`DROP TABLE IF EXISTS ${name}`))
  )

const reasonOf = (error: SqlError.SqlError) => error.reason._tag

describe("statements", () => {
  it.effect("the sql template with values, identifiers, sql.in, sql.insert and sql.update", () =>
    Effect.gen(function* () {
      const sql = yield* table("sqlc_people", "id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50), age INT")
      assert.strictEqual(sql.driver, "mysql")
      yield* sql`INSERT INTO ${sql("sqlc_people")} ${sql.insert([
        { name: "ada", age: 36 },
        { name: "grace", age: 85 },
        { name: 'o\'brien \\ "x"', age: 1 }
      ])}`
      const rows = yield* sql<{
        id: number
        name: string
      }>`SELECT id, name FROM sqlc_people WHERE age > ${30} ORDER BY id`
      assert.deepStrictEqual(rows, [
        { id: 1, name: "ada" },
        { id: 2, name: "grace" }
      ])
      const some = yield* sql`SELECT name FROM sqlc_people WHERE ${sql.in("id", [1, 3])} ORDER BY id`
      assert.deepStrictEqual(some, [{ name: "ada" }, { name: 'o\'brien \\ "x"' }])
      assert.deepStrictEqual(yield* sql`SELECT name FROM sqlc_people WHERE id IN ${sql.in([])}`, [])
      yield* sql`UPDATE sqlc_people SET ${sql.update({ name: "Ada", age: 37 })} WHERE id = ${1}`
      assert.deepStrictEqual(yield* sql`SELECT name, age FROM sqlc_people WHERE id = 1`, [{ name: "Ada", age: 37 }])
      // updateValues: a derived table to join against.
      yield* sql`UPDATE sqlc_people JOIN ${sql.updateValues(
        [
          { id: 2, name: "Grace" },
          { id: 3, name: "O'Brien" }
        ],
        "data"
      )} ON sqlc_people.id = data.id SET sqlc_people.name = data.name`
      assert.deepStrictEqual(yield* sql`SELECT name FROM sqlc_people ORDER BY id`, [
        { name: "Ada" },
        { name: "Grace" },
        { name: "O'Brien" }
      ])
    }).pipe(Effect.scoped, Effect.provide(Live))
  )

  it.effect("raw answers affectedRows and insertId; unprepared runs several statements", () =>
    Effect.gen(function* () {
      const sql = yield* table("sqlc_raw", "id INT AUTO_INCREMENT PRIMARY KEY, v INT")
      const insert = (yield* sql`INSERT INTO sqlc_raw (v) VALUES (${1}), (${2})`.raw) as {
        affectedRows: number
        insertId: number
      }
      assert.strictEqual(insert.affectedRows, 2)
      assert.strictEqual(insert.insertId, 1)
      const update = (yield* sql`UPDATE sqlc_raw SET v = v + 1`.raw) as { affectedRows: number }
      assert.strictEqual(update.affectedRows, 2)
      const both =
        yield* sql`INSERT INTO sqlc_raw (v) VALUES (${7}); SELECT v FROM sqlc_raw WHERE id = LAST_INSERT_ID()`
          .unprepared
      assert.strictEqual((both[0] as { insertId: number }).insertId, 3)
      assert.deepStrictEqual(both[1] as unknown, [{ v: 7 }])
      assert.deepStrictEqual(yield* sql`SELECT ${"a?b"} AS s, ${5} AS n`.unprepared, [{ s: "a?b", n: 5 }])
      assert.deepStrictEqual(yield* sql`SELECT ${"x"} AS s, ${5} AS n`.values, [["x", 5]])
    }).pipe(Effect.scoped, Effect.provide(Live))
  )

  it.effect("BIGINT is a number by default and a bigint under SafeIntegers", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      assert.deepStrictEqual(yield* sql`SELECT COUNT(*) AS n FROM seq_1_to_42`, [{ n: 42 }])
      const safe = yield* sql`SELECT COUNT(*) AS n FROM seq_1_to_42`.pipe(
        Effect.provideService(SqlClient.SafeIntegers, true)
      )
      assert.deepStrictEqual(safe, [{ n: 42n }])
      // A number would round this one: it stays a bigint either way.
      assert.deepStrictEqual(yield* sql`SELECT 9007199254740993 AS n`, [{ n: 9007199254740993n }])
    }).pipe(Effect.provide(Live))
  )

  it.effect("a statement run again reuses its decoded columns, under either SafeIntegers setting", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const safe = Effect.provideService(SqlClient.SafeIntegers, true)
      for (const statement of [
        sql`SELECT COUNT(*) AS n FROM seq_1_to_42`,
        sql`SELECT COUNT(*) AS n FROM seq_1_to_42 WHERE seq > ${0}`
      ]) {
        const first = (yield* statement.raw) as Result
        const firstSafe = (yield* safe(statement.raw)) as Result
        assert.deepStrictEqual(first.rows, [{ n: 42 }])
        assert.deepStrictEqual(firstSafe.rows, [{ n: 42n }])
        const again = (yield* statement.raw) as Result
        const againSafe = (yield* safe(statement.raw)) as Result
        assert.strictEqual(again.columns, first.columns, "the columns remembered from the first run")
        assert.strictEqual(againSafe.columns, firstSafe.columns)
        assert.deepStrictEqual(again.rows, [{ n: 42 }])
        assert.deepStrictEqual(againSafe.rows, [{ n: 42n }])
        // A statement timeout changes nothing about how values are read.
        const timed = (yield* MysqlClient.withStatementTimeout("10 seconds")(statement.raw)) as Result
        assert.strictEqual(timed.columns, first.columns)
      }
    }).pipe(Effect.provide(clientLayer("plain", { maxConnections: 1 })))
  )

  it.effect("transformQueryNames and transformResultNames", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE OR REPLACE TABLE sqlc_names (user_id INT, display_name TEXT)`
      yield* sql`INSERT INTO sqlc_names ${sql.insert({ userId: 1, displayName: "ada" })}`
      assert.deepStrictEqual(yield* sql`SELECT * FROM sqlc_names`, [{ userId: 1, displayName: "ada" }])
      yield* sql`DROP TABLE sqlc_names`
    }).pipe(
      Effect.provide(
        clientLayer("plain", {
          transformQueryNames: (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
          transformResultNames: (name) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
        })
      )
    )
  )

  it.effect("sql.stream reads 100k rows as they arrive", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const [count, sum] = yield* sql<{ seq: number }>`SELECT seq FROM seq_1_to_100000`.stream.pipe(
        Stream.runFold(
          () => [0, 0] as [number, number],
          ([n, acc], row) => [n + 1, acc + row.seq] as [number, number]
        )
      )
      assert.strictEqual(count, 100000)
      assert.strictEqual(sum, (100000 * 100001) / 2)
      const withParams = yield* Stream.runCollect(sql`SELECT seq FROM seq_1_to_5 WHERE seq > ${3}`.stream)
      assert.deepStrictEqual(withParams, [{ seq: 4 }, { seq: 5 }])
      const client = yield* MysqlClient.MysqlClient
      assert.strictEqual((yield* client.stats).borrowed, 0)
    }).pipe(Effect.provide(Live))
  )
})

describe("several statements", () => {
  it.effect("a statement list answers one entry per statement: rows for a result set, the result otherwise", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const results = (yield* sql`SELECT 1 AS a; DO 0; SELECT 'b' AS b`) as ReadonlyArray<unknown>
      assert.strictEqual(results.length, 3)
      assert.deepStrictEqual(results[0], [{ a: 1 }])
      assert.strictEqual((results[1] as Result).affectedRows, 0)
      assert.deepStrictEqual(results[2], [{ b: "b" }])
      assert.deepStrictEqual(yield* sql`SELECT 1 AS a`, [{ a: 1 }])
      const values = yield* sql`SELECT 1 AS a; SELECT 2 AS b, 3 AS c`.values
      assert.deepStrictEqual(values, [[[1]], [[2, 3]]] as never)
    }).pipe(Effect.provide(Live))
  )
})

describe("transactions", () => {
  it.effect("nested withTransaction: an inner failure rolls back to its savepoint, the outer commits", () =>
    Effect.gen(function* () {
      const sql = yield* table("sqlc_tx", "v INT")
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`INSERT INTO sqlc_tx VALUES (${1})`
          const inner = yield* Effect.flip(
            sql.withTransaction(
              Effect.gen(function* () {
                yield* sql`INSERT INTO sqlc_tx VALUES (${2})`
                return yield* Effect.fail("inner failed" as const)
              })
            )
          )
          assert.strictEqual(inner, "inner failed")
          yield* sql.withTransaction(sql`INSERT INTO sqlc_tx VALUES (${3})`)
        })
      )
      assert.deepStrictEqual(yield* sql`SELECT v FROM sqlc_tx ORDER BY v`, [{ v: 1 }, { v: 3 }])
      const outer = yield* Effect.flip(
        sql.withTransaction(
          Effect.andThen(sql`INSERT INTO sqlc_tx VALUES (${4})`, Effect.fail("outer failed" as const))
        )
      )
      assert.strictEqual(outer, "outer failed")
      assert.deepStrictEqual(yield* sql`SELECT v FROM sqlc_tx ORDER BY v`, [{ v: 1 }, { v: 3 }])
    }).pipe(Effect.scoped, Effect.provide(Live))
  )

  it.effect("BeginTransaction starts the transaction with the given statement", () =>
    Effect.gen(function* () {
      const sql = yield* table("sqlc_ro", "v INT")
      const error = yield* Effect.flip(
        sql
          .withTransaction(sql`INSERT INTO sqlc_ro VALUES (1)`)
          .pipe(Effect.provideService(SqlClient.BeginTransaction, "START TRANSACTION READ ONLY"))
      )
      assert.strictEqual((error as SqlError.SqlError).reason._tag, "AuthorizationError")
      assert.deepStrictEqual(yield* sql`SELECT COUNT(*) AS n FROM sqlc_ro`, [{ n: 0 }])
    }).pipe(Effect.scoped, Effect.provide(Live))
  )
})

describe("errors", () => {
  it.effect("each server error arrives as a SqlError with its reason and our error as cause", () =>
    Effect.gen(function* () {
      const sql = yield* table(
        "sqlc_errors",
        "id INT PRIMARY KEY, email VARCHAR(50) NOT NULL, UNIQUE KEY email_key (email)"
      )
      const syntax = yield* Effect.flip(sql`SELEC 1`)
      assert.strictEqual(reasonOf(syntax), "SqlSyntaxError")
      assert.strictEqual((syntax.reason.cause as { errno: number }).errno, 1064)
      yield* sql`INSERT INTO sqlc_errors VALUES (1, 'a@example.com')`
      const duplicate = yield* Effect.flip(sql`INSERT INTO sqlc_errors VALUES (${2}, ${"a@example.com"})`)
      assert.strictEqual(duplicate.reason._tag, "UniqueViolation")
      if (duplicate.reason._tag === "UniqueViolation") assert.strictEqual(duplicate.reason.constraint, "email_key")
      const notNull = yield* Effect.flip(sql`INSERT INTO sqlc_errors VALUES (${3}, ${null})`)
      assert.strictEqual(reasonOf(notNull), "ConstraintError")
      const denied = yield* Effect.flip(sql`SELECT * FROM mysql.user`)
      assert.strictEqual(reasonOf(denied), "AuthorizationError")
      const missing = yield* Effect.flip(sql`SELECT * FROM sqlc_no_such_table`)
      assert.strictEqual(reasonOf(missing), "SqlSyntaxError")
    }).pipe(Effect.scoped, Effect.provide(Live))
  )

  it.effect("a parameter value that cannot be sent is refused before sending and keeps the connection", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql.withTransaction(
        Effect.gen(function* () {
          const before = yield* sql`SELECT CONNECTION_ID() AS id`
          const prepared = yield* Effect.flip(sql`SELECT ${1}, ${Number.NaN}`)
          assert.strictEqual((prepared.reason.cause as { _tag: string })._tag, "ArgumentError")
          assert.strictEqual((prepared.reason.cause as { position: number }).position, 2)
          const unprepared = yield* Effect.flip(sql`SELECT ${Number.POSITIVE_INFINITY}`.unprepared)
          assert.strictEqual((unprepared.reason.cause as { _tag: string })._tag, "ArgumentError")
          assert.deepStrictEqual(yield* sql`SELECT CONNECTION_ID() AS id`, before)
        })
      )
    }).pipe(Effect.provide(Live))
  )

  it.live("a lock wait timeout and a deadlock", () =>
    Effect.gen(function* () {
      const sql = yield* table("sqlc_locks", "id INT PRIMARY KEY, v INT")
      yield* sql`INSERT INTO sqlc_locks VALUES (1, 0), (2, 0)`
      const timeoutError = yield* Effect.flip(
        Effect.scoped(
          Effect.gen(function* () {
            const holder = yield* sql.reserve
            const waiter = yield* sql.reserve
            yield* holder.executeUnprepared("BEGIN", [], undefined)
            yield* holder.executeUnprepared("UPDATE sqlc_locks SET v = 1 WHERE id = 1", [], undefined)
            yield* waiter.executeUnprepared("SET SESSION innodb_lock_wait_timeout = 1", [], undefined)
            return yield* waiter.executeUnprepared("UPDATE sqlc_locks SET v = 2 WHERE id = 1", [], undefined)
          })
        )
      )
      assert.strictEqual(reasonOf(timeoutError), "LockTimeoutError")
      const deadlock = yield* Effect.flip(
        Effect.scoped(
          Effect.gen(function* () {
            const a = yield* sql.reserve
            const b = yield* sql.reserve
            yield* a.executeUnprepared("BEGIN", [], undefined)
            yield* b.executeUnprepared("BEGIN", [], undefined)
            yield* a.executeUnprepared("UPDATE sqlc_locks SET v = 1 WHERE id = 1", [], undefined)
            yield* b.executeUnprepared("UPDATE sqlc_locks SET v = 1 WHERE id = 2", [], undefined)
            const first = yield* Effect.forkChild(
              a.executeUnprepared("UPDATE sqlc_locks SET v = 2 WHERE id = 2", [], undefined)
            )
            yield* Effect.sleep("100 millis")
            const second = yield* Effect.exit(
              b.executeUnprepared("UPDATE sqlc_locks SET v = 2 WHERE id = 1", [], undefined)
            )
            const firstExit = yield* Fiber.await(first)
            const failed = [second, firstExit].find((exit) => exit._tag === "Failure")
            return yield* failed ?? Effect.void
          })
        )
      )
      assert.strictEqual(reasonOf(deadlock as SqlError.SqlError), "DeadlockError")
    }).pipe(Effect.scoped, Effect.provide(Live))
  )
})

describe("effect/sql modules", () => {
  it.effect("the Migrator applies migrations once and records them", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`DROP TABLE IF EXISTS sqlc_migrations, sqlc_migrated`
      const run = Migrator.make({})({
        table: "sqlc_migrations",
        loader: Migrator.fromRecord({
          "1_create": Effect.andThen(SqlClient.SqlClient, (sql) => sql`CREATE TABLE sqlc_migrated (id INT)`),
          "2_seed": Effect.andThen(SqlClient.SqlClient, (sql) => sql`INSERT INTO sqlc_migrated VALUES (1)`)
        })
      })
      const applied = yield* run
      assert.deepStrictEqual(applied, [
        [1, "create"],
        [2, "seed"]
      ])
      assert.deepStrictEqual(yield* run, [])
      const recorded = yield* sql`SELECT migration_id, name FROM sqlc_migrations ORDER BY migration_id`
      assert.deepStrictEqual(recorded, [
        { migration_id: 1, name: "create" },
        { migration_id: 2, name: "seed" }
      ])
      assert.deepStrictEqual(yield* sql`SELECT id FROM sqlc_migrated`, [{ id: 1 }])
      yield* sql`DROP TABLE sqlc_migrations, sqlc_migrated`
    }).pipe(Effect.provide(Live))
  )

  it.effect("SqlSchema decodes rows; SqlResolver batches concurrent requests into one statement", () =>
    Effect.gen(function* () {
      const sql = yield* table("sqlc_things", "id INT PRIMARY KEY, label VARCHAR(20)")
      const rows = [1, 2, 3, 4].map((id) => ({ id, label: `thing ${id}` }))
      yield* sql`INSERT INTO sqlc_things ${sql.insert([rows[0]!, ...rows.slice(1)])}`
      const Thing = Schema.Struct({ id: Schema.Number, label: Schema.String })
      const all = SqlSchema.findAll({
        Request: Schema.Number,
        Result: Thing,
        execute: (min) => sql`SELECT * FROM sqlc_things WHERE id >= ${min} ORDER BY id`
      })
      assert.deepStrictEqual(yield* all(3), [
        { id: 3, label: "thing 3" },
        { id: 4, label: "thing 4" }
      ])
      const batches = yield* Ref.make<Array<ReadonlyArray<number>>>([])
      const byId = SqlResolver.findById({
        Id: Schema.Number,
        Result: Thing,
        ResultId: (thing) => thing.id,
        execute: (ids) =>
          Effect.andThen(
            Ref.update(batches, (list) => [...list, ids]),
            sql`SELECT * FROM sqlc_things WHERE ${sql.in("id", ids)}`
          )
      })
      const things = yield* Effect.forEach([4, 2, 1], (id) => SqlResolver.request(id, byId), {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(
        things.map((thing) => thing.label),
        ["thing 4", "thing 2", "thing 1"]
      )
      assert.deepStrictEqual(yield* Ref.get(batches), [[4, 2, 1]])
    }).pipe(Effect.scoped, Effect.provide(Live))
  )

  it.effect("an SqlModel repository inserts, finds, updates and deletes", () =>
    Effect.gen(function* () {
      class Person extends Model.Class<Person>("Person")({
        // Generated by the database: never inserted, but the key of an update.
        id: Model.Field({ select: Schema.Number, update: Schema.Number, json: Schema.Number }),
        name: Schema.String,
        age: Schema.Number
      }) {}
      const sql = yield* table("sqlc_repo", "id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50), age INT")
      void sql
      const repo = yield* SqlModel.makeRepository(Person, {
        tableName: "sqlc_repo",
        spanPrefix: "People",
        idColumn: "id"
      })
      const ada = yield* repo.insert(Person.insert.make({ name: "ada", age: 36 }))
      assert.strictEqual(ada.id, 1)
      assert.strictEqual(ada.name, "ada")
      const grace = yield* repo.insert(Person.insert.make({ name: "grace's", age: 85 }))
      assert.strictEqual(grace.id, 2)
      assert.strictEqual((yield* repo.findById(2)).name, "grace's")
      const older = yield* repo.update(Person.update.make({ id: 1, name: "Ada", age: 37 }))
      assert.deepStrictEqual({ ...older }, { id: 1, name: "Ada", age: 37 })
      yield* repo.delete(1)
      const gone = yield* Effect.flip(repo.findById(1))
      assert.strictEqual(gone._tag, "NoSuchElementError")
    }).pipe(Effect.scoped, Effect.provide(Live))
  )
})
