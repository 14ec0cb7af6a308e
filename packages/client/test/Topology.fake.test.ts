// A host list's MysqlClient over fake MySQL 8.4 servers, for what the real MariaDB of the tests
// cannot show: MySQL's role query, SHOW REPLICA STATUS with its Seconds_Behind_Source, session
// tracking of the client's own GTIDs and WAIT_FOR_EXECUTED_GTID_SET before a replica read. Each
// fake server answers from a state the test changes as it goes (its role, its lag, the answer of
// the wait) and records what it was asked.
import { assert, describe, it } from "@effect/vitest"
import { FakeServer } from "@effect-mysql/fake-server"
import { ColumnType, makeColumnDefinition } from "@effect-mysql/protocol"
import { Effect } from "effect"
import type { SqlClient } from "effect/sql"
import * as MysqlClient from "../src/MysqlClient.ts"
import { withClient } from "./fakeSupport.ts"

const user = "app"
const password = "app-secret"
const primaryUuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"

interface HostState {
  readonly name: string
  readOnly: boolean
  /** Seconds_Behind_Source; "none": SHOW REPLICA STATUS answers no row. */
  lag: number | null | "none"
  /** What WAIT_FOR_EXECUTED_GTID_SET answers: 0 applied, 1 timed out. */
  waitAnswer: 0 | 1
  /** The GTID set and the timeout (seconds) of each WAIT_FOR_EXECUTED_GTID_SET. */
  readonly waits: Array<ReadonlyArray<unknown>>
  /** The number of the last transaction this server committed. */
  committed: number
}

const text = (name: string) =>
  makeColumnDefinition({ name, type: ColumnType.VAR_STRING, collation: 45, columnLength: 256 })
const bigint = (name: string) => makeColumnDefinition({ name, type: ColumnType.LONGLONG, columnLength: 21 })

const one = (column: ReturnType<typeof text>, value: unknown): FakeServer.FakeAnswer => ({
  _tag: "ResultSet",
  columns: [column],
  rows: [[value]]
})

const isRoleQuery = (sql: string) => sql.includes("wsrep_cluster_status")
const readHost = "SELECT @@hostname AS host"

/** The answers of a MySQL 8.4 server, from `state`. */
const answer = (state: HostState) => (sql: string, context: FakeServer.StatementContext) => {
  if (isRoleQuery(sql))
    return {
      _tag: "ResultSet",
      columns: Array.from({ length: 6 }, (_, i) => text(`c${i}`)),
      rows: [[state.readOnly ? "1" : "0", "0", "OFF", "OFF", null, "Disconnected"]]
    } satisfies FakeServer.FakeAnswer
  if (sql === "SHOW REPLICA STATUS")
    return {
      _tag: "ResultSet",
      columns: [text("Replica_IO_State"), bigint("Seconds_Behind_Source")],
      rows:
        state.lag === "none"
          ? []
          : [["Waiting for source to send event", state.lag === null ? null : BigInt(state.lag)]]
    } satisfies FakeServer.FakeAnswer
  if (sql === "SET SESSION session_track_gtids = OWN_GTID") return { _tag: "Ok" } satisfies FakeServer.FakeAnswer
  if (sql === readHost) return one(text("host"), state.name)
  if (sql.startsWith("INSERT")) {
    state.committed++
    return {
      _tag: "Ok",
      affectedRows: 1,
      sessionStateChanges: [{ _tag: "Gtids", encoding: 0, gtids: `${primaryUuid}:1-${state.committed}` }]
    } satisfies FakeServer.FakeAnswer
  }
  if (sql === "SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)") {
    const [gtids, seconds] = context.parameters
    state.waits.push([gtids?.value, Number(seconds?.value)])
    return one(bigint("WAIT_FOR_EXECUTED_GTID_SET(?, ?)"), BigInt(state.waitAnswer))
  }
  // MySQL 8.4 knows SHOW SLAVE STATUS no more: like any unknown statement, a syntax error.
  return undefined
}

const mysqlHost = (name: string, role: "primary" | "replica", lag: HostState["lag"] = 0) =>
  Effect.gen(function* () {
    const state: HostState = { name, readOnly: role === "replica", lag, waitAnswer: 0, waits: [], committed: 0 }
    const server = yield* FakeServer.start({
      flavor: "mysql",
      serverVersion: "8.4.3",
      accounts: [{ user, password }],
      cachedUsers: [user],
      statements: answer(state)
    })
    return { state, server }
  })

type Host = Effect.Success<ReturnType<typeof mysqlHost>>

const queries = ({ server }: Host) =>
  server.connections.flatMap((c) => c.commands.flatMap((command) => ("query" in command ? [command.query] : [])))

/** The options of a client over `hosts`, the replica first: the writer is found by role, not by position. */
const over = (
  hosts: ReadonlyArray<Host>,
  extra: Partial<MysqlClient.MysqlClientOptions> = {}
): MysqlClient.MysqlClientOptions => ({
  hosts: hosts.map(({ server }) => `${server.host}:${server.port}`),
  user,
  password,
  ssl: { mode: "disabled" },
  targetSessionAttrs: "read-write",
  hostCheckInterval: "100 millis",
  ...extra
})

const hostOf = (sql: SqlClient.SqlClient) => Effect.map(sql.unsafe<{ host: string }>(readHost), (rows) => rows[0]!.host)

/** Waits (polling the client's stats) until `ok` holds of them. */
const until = (client: MysqlClient.MysqlClient, ok: (hosts: ReadonlyArray<MysqlClient.HostStats>) => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 100; i++) {
      const hosts = (yield* client.stats).hosts ?? []
      if (ok(hosts)) return hosts
      yield* Effect.sleep("20 millis")
    }
    return yield* Effect.die(new Error(`stats never met the condition: ${JSON.stringify((yield* client.stats).hosts)}`))
  })

describe("a host list of MySQL 8.4 servers", () => {
  it.live("checks roles in performance_schema and lag with SHOW REPLICA STATUS", () =>
    Effect.gen(function* () {
      const replica = yield* mysqlHost("replica", "replica", 3)
      const primary = yield* mysqlHost("primary", "primary")
      yield* withClient(over([replica, primary]), (_sql, client) =>
        Effect.gen(function* () {
          const hosts = yield* until(client, (hosts) => hosts.every((host) => host.status === "up"))
          assert.deepStrictEqual(
            hosts.map(({ role, writer, lagSeconds }) => ({ role, writer, lagSeconds })),
            [
              { role: "replica", writer: false, lagSeconds: 3 },
              { role: "primary", writer: true, lagSeconds: undefined }
            ]
          )
          for (const host of [replica, primary]) {
            const roleQueries = queries(host).filter(isRoleQuery)
            assert.isNotEmpty(roleQueries)
            for (const query of roleQueries) assert.include(query, "performance_schema.global_status")
          }
          assert.include(queries(replica), "SHOW REPLICA STATUS")
          assert.notInclude(queries(replica), "SHOW SLAVE STATUS")
          assert.notInclude(queries(primary), "SHOW REPLICA STATUS")
        })
      )
    })
  )

  it.live("a replica read after a write waits for the write's GTID on the replica, once", () =>
    Effect.gen(function* () {
      const replica = yield* mysqlHost("replica", "replica")
      const primary = yield* mysqlHost("primary", "primary")
      yield* withClient(over([replica, primary]), (sql) =>
        Effect.gen(function* () {
          // Nothing written yet: nothing to wait for.
          assert.strictEqual(yield* MysqlClient.withReplicaReads(hostOf(sql)), "replica")
          assert.deepStrictEqual(replica.state.waits, [])

          yield* sql.unsafe("INSERT INTO t VALUES (1)")
          assert.strictEqual(yield* MysqlClient.withReplicaReads(hostOf(sql)), "replica")
          assert.deepStrictEqual(replica.state.waits, [[`${primaryUuid}:1`, 1]])

          // The replica confirmed that position: no second wait.
          assert.strictEqual(yield* MysqlClient.withReplicaReads(hostOf(sql)), "replica")
          assert.strictEqual(replica.state.waits.length, 1)

          // The wait times out (answer 1): the read goes to the primary.
          replica.state.waitAnswer = 1
          yield* sql.unsafe("INSERT INTO t VALUES (2)")
          assert.strictEqual(yield* MysqlClient.withReplicaReads(hostOf(sql)), "primary")
          assert.deepStrictEqual(replica.state.waits.at(-1), [`${primaryUuid}:2`, 1])

          // Every pooled connection tracks its own GTIDs, before anything else it runs.
          for (const host of [replica, primary]) {
            const pooled = host.server.connections.filter((c) =>
              c.commands.some((command) => "query" in command && command.query === readHost)
            )
            assert.isNotEmpty(pooled)
            for (const connection of pooled) {
              const first = connection.commands[0]
              assert.strictEqual(first && "query" in first && first.query, "SET SESSION session_track_gtids = OWN_GTID")
            }
          }
          // The wait went as a prepared statement.
          const prepared = replica.server.connections
            .flatMap((c) => c.commands)
            .filter((c) => c._tag === "ComStmtPrepare")
          assert.deepStrictEqual(
            prepared.map((c) => c.query),
            ["SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)"]
          )
        })
      )
    })
  )

  it.live(
    "a replica beyond maxLag, or not replicating (NULL lag, no status row), leaves its reads to the primary",
    () =>
      Effect.gen(function* () {
        const replica = yield* mysqlHost("replica", "replica", 100)
        const primary = yield* mysqlHost("primary", "primary")
        yield* withClient(over([replica, primary], { replicaReads: { maxLag: "30 seconds" } }), (sql, client) =>
          Effect.gen(function* () {
            yield* until(client, (hosts) => hosts[0]?.lagSeconds === 100)
            assert.strictEqual(yield* MysqlClient.withReplicaReads(hostOf(sql)), "primary")

            replica.state.lag = 5
            yield* until(client, (hosts) => hosts[0]?.lagSeconds === 5)
            assert.strictEqual(yield* MysqlClient.withReplicaReads(hostOf(sql)), "replica")

            replica.state.lag = null
            yield* until(client, (hosts) => hosts[0]?.lagSeconds === null)
            assert.strictEqual(yield* MysqlClient.withReplicaReads(hostOf(sql)), "primary")

            // A replica whose replication was reset answers SHOW REPLICA STATUS with no row.
            replica.state.lag = 5
            yield* until(client, (hosts) => hosts[0]?.lagSeconds === 5)
            replica.state.lag = "none"
            yield* until(client, (hosts) => hosts[0]?.lagSeconds === null)
            assert.strictEqual(yield* MysqlClient.withReplicaReads(hostOf(sql)), "primary")
          })
        )
      })
  )

  it.live("when the roles swap, the writer moves to the new primary after a check", () =>
    Effect.gen(function* () {
      const replica = yield* mysqlHost("replica", "replica")
      const primary = yield* mysqlHost("primary", "primary")
      yield* withClient(over([replica, primary]), (sql, client) =>
        Effect.gen(function* () {
          assert.strictEqual(yield* hostOf(sql), "primary")
          replica.state.readOnly = false
          primary.state.readOnly = true
          const hosts = yield* until(client, (hosts) => hosts[0]?.role === "primary" && hosts[1]?.role === "replica")
          assert.deepStrictEqual(
            hosts.map((host) => host.writer),
            [true, false]
          )
          assert.strictEqual(yield* hostOf(sql), "replica")
          assert.strictEqual(yield* MysqlClient.withReplicaReads(hostOf(sql)), "primary")
        })
      )
    })
  )
})
