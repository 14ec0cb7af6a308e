// Host lists against real servers the test starts: a writable MariaDB (the primary), one started
// with --read-only=ON (the replica), one whose certificate names another host, a port nobody
// listens on, and fault proxies that count the
// connections they accept. Which host a connect takes, what a dead or refusing host costs the next
// connect (its backoff), the error when none takes it, and the targets that pick by role.
import { assert, describe, layer } from "@effect/vitest"
import { FaultProxy, MariaDbServer, TestAccounts, TestPki } from "@effect-mysql/testing"
import { Context, Effect, Exit, Layer, Result, Schedule } from "effect"
import * as Cause from "effect/Cause"
import { SqlClient } from "effect/sql"
import { type ConnectionOptions, resolve } from "../src/ConnectionOptions.ts"
import type { MysqlError } from "../src/Errors.ts"
import * as HostRole from "../src/internal/HostRole.ts"
import * as MysqlClient from "../src/MysqlClient.ts"
import * as MysqlConnection from "../src/MysqlConnection.ts"
import { connect, TransportLive } from "./support.ts"

interface Servers {
  readonly primary: MariaDbServer.MariaDbServer
  readonly replica: MariaDbServer.MariaDbServer
  /** Its certificate names only wrong-name.invalid: verify-identity refuses it. */
  readonly mismatched: MariaDbServer.MariaDbServer
  readonly ca: string
}

class TestServers extends Context.Service<TestServers, Servers>()("test/HostServers") {}

const ServersLive = Layer.effect(
  TestServers,
  Effect.orDie(
    Effect.gen(function* () {
      const pki = yield* TestPki.generate
      const [primary, replica, mismatched] = yield* Effect.all(
        [
          MariaDbServer.start({ pki }),
          MariaDbServer.start({ pki, args: ["--read-only=ON"] }),
          MariaDbServer.start({ pki, serverCertificate: "wrongName" })
        ],
        { concurrency: 3 }
      )
      return { primary, replica, mismatched, ca: pki.ca.pem }
    })
  )
)

/** Nothing listens on port 1 of the loopback: a connect there is refused at once. */
const dead = "127.0.0.1:1"

const at = (server: { readonly host: string; readonly port: number }) => `${server.host}:${server.port}`

/** Root's options over verify-identity TLS for `hosts`; each host is checked against its own name. */
const hostsOptions = (servers: Servers, hosts: ReadonlyArray<string>, extra: Partial<ConnectionOptions> = {}) =>
  ({
    hosts,
    user: TestAccounts.root.user,
    password: TestAccounts.root.password,
    database: servers.primary.database,
    ssl: { mode: "verify-identity", ca: servers.ca },
    connectTimeout: "3 seconds",
    ...extra
  }) satisfies ConnectionOptions

/** A proxy in front of `target` that counts the connections it accepts. */
const counting = (target: { readonly host: string; readonly port: number }) => FaultProxy.start({ target })

/** The typed error a connect failed with; a defect fails the test. */
const failureOf = <A>(exit: Exit.Exit<A, MysqlError>): MysqlError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  assert.isFalse(Cause.hasDies(exit.cause), Cause.pretty(exit.cause))
  const error = Cause.findErrorOption(exit.cause)
  if (error._tag === "None") throw new Error(`no typed error: ${Cause.pretty(exit.cause)}`)
  return error.value
}

const port = (connection: MysqlConnection.MysqlConnection) =>
  connection.info.endpoint._tag === "Tcp" ? connection.info.endpoint.port : undefined

layer(ServersLive, { timeout: 120_000, excludeTestServices: true })("host lists", (it) => {
  describe("order and backoff", () => {
    it.effect("the first host that answers takes the connection", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        const conn = yield* connect(hostsOptions(servers, [at(servers.primary), at(servers.replica)]))
        assert.strictEqual(port(conn), servers.primary.port)
        assert.isUndefined(conn.info.role, "no role is read with targetSessionAttrs any")
        assert.isDefined(conn.info.tls)
      })
    )

    it.effect("a dead first host is skipped; with shared state the next connect tries it last", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        const proxy = yield* counting({ host: "127.0.0.1", port: 1 })
        const options = hostsOptions(servers, [at(proxy), at(servers.primary)])
        const list = MysqlConnection.hostList(Result.getOrThrow(resolve(options)))
        const open = Effect.scoped(
          Effect.map(MysqlConnection.connect(options, list).pipe(Effect.provide(TransportLive)), port)
        )
        assert.strictEqual(yield* open, servers.primary.port)
        assert.strictEqual(yield* proxy.accepted, 1)
        assert.strictEqual(yield* open, servers.primary.port)
        assert.strictEqual(yield* open, servers.primary.port)
        assert.strictEqual(yield* proxy.accepted, 1, "the failed host backs off, so the others go first")
        // Without shared state every connect starts with every host healthy.
        yield* Effect.scoped(connect(options))
        assert.strictEqual(yield* proxy.accepted, 2)
      })
    )

    it.effect("a pool shares the backoff: one attempt on the dead host for many connections", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        const proxy = yield* counting({ host: "127.0.0.1", port: 1 })
        const ports = yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const rows = yield* Effect.all(
            Array.from({ length: 4 }, () => sql`SELECT @@port AS p, SLEEP(0.05)`),
            { concurrency: 4 }
          )
          return rows.map((r) => Number(r[0]!.p))
        }).pipe(
          Effect.provide(
            MysqlClient.layer({
              ...hostsOptions(servers, [at(proxy), at(servers.primary)]),
              maxConnections: 4
            }).pipe(Layer.provide(TransportLive))
          )
        )
        assert.deepStrictEqual(ports, [
          servers.primary.port,
          servers.primary.port,
          servers.primary.port,
          servers.primary.port
        ])
        assert.strictEqual(yield* proxy.accepted, 1)
      })
    )

    it.effect("connectTimeout applies to each host: a silent first host costs one timeout", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        const silent = yield* FaultProxy.start({ target: servers.primary, mode: FaultProxy.blackhole })
        const start = Date.now()
        const conn = yield* connect(
          hostsOptions(servers, [at(silent), at(servers.replica)], { connectTimeout: "500 millis" })
        )
        const millis = Date.now() - start
        assert.strictEqual(port(conn), servers.replica.port)
        assert.isAtLeast(millis, 450)
        assert.isBelow(millis, 3000)
      })
    )
  })

  describe("failures", () => {
    it.effect("no host answers: one error listing every host with its reason", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        const proxy = yield* counting({ host: "127.0.0.1", port: 1 })
        const error = failureOf(yield* Effect.exit(connect(hostsOptions(servers, [dead, at(proxy)]))))
        assert.strictEqual(error._tag, "HostsUnavailableError")
        if (error._tag !== "HostsUnavailableError") return
        assert.deepStrictEqual(
          error.failures.map((f) => f.host),
          [dead, at(proxy)]
        )
        for (const failure of error.failures) {
          assert.include(["TransportError", "ProtocolError"], failure.error._tag, failure.error.message)
          assert.include(error.message, `${failure.host}: ${failure.error.message}`)
        }
      })
    )

    it.effect("a certificate that names another host moves on to the next host", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        const conn = yield* connect(hostsOptions(servers, [at(servers.mismatched), at(servers.primary)]))
        assert.strictEqual(port(conn), servers.primary.port)
        const error = failureOf(yield* Effect.exit(connect(hostsOptions(servers, [at(servers.mismatched), dead]))))
        assert.strictEqual(error._tag, "HostsUnavailableError")
        if (error._tag !== "HostsUnavailableError") return
        const [tls] = error.failures
        assert.strictEqual(tls?.error._tag, "TlsError")
        if (tls?.error._tag === "TlsError") assert.strictEqual(tls.error.reason, "hostname-mismatch")
      })
    )

    it.effect("a refused login (1045) stops at once: the next host is not tried", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        const proxy = yield* counting(servers.replica)
        const exit = yield* Effect.exit(
          connect(hostsOptions(servers, [at(servers.primary), at(proxy)], { password: "not-the-password" }))
        )
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag === "AuthenticationError") assert.strictEqual(error.errno, 1045)
        assert.strictEqual(yield* proxy.accepted, 0)
      })
    )

    it.effect("a lone host's error is its own, not wrapped", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        const refused = failureOf(yield* Effect.exit(connect(hostsOptions(servers, [dead]))))
        assert.strictEqual(refused._tag, "TransportError")
        const role = failureOf(
          yield* Effect.exit(
            connect(hostsOptions(servers, [at(servers.replica)], { targetSessionAttrs: "read-write" }))
          )
        )
        assert.strictEqual(role._tag, "HostRoleError")
        if (role._tag === "HostRoleError") {
          assert.strictEqual(role.reason, "read-only")
          assert.strictEqual(role.host, at(servers.replica))
        }
      })
    )
  })

  describe("targetSessionAttrs", () => {
    it.effect("read-write skips a read-only server", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        const conn = yield* connect(
          hostsOptions(servers, [at(servers.replica), at(servers.primary)], { targetSessionAttrs: "read-write" })
        )
        assert.strictEqual(port(conn), servers.primary.port)
        assert.strictEqual(conn.info.role, "primary")
      })
    )

    it.effect("read-only and prefer-replica choose the replica", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        for (const targetSessionAttrs of ["read-only", "prefer-replica"] as const) {
          const conn = yield* connect(
            hostsOptions(servers, [at(servers.primary), at(servers.replica)], { targetSessionAttrs })
          )
          assert.strictEqual(port(conn), servers.replica.port, targetSessionAttrs)
          assert.strictEqual(conn.info.role, "replica")
        }
      })
    )

    it.effect("prefer-replica takes a primary when no replica answers", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        const conn = yield* connect(
          hostsOptions(servers, [at(servers.primary), dead], { targetSessionAttrs: "prefer-replica" })
        )
        assert.strictEqual(port(conn), servers.primary.port)
        assert.strictEqual(conn.info.role, "primary")
      })
    )

    it.effect("read-only with no replica: every host's reason, the role refusal among them", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        const error = failureOf(
          yield* Effect.exit(
            connect(hostsOptions(servers, [at(servers.primary), dead], { targetSessionAttrs: "read-only" }))
          )
        )
        assert.strictEqual(error._tag, "HostsUnavailableError")
        if (error._tag !== "HostsUnavailableError") return
        assert.deepStrictEqual(
          error.failures.map((f) => f.error._tag),
          ["HostRoleError", "TransportError"]
        )
        assert.include(error.message, "takes writes")
      })
    )

    it.effect("a refused host's connection is closed, and the side connections go to the chosen host", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        const conn = yield* connect(
          hostsOptions(servers, [at(servers.primary), at(servers.replica)], {
            targetSessionAttrs: "read-only",
            statementTimeout: "200 millis"
          })
        )
        // The statement timeout stops the statement with KILL QUERY over a side connection: it
        // must reach the replica, where the statement runs.
        const exit = yield* Effect.exit(conn.query("SELECT SLEEP(5)"))
        assert.strictEqual(failureOf(exit)._tag, "StatementTimeoutError")
        const after = yield* conn.query<{ p: number }>("SELECT @@port AS p")
        assert.strictEqual(Number(after.rows[0]!.p), servers.replica.port)
        const observer = yield* connect(hostsOptions(servers, [at(servers.primary)]))
        // The server ends a session a moment after its client quits: ask until it has.
        const others = observer
          .query<{ n: bigint }>(
            "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = 'root' AND ID <> CONNECTION_ID()"
          )
          .pipe(Effect.map((result) => Number(result.rows[0]!.n)))
        const left = yield* others.pipe(
          Effect.repeat({ until: (n) => n === 0, schedule: Schedule.spaced("50 millis"), times: 40 })
        )
        assert.strictEqual(left, 0, "the primary, refused for its role, keeps no session of ours")
      })
    )
  })

  describe("the role query", () => {
    it.effect("MariaDB without Galera: read_only as set; wsrep_on OFF, which alone tells it from a Galera node", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        for (const [server, readOnly] of [
          [servers.primary, "0"],
          [servers.replica, "1"]
        ] as const) {
          const conn = yield* connect(hostsOptions(servers, [at(server)]))
          const result = yield* conn.query(HostRole.roleQuery("mariadb"), { rowShape: "array" })
          const row = result.rows[0] as unknown as ReadonlyArray<unknown>
          assert.deepStrictEqual(
            row.map((value) => (value === null ? null : String(value))),
            [readOnly, "0", "OFF", "OFF", null, "Disconnected"]
          )
          assert.deepStrictEqual(HostRole.report(row), {
            role: readOnly === "1" ? "replica" : "primary",
            galeraProblem: undefined
          })
        }
      })
    )
  })

  describe("MysqlClient", () => {
    it.effect("a host list URL with a target routes the pool to the primary", () =>
      Effect.gen(function* () {
        const servers = yield* TestServers
        const url = `mysql://root:${TestAccounts.root.password}@127.0.0.1:1,${at(servers.replica)},${at(servers.primary)}/${servers.primary.database}?target-session-attrs=read-write&ssl-mode=REQUIRED`
        const p = yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const rows = yield* sql`SELECT @@port AS p`
          return Number(rows[0]!.p)
        }).pipe(Effect.provide(MysqlClient.layerFromUrl(url).pipe(Layer.provide(TransportLive))))
        assert.strictEqual(p, servers.primary.port)
      })
    )
  })
})
