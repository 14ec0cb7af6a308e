// The Galera cluster checked with the `mariadb` CLI alone: replication between nodes, eviction of
// a killed node (and how long writes on a survivor wait for it), and a restart that rejoins by
// incremental state transfer.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { GaleraCluster, TestAccounts, TestPki } from "../src/index.ts"
import { pause, run } from "../src/Process.ts"

const clusterSize = (cluster: GaleraCluster.GaleraCluster, i: number) =>
  cluster.execute(
    i,
    "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='WSREP_CLUSTER_SIZE'"
  )

const waitForSize = Effect.fnUntraced(function* (cluster: GaleraCluster.GaleraCluster, i: number, size: number) {
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((yield* clusterSize(cluster, i)) === String(size)) return
    yield* pause(100)
  }
  assert.fail(`node${i} never saw a cluster of ${size}`)
})

describe("GaleraCluster", () => {
  it.live(
    "replicates between nodes, evicts a killed node, and takes it back by IST",
    () =>
      Effect.gen(function* () {
        const pki = yield* TestPki.generate
        const startedAt = performance.now()
        const cluster = yield* GaleraCluster.start({ pki })
        console.log(`Galera: three nodes Synced after ${Math.round(performance.now() - startedAt)} ms`)
        for (const i of [0, 1, 2]) assert.strictEqual(yield* clusterSize(cluster, i), "3")

        yield* cluster.execute(0, "CREATE TABLE galera_rows (id INT PRIMARY KEY, note VARCHAR(20))")
        yield* cluster.execute(0, "INSERT INTO galera_rows VALUES (1, 'from node0')")
        const read = "SET SESSION wsrep_sync_wait=1; SELECT note FROM galera_rows WHERE id=1"
        assert.strictEqual(yield* cluster.execute(2, read), "from node0")

        // The test accounts came to the joiners with their state transfer: a TLS login on node 2.
        const { user, password } = TestAccounts.tlsOnly
        const cipher = yield* run("mariadb", [
          ...["--no-defaults", "--batch", "--skip-column-names", "--host=127.0.0.1"],
          ...[`--port=${cluster.nodes[2].port}`, `--user=${user}`, `--password=${password}`],
          ...["--ssl", `--ssl-ca=${pki.ca.path}`, "--ssl-verify-server-cert"],
          "--execute=SHOW SESSION STATUS LIKE 'Ssl_cipher'"
        ])
        assert.match(cipher, /^Ssl_cipher\t\S+/)

        // Frozen for less than the suspect timeout: it answers nothing, then carries on, still a member.
        yield* cluster.freeze(2)
        const frozen = yield* Effect.flip(Effect.timeout(cluster.execute(2, "SELECT 1"), "1 second"))
        assert.strictEqual(frozen._tag, "TimeoutError")
        yield* cluster.thaw(2)
        assert.strictEqual(yield* cluster.execute(2, "SELECT 1"), "1")

        const firstJoin = yield* cluster.log(1)
        assert.include(firstJoin, "SST completed on joiner")
        const before = firstJoin.length
        yield* cluster.kill(1)
        const killedAt = performance.now()
        yield* cluster.execute(0, "INSERT INTO galera_rows VALUES (2, 'while node1 is dead')")
        const stall = performance.now() - killedAt
        console.log(`Galera: the first write on node0 after node1's SIGKILL took ${Math.round(stall)} ms`)
        yield* waitForSize(cluster, 0, 2)
        yield* cluster.execute(0, "INSERT INTO galera_rows VALUES (3, 'after the eviction')")

        const restartedAt = performance.now()
        yield* cluster.restart(1)
        console.log(`Galera: node1 Synced ${Math.round(performance.now() - restartedAt)} ms after its restart`)
        const rejoin = (yield* cluster.log(1)).slice(before)
        assert.include(rejoin, "IST completed on joiner")
        assert.notInclude(rejoin, "SST completed on joiner")
        assert.strictEqual(yield* clusterSize(cluster, 1), "3")
        assert.strictEqual(
          yield* cluster.execute(1, "SET SESSION wsrep_sync_wait=1; SELECT count(*) FROM galera_rows"),
          "3"
        )
      }),
    90_000
  )
})
