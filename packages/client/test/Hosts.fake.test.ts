// Roles a real MariaDB here cannot show: Galera nodes that are not ready, a MySQL server (whose
// status lives in performance_schema), a server that never answers the role query, and one that
// answers it late. Fake servers answer the role query as each test says.
import { assert, describe, it } from "@effect/vitest"
import { FakeServer } from "@effect-mysql/fake-server"
import { ColumnType, makeColumnDefinition } from "@effect-mysql/protocol"
import { Context, type Duration, Effect, Layer } from "effect"
import type { ConnectionOptions } from "../src/ConnectionOptions.ts"
import * as MysqlClient from "../src/MysqlClient.ts"
import { connect, refused, TransportLive } from "./fakeSupport.ts"

const user = "app"
const password = "app-secret"

/** read_only, innodb_read_only, wsrep_on, wsrep_ready, wsrep_local_state, wsrep_cluster_status */
type RoleRow = readonly [string, string, string | null, string | null, string | null, string | null]

const standalone: RoleRow = ["0", "0", "OFF", "OFF", null, "Disconnected"]
const synced: RoleRow = ["0", "0", "ON", "ON", "4", "Primary"]
const donor: RoleRow = ["0", "0", "ON", "ON", "2", "Primary"]
const nonPrimary: RoleRow = ["0", "0", "ON", "OFF", "0", "non-Primary"]

const isRoleQuery = (sql: string) => sql.includes("wsrep_cluster_status")

/** A server whose role query answers `row` (after `delay`), or never answers it (`"silent"`). */
const serverWithRole = (row: RoleRow | "silent", flavor: "mysql" | "mariadb" = "mariadb", delay?: Duration.Input) =>
  FakeServer.start({
    accounts: [{ user, password }],
    cachedUsers: [user],
    flavor,
    statements: (sql) =>
      row !== "silent" && isRoleQuery(sql)
        ? {
            _tag: "ResultSet",
            columns: Array.from({ length: 6 }, (_, i) =>
              makeColumnDefinition({ name: `c${i}`, type: ColumnType.VAR_STRING, collation: 45, columnLength: 64 })
            ),
            rows: [[...row]]
          }
        : undefined,
    hooks: {
      onCommand: (command) => {
        if (command._tag !== "ComQuery" || !isRoleQuery(command.query)) return Effect.succeed(false)
        if (row === "silent") return Effect.succeed(true)
        return delay === undefined ? Effect.succeed(false) : Effect.as(Effect.sleep(delay), false)
      }
    }
  })

const hostsOf = (
  servers: ReadonlyArray<FakeServer.FakeServer>,
  extra: Partial<ConnectionOptions>
): ConnectionOptions => ({
  hosts: servers.map((server) => `${server.host}:${server.port}`),
  user,
  password,
  ssl: { mode: "disabled" },
  ...extra
})

const roleQueries = (server: FakeServer.FakeServer) =>
  server.connections
    .flatMap((c) => c.commands)
    .flatMap((c) => (c._tag === "ComQuery" && isRoleQuery(c.query) ? [c.query] : []))

describe("Galera nodes", () => {
  for (const [name, row] of [
    ["a donor (wsrep_local_state 2)", donor],
    ["outside the primary component", nonPrimary]
  ] as const) {
    it.effect(`${name} is turned away for every target; a Synced node takes the connection`, () =>
      Effect.gen(function* () {
        const notReady = yield* serverWithRole(row)
        const ready = yield* serverWithRole(synced)
        for (const targetSessionAttrs of ["read-write", "prefer-replica"] as const) {
          const conn = yield* connect(hostsOf([notReady, ready], { targetSessionAttrs }))
          assert.strictEqual(conn.info.endpoint._tag === "Tcp" && conn.info.endpoint.port, ready.port)
          assert.strictEqual(conn.info.role, "primary")
        }
        const error = yield* refused(hostsOf([notReady], { targetSessionAttrs: "read-only" }))
        assert.strictEqual(error._tag, "HostRoleError")
        if (error._tag === "HostRoleError") assert.strictEqual(error.reason, "galera-not-ready")
      })
    )
  }

  it.effect("a server without Galera is judged by read_only alone", () =>
    Effect.gen(function* () {
      const server = yield* serverWithRole(standalone)
      const conn = yield* connect(hostsOf([server], { targetSessionAttrs: "read-write" }))
      assert.strictEqual(conn.info.role, "primary")
    })
  )
})

describe("the role query", () => {
  it.effect("reads performance_schema on MySQL, information_schema on MariaDB", () =>
    Effect.gen(function* () {
      const mysql = yield* serverWithRole(standalone, "mysql")
      const mariadb = yield* serverWithRole(standalone, "mariadb")
      yield* connect(hostsOf([mysql], { targetSessionAttrs: "read-write" }))
      yield* connect(hostsOf([mariadb], { targetSessionAttrs: "read-write" }))
      const [onMysql] = roleQueries(mysql)
      const [onMariadb] = roleQueries(mariadb)
      assert.include(onMysql, "performance_schema.global_status")
      assert.include(onMariadb, "information_schema.GLOBAL_STATUS")
    })
  )

  it.effect("is not sent with targetSessionAttrs any", () =>
    Effect.gen(function* () {
      const server = yield* serverWithRole(synced)
      const conn = yield* connect(hostsOf([server], {}))
      assert.isUndefined(conn.info.role)
      assert.deepStrictEqual(roleQueries(server), [])
    })
  )

  it.live("unanswered: a TimeoutError within connectTimeout, and the next host takes the connection", () =>
    Effect.gen(function* () {
      const silent = yield* serverWithRole("silent")
      const ready = yield* serverWithRole(standalone)
      const options = {
        targetSessionAttrs: "read-write",
        connectTimeout: "400 millis",
        cancelTimeout: "200 millis"
      } as const
      const start = Date.now()
      const error = yield* refused(hostsOf([silent], options))
      assert.strictEqual(error._tag, "TimeoutError")
      assert.include(error.message, "role query")
      assert.isBelow(Date.now() - start, 3000)
      const conn = yield* connect(hostsOf([silent, ready], options))
      assert.strictEqual(conn.info.endpoint._tag === "Tcp" && conn.info.endpoint.port, ready.port)
    })
  )
})

describe("a host list's client", () => {
  it.live("writes to the first host in the list's order, however late its first check answers", () =>
    Effect.gen(function* () {
      const slow = yield* serverWithRole(synced, "mariadb", "300 millis")
      const fast = yield* serverWithRole(synced)
      const context = yield* Layer.build(
        MysqlClient.layer({
          ...hostsOf([slow, fast], { targetSessionAttrs: "read-write" }),
          replicaReads: { readYourWrites: false }
        }).pipe(Layer.provide(TransportLive))
      )
      const stats = yield* Context.get(context, MysqlClient.MysqlClient).stats
      assert.deepStrictEqual(
        stats.hosts?.map(({ status, writer }) => ({ status, writer })),
        [
          { status: "up", writer: true },
          { status: "up", writer: false }
        ]
      )
    })
  )
})
