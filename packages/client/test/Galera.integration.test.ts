// Host lists against a real three-node Galera cluster the test starts (packages/testing's
// GaleraCluster): every node takes writes; a node that is up but not Synced (desynced) is turned
// away for a target; a pool whose node is killed finds a survivor, and the time until the first
// write succeeds there is measured; the killed node rejoins and takes connections again.
import { assert, describe, layer } from "@effect/vitest"
import { TestAccounts } from "@effect-mysql/testing"
import { type Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import type { ConnectionOptions } from "../src/ConnectionOptions.ts"
import * as MysqlClient from "../src/MysqlClient.ts"
import { Cluster, ClusterLive, connect, TransportLive } from "./support.ts"

const options = (
  { cluster, ca }: Context.Service.Shape<typeof Cluster>,
  extra: Partial<ConnectionOptions> = {}
): ConnectionOptions => ({
  hosts: cluster.nodes.map((node) => `${node.host}:${node.port}`),
  user: TestAccounts.root.user,
  password: TestAccounts.root.password,
  database: cluster.database,
  ssl: { mode: "verify-identity", ca },
  connectTimeout: "3 seconds",
  targetSessionAttrs: "read-write",
  ...extra
})

const portOf = (connection: { readonly info: { readonly endpoint: { readonly _tag: string } } }) =>
  (connection.info.endpoint as { readonly port?: number }).port

layer(ClusterLive, { timeout: 180_000, excludeTestServices: true })("a Galera cluster", (it) => {
  describe("targets", () => {
    it.effect("every Synced node takes writes: read-write takes the first", () =>
      Effect.gen(function* () {
        const shared = yield* Cluster
        const connection = yield* connect(options(shared))
        assert.strictEqual(portOf(connection), shared.cluster.nodes[0]!.port)
        assert.strictEqual(connection.info.role, "primary")
      })
    )

    it.effect("a node that is up but not Synced gets no connection for a target", () =>
      Effect.gen(function* () {
        const shared = yield* Cluster
        const { cluster } = shared
        // Desynced, the node answers but leaves the Synced state (wsrep_local_state 2).
        yield* cluster.execute(0, "SET GLOBAL wsrep_desync = ON")
        yield* Effect.addFinalizer(() => Effect.orDie(cluster.execute(0, "SET GLOBAL wsrep_desync = OFF")))
        const connection = yield* connect(options(shared))
        assert.strictEqual(portOf(connection), cluster.nodes[1]!.port)
        // Alone in the list, the desynced node is refused with its reason.
        const alone = yield* Effect.flip(
          connect(options(shared, { hosts: [`${cluster.nodes[0]!.host}:${cluster.nodes[0]!.port}`] }))
        )
        assert.strictEqual(alone._tag, "HostRoleError")
        assert.include(alone.message, "Synced")
        // With no target the node is taken as it is.
        const any = yield* connect(options(shared, { targetSessionAttrs: "any" }))
        assert.strictEqual(portOf(any), cluster.nodes[0]!.port)
      })
    )
  })

  describe("a node killed under a pool", () => {
    it.effect("the pool's next writes go to a survivor; the node rejoins and is taken again", () =>
      Effect.gen(function* () {
        const shared = yield* Cluster
        const { cluster } = shared
        const client = MysqlClient.layer({ ...options(shared), maxConnections: 2 }).pipe(Layer.provide(TransportLive))
        yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          yield* sql`CREATE OR REPLACE TABLE galera_failover (id INT PRIMARY KEY, node INT)`
          const nodePort = Effect.map(sql<{ p: number }>`SELECT @@port AS p`, (rows) => Number(rows[0]!.p))
          assert.strictEqual(yield* nodePort, cluster.nodes[0]!.port)

          yield* cluster.kill(0)
          const killedAt = performance.now()
          // Writes until one succeeds: the pool drops the dead connection and opens one on a
          // survivor, whose first write waits until the cluster has evicted the dead node.
          let failures = 0
          let id = 0
          while (true) {
            const written = yield* Effect.result(sql`INSERT INTO galera_failover VALUES (${++id}, @@port)`)
            if (written._tag === "Success") break
            failures++
            assert.isBelow(performance.now() - killedAt, 30_000, "no survivor took a write within 30 s")
          }
          const firstWriteMs = Math.round(performance.now() - killedAt)
          console.log(
            `Galera failover: first write on a survivor ${firstWriteMs} ms after the kill, ${failures} failed`
          )
          assert.notStrictEqual(yield* nodePort, cluster.nodes[0]!.port)

          yield* cluster.restart(0)
          const rejoinedMs = Math.round(performance.now() - killedAt)
          console.log(`Galera failover: the killed node Synced again ${rejoinedMs} ms after the kill`)
        }).pipe(Effect.provide(client))

        // A new client, with fresh backoff, takes the rejoined node again.
        const connection = yield* connect(options(shared))
        assert.strictEqual(portOf(connection), cluster.nodes[0]!.port)
        const rows = yield* connection.query<{ n: bigint }>("SELECT COUNT(*) AS n FROM galera_failover")
        assert.isAtLeast(Number(rows.rows[0]!.n), 1)
      })
    )
  })
})
