// The primary and replica checked with the `mariadb` CLI alone: replication over verified TLS by
// GTID, a replica that lags while its SQL thread is stopped, and a primary killed and restarted.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { MariaDbCli, ReplicaPair, TestAccounts, TestPki } from "../src/index.ts"
import { pause } from "../src/Process.ts"

describe("ReplicaPair", () => {
  it.live(
    "replicates over TLS by GTID into a read-only replica, which lags while its SQL thread is stopped",
    () =>
      Effect.gen(function* () {
        const pki = yield* TestPki.generate
        const startedAt = performance.now()
        const pair = yield* ReplicaPair.start({ pki })
        console.log(`ReplicaPair: replicating after ${Math.round(performance.now() - startedAt)} ms`)
        const onPrimary = (sql: string) => MariaDbCli.execute(pair.primary.socketPath, sql)
        const onReplica = (sql: string) => MariaDbCli.execute(pair.replica.socketPath, sql)

        assert.strictEqual(yield* onReplica("SELECT @@read_only"), "1")
        assert.strictEqual(yield* onPrimary("SELECT @@read_only"), "0")
        const status = yield* pair.replicaStatus
        assert.strictEqual(status.get("Slave_IO_Running"), "Yes")
        assert.strictEqual(status.get("Slave_SQL_Running"), "Yes")
        assert.strictEqual(status.get("Master_SSL_Allowed"), "Yes")
        assert.strictEqual(status.get("Master_SSL_Verify_Server_Cert"), "Yes")
        assert.strictEqual(status.get("Master_SSL_CA_File"), pki.ca.path)
        assert.strictEqual(status.get("Using_Gtid"), "Slave_Pos")
        // The primary streams its binlog to the REQUIRE SSL account, which no plaintext login passes.
        assert.strictEqual(
          yield* onPrimary("SELECT USER FROM information_schema.PROCESSLIST WHERE COMMAND='Binlog Dump'"),
          TestAccounts.replicaTls.user
        )

        yield* onPrimary("CREATE TABLE replicated (id INT PRIMARY KEY, note VARCHAR(20))")
        yield* onPrimary("INSERT INTO replicated VALUES (1, 'first')")
        yield* pair.waitCaughtUp
        assert.strictEqual(yield* onReplica("SELECT note FROM replicated WHERE id=1"), "first")

        yield* pair.stopSqlThread
        yield* onPrimary("INSERT INTO replicated VALUES (2, 'while stopped')")
        yield* pause(500)
        assert.strictEqual(yield* onReplica("SELECT count(*) FROM replicated"), "1")
        yield* pair.startSqlThread
        yield* pair.waitCaughtUp
        assert.strictEqual(yield* onReplica("SELECT note FROM replicated WHERE id=2"), "while stopped")

        yield* pair.killPrimary
        yield* pair.restartPrimary
        yield* onPrimary("INSERT INTO replicated VALUES (3, 'after the crash')")
        yield* pair.waitCaughtUp
        assert.strictEqual(yield* onReplica("SELECT count(*) FROM replicated"), "3")
      }),
    60_000
  )
})
