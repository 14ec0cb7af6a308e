// Spans, metrics and log lines of real requests against the run's MariaDB, recorded in memory:
// what they name, and that no password or parameter value is among them.
import { assert, describe, it } from "@effect/vitest"
import { TestAccounts } from "@effect-mysql/testing"
import { Effect, Layer, Metric, References, Stream, type Tracer } from "effect"
import { SqlClient, Statement } from "effect/sql"
import { MysqlClient, MysqlPool } from "../src/index.ts"
import {
  clientLayer,
  connect,
  dedicatedServer,
  optionsFor,
  recordingLogger,
  recordingTracer,
  TransportLive,
  target,
  verifyIdentity
} from "./support.ts"

const password = TestAccounts.plain.password
const secret = "parameter-value-never-traced"

/** Everything a span shows an exporter: its name, attributes and events. */
const exported = (span: Tracer.NativeSpan) => JSON.stringify([span.name, [...span.attributes], span.events])

const named = (spans: ReadonlyArray<Tracer.NativeSpan>, name: string) => spans.filter((span) => span.name === name)

const parentOf = (span: Tracer.NativeSpan) => (span.parent._tag === "Some" ? span.parent.value : undefined)

describe("spans", () => {
  it.effect("a request through MysqlClient: pool acquire, a parameterised SELECT, a failing statement", () => {
    const { spans, tracer } = recordingTracer()
    return Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      // At once, on a pool that holds the layer's first connection: one of the two opens another.
      const [rows] = yield* Effect.all(
        [sql`SELECT ${secret} AS v, ${42} AS n`, Effect.flip(sql`SELECT * FROM no_such_table WHERE id = ${secret}`)],
        { concurrency: 2 }
      ).pipe(Effect.withSpan("request"))
      assert.deepStrictEqual(rows, [{ v: secret, n: 42 }])

      const statements = spans.filter((span) => span.attributes.has("db.query.text"))
      assert.strictEqual(statements.length, 2)
      const [select, failing] = statements as [Tracer.NativeSpan, Tracer.NativeSpan]
      assert.strictEqual(select.kind, "client")
      assert.strictEqual(select.attributes.get("db.query.text"), "SELECT ? AS v, ? AS n")
      assert.strictEqual(select.attributes.get("db.operation.name"), "SELECT")
      assert.strictEqual(select.attributes.get("db.system.name"), "mariadb")
      assert.strictEqual(select.attributes.get("db.namespace"), target.database)
      assert.strictEqual(select.attributes.get("server.address"), target.host)
      assert.strictEqual(select.attributes.get("server.port"), target.port)
      assert.isFalse(select.attributes.has("error.type"))
      assert.strictEqual(failing.attributes.get("db.operation.name"), "SELECT")
      assert.strictEqual(failing.attributes.get("db.response.status_code"), "1146")
      assert.strictEqual(failing.attributes.get("error.type"), "1146")
      assert.strictEqual(failing.status._tag, "Ended")

      // The borrow that found no idle connection waited under a span of the pool's, inside the
      // statement's; the connect it set off (in the pool's own fiber) is a child of that wait.
      const acquire = named(spans, "MysqlPool.acquire").find((span) =>
        statements.some((statement) => parentOf(span) === statement)
      )!
      assert.isDefined(acquire)
      assert.strictEqual(
        acquire.attributes.get("db.client.connection.pool.name"),
        `${target.host}:${target.port}/${target.database}`
      )
      assert.isTrue(named(spans, "MysqlConnection.connect").some((connect) => parentOf(connect) === acquire))
      // (It may still be running: the other statement's connection can come back first.)
      const connects = named(spans, "MysqlConnection.connect").filter((span) => span.status._tag === "Ended")
      assert.isAtLeast(connects.length, 1)
      for (const connect of connects) assert.strictEqual(connect.attributes.get("db.system.name"), "mariadb")
      const request = parentOf(select)
      assert.strictEqual(request?._tag === "Span" ? request.name : undefined, "request")

      for (const span of spans) {
        assert.notInclude(exported(span), password)
        assert.notInclude(exported(span), secret)
      }
    }).pipe(Effect.provide(clientLayer("plain")), Effect.withTracer(tracer))
  })

  it.effect("MysqlConnection.connect over verify-identity TLS names the server, TLS and its checks", () => {
    const { spans, tracer } = recordingTracer()
    return Effect.gen(function* () {
      const connection = yield* connect(optionsFor("plain", { ssl: verifyIdentity }))
      const tls = connection.info.tls!
      const [span] = named(spans, "MysqlConnection.connect")
      assert.isDefined(span)
      const attributes = span!.attributes
      assert.strictEqual(span!.kind, "client")
      assert.strictEqual(attributes.get("server.address"), target.host)
      assert.strictEqual(attributes.get("server.port"), target.port)
      assert.strictEqual(attributes.get("db.system.name"), "mariadb")
      assert.strictEqual(attributes.get("tls.established"), true)
      assert.strictEqual(attributes.get("tls.protocol.version"), tls.version?.replace("TLSv", ""))
      assert.strictEqual(attributes.get("tls.cipher"), tls.cipher)
      assert.strictEqual(attributes.get("mysql.ssl_mode"), "verify-identity")
      assert.strictEqual(attributes.get("mysql.tls.chain_verified"), true)
      assert.strictEqual(attributes.get("mysql.tls.hostname_verified"), true)
      assert.strictEqual(attributes.get("mysql.compression"), "none")
      assert.notInclude(exported(span!), password)

      const refused = yield* Effect.flip(
        Effect.scoped(connect(optionsFor("plain", { ssl: verifyIdentity, password: "wrong-secret" })))
      )
      assert.strictEqual(refused._tag, "AuthenticationError")
      const failed = named(spans, "MysqlConnection.connect")[1]!
      assert.strictEqual(failed.attributes.get("error.type"), "1045")
      assert.strictEqual(failed.attributes.get("db.response.status_code"), "1045")
      assert.strictEqual(failed.attributes.get("server.address"), target.host)
      assert.notInclude(exported(failed), "wrong-secret")
    }).pipe(Effect.scoped, Effect.withTracer(tracer))
  })

  it.effect("a stream's span names its operation and host; a failing stream's, its error", () => {
    const { spans, tracer } = recordingTracer()
    return Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* Stream.runCollect(sql`SELECT ${secret} AS v`.stream)
      assert.deepStrictEqual(rows, [{ v: secret }])
      yield* Effect.flip(Stream.runCollect(sql`SELECT * FROM no_such_table WHERE id = ${secret}`.stream))
      const [stream, failing] = spans.filter((span) => span.attributes.get("effect.sql.method") === "executeStream")
      assert.strictEqual(stream?.attributes.get("db.operation.name"), "SELECT")
      assert.strictEqual(stream?.attributes.get("server.port"), target.port)
      assert.isFalse(stream?.attributes.has("error.type"))
      assert.strictEqual(failing?.attributes.get("error.type"), "1146")
      assert.strictEqual(failing?.attributes.get("db.response.status_code"), "1146")
      for (const span of spans) assert.notInclude(exported(span), secret)
    }).pipe(Effect.provide(clientLayer("plain")), Effect.withTracer(tracer))
  })

  it.effect("the layer propagates statement spans only where a tracer is installed", () =>
    Effect.gen(function* () {
      const propagation = Effect.gen(function* () {
        return yield* Statement.SpanPropagationEnabled
      })
      assert.isFalse(yield* propagation.pipe(Effect.provide(clientLayer("plain"))))
      const { tracer } = recordingTracer()
      assert.isTrue(yield* propagation.pipe(Effect.provide(clientLayer("plain")), Effect.withTracer(tracer)))
    })
  )
})

/** The value of the series of `name` whose attributes include `attributes`. */
const series = (snapshots: ReadonlyArray<Metric.Metric.Snapshot>, name: string, attributes: Record<string, string>) =>
  snapshots.find(
    (snapshot) =>
      snapshot.id === name && Object.entries(attributes).every(([key, value]) => snapshot.attributes?.[key] === value)
  )?.state

/** The series of `name` whose attributes are exactly `attributes`. */
const exactSeries = (
  snapshots: ReadonlyArray<Metric.Metric.Snapshot>,
  name: string,
  attributes: Record<string, string>
) =>
  snapshots.find(
    (snapshot) =>
      snapshot.id === name &&
      Object.keys(snapshot.attributes ?? {}).length === Object.keys(attributes).length &&
      Object.entries(attributes).every(([key, value]) => snapshot.attributes?.[key] === value)
  )?.state as Metric.HistogramState | undefined

describe("metrics", () => {
  it.live("db.client.operation.duration: each statement's seconds, by operation and outcome", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const client = yield* MysqlClient.MysqlClient
      yield* Effect.all([sql`SELECT SLEEP(0.05)`, sql`SELECT SLEEP(0.05)`], { concurrency: 2 })
      yield* Effect.flip(sql`SELECT * FROM no_such_table WHERE id = ${secret}`)
      yield* sql`CREATE TABLE IF NOT EXISTS observed_batch (n INT)`
      yield* client.batch("INSERT INTO observed_batch (n) VALUES (?)", [[1], [2], [3]])
      yield* sql`DROP TABLE observed_batch`
      const snapshots = yield* Metric.snapshot
      const statement = (labels: Record<string, string>) =>
        exactSeries(snapshots, "db.client.operation.duration", {
          "db.system.name": "mariadb",
          "db.namespace": target.database,
          "server.address": target.host,
          "server.port": String(target.port),
          ...labels
        })
      const selects = statement({ "db.operation.name": "SELECT" })
      assert.strictEqual(selects?.count, 2)
      assert.isAtLeast(selects!.min, 0.05)
      assert.isBelow(selects!.max, 5)
      const failed = statement({
        "db.operation.name": "SELECT",
        "error.type": "1146",
        "db.response.status_code": "1146"
      })
      assert.strictEqual(failed?.count, 1)
      assert.strictEqual(statement({ "db.operation.name": "INSERT" })?.count, 1)
      assert.strictEqual(statement({ "db.operation.name": "CREATE" })?.count, 1)
      for (const snapshot of snapshots) assert.notInclude(JSON.stringify(snapshot.attributes), secret)
    }).pipe(Effect.provide(clientLayer("plain")), Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.live("a pool's connection counts, opens, waits and failures after a known workload", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      // Two statements at once on a pool that holds one connection: the second opens another.
      yield* Effect.all([sql`SELECT SLEEP(0.05)`, sql`SELECT SLEEP(0.05)`], { concurrency: 2 })
      const pool = { "db.client.connection.pool.name": `${target.host}:${target.port}/${target.database}` }
      const snapshots = yield* Metric.snapshot
      const count = (state: string) =>
        (
          series(snapshots, "db.client.connection.count", { ...pool, "db.client.connection.state": state }) as
            | Metric.GaugeState<number>
            | undefined
        )?.value
      assert.strictEqual(count("idle"), 2)
      assert.strictEqual(count("used"), 0)
      assert.deepStrictEqual(series(snapshots, "db.client.connection.pending_requests", pool), { value: 0 })
      assert.deepStrictEqual(series(snapshots, "db.client.connection.max", pool), { value: 2 })
      assert.deepStrictEqual(series(snapshots, "db.client.connection.opened", pool), { count: 2, incremental: true })
      const created = series(snapshots, "db.client.connection.create_time", pool) as Metric.HistogramState
      assert.strictEqual(created.count, 2)
      assert.isAbove(created.min, 0)

      // A pool whose connections cannot open counts the failures. It goes to the same server and
      // database as the client's pool, so it is named apart: one name would merge their series.
      const bad = yield* MysqlPool.make(optionsFor("plain", { password: "wrong" }), { maxConnections: 1 })
      yield* Effect.flip(Effect.scoped(bad.get))
      const after = yield* Metric.snapshot
      const second = { "db.client.connection.pool.name": `${pool["db.client.connection.pool.name"]}#2` }
      const failures = series(after, "db.client.connection.open_failures", second) as Metric.CounterState<number>
      assert.strictEqual(failures.count, 1)
      assert.isUndefined(series(after, "db.client.connection.open_failures", pool))
      assert.deepStrictEqual(series(after, "db.client.connection.max", second), { value: 1 })
      assert.deepStrictEqual(series(after, "db.client.connection.max", pool), { value: 2 })
    }).pipe(
      Effect.provide(Layer.merge(clientLayer("plain", { maxConnections: 2 }), TransportLive)),
      Effect.provideService(Metric.MetricRegistry, new Map())
    )
  )
})

describe("logs", () => {
  it.live(
    "ssl-mode preferred against a server without TLS warns that it goes on in plaintext; no line holds a secret",
    () => {
      const { lines, layer } = recordingLogger()
      return Effect.gen(function* () {
        const { options } = yield* dedicatedServer(["--skip-ssl"], { ssl: { mode: "preferred" } })
        const connection = yield* connect(options)
        assert.isUndefined(connection.info.tls)
        yield* connection.query("SELECT 1")
        const warnings = lines.filter((line) => line.level === "Warn")
        assert.strictEqual(warnings.length, 1)
        assert.include(warnings[0]!.text, "goes on in plaintext")
        assert.include(warnings[0]!.text, `${options.host}:${options.port}`)
        assert.isTrue(lines.some((line) => line.level === "Debug" && line.text.includes("connection opened")))
        for (const line of lines) assert.notInclude(line.text, TestAccounts.root.password)
      }).pipe(Effect.scoped, Effect.provide(layer), Effect.provideService(References.MinimumLogLevel, "Debug"))
    },
    30_000
  )

  it.live("a statement past its timeout: a warning that KILL QUERY stops it on the server", () => {
    const { lines, layer } = recordingLogger()
    return Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const error = yield* Effect.flip(
        sql`SELECT SLEEP(${5}) AS slept`.pipe(MysqlClient.withStatementTimeout("200 millis"))
      )
      assert.strictEqual(error.reason._tag, "StatementTimeoutError")
      const warnings = lines.filter((line) => line.level === "Warn")
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0]!.text, "ran past its timeout: sending KILL QUERY")
      for (const line of lines) assert.notInclude(line.text, password)
    }).pipe(Effect.provide(clientLayer("plain")), Effect.provide(layer))
  })

  it.live("a pooled connection the server kills: a warning that the pool replaces it", () => {
    const { lines, layer } = recordingLogger()
    return Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ id: number }>`SELECT CONNECTION_ID() AS id`
      const id = Number(row!.id)
      const admin = yield* connect(optionsFor("root"))
      yield* admin.query(`KILL CONNECTION ${id}`)
      // The pool watches its idle connections: it sees this one closed without a statement.
      const warned = () => lines.filter((line) => line.level === "Warn")
      for (let i = 0; i < 100 && warned().length === 0; i++) yield* Effect.sleep("20 millis")
      const [warning, ...others] = warned()
      assert.include(warning?.text, "the pool replaces a failed connection")
      assert.include(warning?.text, `"db.client.connection.id":${id}`)
      assert.include(
        warning?.text,
        `"db.client.connection.pool.name":"${target.host}:${target.port}/${target.database}"`
      )
      assert.deepStrictEqual(others, [])
      assert.deepStrictEqual(yield* sql`SELECT 1 AS one`, [{ one: 1 }])
    }).pipe(Effect.scoped, Effect.provide(clientLayer("plain")), Effect.provide(layer))
  })
})
