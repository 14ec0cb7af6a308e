// A host list's host checks against real MariaDB servers behind fault proxies, with the default
// check settings (every 1 s, bounded by 2 s): a host that goes silent is marked down and its
// statements go to the other host, then it rejoins; a host that is down when the client starts
// joins once it comes up. Each test prints the times it measured.
import { assert, layer } from "@effect/vitest"
import { FaultProxy, MariaDbServer, TestAccounts, TestPki } from "@effect-mysql/testing"
import { Context, Effect, Layer, Metric } from "effect"
import type { SqlClient } from "effect/sql"
import type * as MysqlClient from "../src/MysqlClient.ts"
import { withClient } from "./fakeSupport.ts"
import { recordingLogger, target } from "./support.ts"

/** A server besides the run's, so that a statement's `@@port` tells which host ran it. */
class Second extends Context.Service<Second, MariaDbServer.MariaDbServer>()("test/TopologySecond") {}

const SecondLive = Layer.effect(
  Second,
  Effect.orDie(
    Effect.flatMap(
      Effect.suspend(() => (target.pki ? Effect.succeed(target.pki) : TestPki.generate)),
      (pki) => MariaDbServer.start({ pki })
    )
  )
)

const at = (server: { readonly host: string; readonly port: number }) => `${server.host}:${server.port}`

const over = (hosts: ReadonlyArray<string>): MysqlClient.MysqlClientOptions => ({
  hosts,
  user: TestAccounts.plain.user,
  password: TestAccounts.plain.password,
  database: target.database,
  ssl: { mode: "disabled" }
})

const portOf = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<{ port: number }>`SELECT @@port AS port`, (rows) => Number(rows[0]!.port))

/** Milliseconds from `since` until host `index`'s status is `status` (polling stats), at most `limit`. */
const untilStatus = (
  client: MysqlClient.MysqlClient,
  index: number,
  status: MysqlClient.HostStatus,
  since: number,
  limit: number
) =>
  Effect.gen(function* () {
    while (performance.now() - since < limit) {
      const host = (yield* client.stats).hosts?.[index]
      if (host?.status === status) return Math.round(performance.now() - since)
      yield* Effect.sleep("10 millis")
    }
    const hosts = (yield* client.stats).hosts
    return yield* Effect.die(new Error(`host ${index} not ${status} after ${limit} ms: ${JSON.stringify(hosts)}`))
  })

layer(SecondLive, { timeout: 60_000, excludeTestServices: true })("host checks with the default settings", (it) => {
  it.effect("a host that goes silent is down within the check's bounds; the other host serves; it rejoins", () => {
    const { lines, layer: logger } = recordingLogger()
    return Effect.gen(function* () {
      const servers = [target, yield* Second]
      const proxies = [
        yield* FaultProxy.start({ target: servers[0]! }),
        yield* FaultProxy.start({ target: servers[1]! })
      ]
      yield* withClient(over(proxies.map(at)), (sql, client) =>
        Effect.gen(function* () {
          // The writer is the host whose check answered first: silence that one.
          const writer = (yield* client.stats).hosts!.findIndex((host) => host.writer)
          const other = 1 - writer
          assert.strictEqual(yield* portOf(sql), servers[writer]!.port)
          yield* proxies[writer]!.setMode(FaultProxy.blackhole)
          const switched = performance.now()
          const detectedMs = yield* untilStatus(client, writer, "down", switched, 6_000)
          assert.strictEqual(yield* portOf(sql), servers[other]!.port)
          const servedMs = Math.round(performance.now() - switched)
          const hosts = (yield* client.stats).hosts!
          assert.include(hosts[writer]?.error, "did not answer its host check within")
          assert.isTrue(hosts[other]?.writer)

          yield* proxies[writer]!.setMode(FaultProxy.forward)
          const restored = performance.now()
          const rejoinedMs = yield* untilStatus(client, writer, "up", restored, 8_000)
          console.log(
            `silent host: down ${detectedMs} ms after it went silent, first statement on the other host at ${servedMs} ms; up again ${rejoinedMs} ms after it answered`
          )
          // Between one timeout and one interval plus one timeout, with some slack for slow runners.
          assert.isAtLeast(detectedMs, 1_900)
          assert.isBelow(detectedMs, 4_000)
          assert.isBelow(rejoinedMs, 6_000)
          assert.strictEqual(yield* portOf(sql), servers[other]!.port, "the writer stays where it moved")

          // A warning when the host went down and when it came back, naming it.
          const warnings = lines.filter((line) => line.level === "Warn").map((line) => line.text)
          const silent = at(proxies[writer]!)
          assert.isTrue(warnings.some((text) => text.includes(`host ${silent} is down (`)))
          assert.isTrue(warnings.some((text) => text.includes(`host ${silent} is up again`)))
          assert.isTrue(warnings.every((text) => text.includes(`"server":"${silent}"`)))

          // Each host's pool and statements are series of their own, labelled with the host.
          const snapshots = yield* Metric.snapshot
          for (const proxy of proxies) {
            const labels = { "server.address": proxy.host, "server.port": String(proxy.port) }
            const has = (name: string, extra: Record<string, string>) =>
              snapshots.some(
                (snapshot) =>
                  snapshot.id === name &&
                  Object.entries({ ...labels, ...extra }).every(([key, value]) => snapshot.attributes?.[key] === value)
              )
            const pool = { "db.client.connection.pool.name": `${at(proxy)}/${target.database}` }
            assert.isTrue(has("db.client.connection.max", pool), `pool series of ${at(proxy)}`)
            assert.isTrue(has("db.client.operation.duration", { "db.operation.name": "SELECT" }), at(proxy))
          }
        })
      )
    }).pipe(Effect.provide(logger), Effect.provideService(Metric.MetricRegistry, new Map()))
  })

  it.effect("a host down at the start is checked in the background and joins when it comes up", () =>
    Effect.gen(function* () {
      const second = yield* Second
      // Every connection closed at once, before the greeting: a server that is not there.
      const late = yield* FaultProxy.start({ target, mode: FaultProxy.cutAfter({ toClient: 0 }) })
      yield* withClient(over([at(late), at(second)]), (sql, client) =>
        Effect.gen(function* () {
          const started = performance.now()
          yield* untilStatus(client, 0, "down", started, 2_000)
          assert.strictEqual(yield* portOf(sql), second.port)
          yield* Effect.sleep("2500 millis")
          const attempts = yield* late.accepted
          yield* late.setMode(FaultProxy.forward)
          const restored = performance.now()
          const rejoinedMs = yield* untilStatus(client, 0, "up", restored, 8_000)
          console.log(`late host: ${attempts} checks refused in the first 2.5 s, up ${rejoinedMs} ms after it came up`)
          assert.isAtLeast(attempts, 2, "the down host is tried again in the background")
          assert.isBelow(rejoinedMs, 6_000)
          const [joined] = (yield* client.stats).hosts!
          assert.strictEqual(joined?.role, "primary")
          assert.isUndefined(joined?.error)
        })
      )
    })
  )
})
