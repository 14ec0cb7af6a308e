/**
 * A primary and a read-only replica, two test servers replicating over TLS by GTID, for tests of
 * reads routed to replicas, replication lag and read-your-writes. The replica logs in as the
 * REQUIRE SSL replication account and verifies the primary's certificate against the test CA. It
 * is a scoped resource: closing the scope stops both servers.
 */
import { Effect } from "effect"
import { HarnessError } from "./HarnessError.ts"
import { execute } from "./MariaDbCli.ts"
import * as MariaDbServer from "./MariaDbServer.ts"
import { pause } from "./Process.ts"
import { TestAccounts } from "./TestAccounts.ts"
import type { TestPki } from "./TestPki.ts"

export interface ReplicaPairOptions {
  readonly pki: TestPki
  /** Further `mariadbd` options for both servers. */
  readonly args?: ReadonlyArray<string>
}

export interface ReplicaPair {
  readonly primary: MariaDbServer.MariaDbServer
  readonly replica: MariaDbServer.MariaDbServer
  /** STOP SLAVE SQL_THREAD: the replica keeps receiving events but applies none, so it lags. */
  readonly stopSqlThread: Effect.Effect<void, HarnessError>
  readonly startSqlThread: Effect.Effect<void, HarnessError>
  /** Waits until the replica has applied everything the primary has logged so far (30 s at most). */
  readonly waitCaughtUp: Effect.Effect<void, HarnessError>
  /** The replica's SHOW SLAVE STATUS, column by column. */
  readonly replicaStatus: Effect.Effect<ReadonlyMap<string, string>, HarnessError>
  /** SIGKILL to the primary; the replica retries its connection every second. */
  readonly killPrimary: Effect.Effect<void>
  /** Starts the primary again on its port and data; the replica reconnects and resumes by GTID. */
  readonly restartPrimary: Effect.Effect<void, HarnessError>
}

const quote = (value: string) => `'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`

const changeMaster = (primary: MariaDbServer.MariaDbServer, pki: TestPki) => {
  const { user, password } = TestAccounts.replicaTls
  return [
    `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port}`,
    `MASTER_USER=${quote(user)}, MASTER_PASSWORD=${quote(password)}`,
    `MASTER_SSL=1, MASTER_SSL_CA=${quote(pki.ca.path)}, MASTER_SSL_VERIFY_SERVER_CERT=1`,
    // The default retry interval is a minute: a restarted primary would wait that long for its replica.
    "MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos"
  ].join(", ")
}

/** The first row of a result printed with its column names, by column name. */
const firstRow = (printed: string): ReadonlyMap<string, string> => {
  const [names = "", values = ""] = printed.split("\n")
  const cells = values.split("\t")
  return new Map(names.split("\t").map((name, i) => [name, cells[i] ?? ""]))
}

/** Waits until the replica's IO thread is connected to the primary (10 s at most). */
const awaitConnected = Effect.fnUntraced(function* (
  replicaStatus: Effect.Effect<ReadonlyMap<string, string>, HarnessError>
) {
  let status: ReadonlyMap<string, string> = new Map()
  for (let attempt = 0; attempt < 100; attempt++) {
    status = yield* replicaStatus
    if (status.get("Slave_IO_Running") === "Yes") return
    yield* pause(100)
  }
  return yield* new HarnessError({
    message: `the replica did not connect to the primary in 10 s: ${status.get("Last_IO_Error") ?? "no status"}`
  })
})

/** Starts both servers and the replication between them. */
export const start = Effect.fnUntraced(function* (options: ReplicaPairOptions) {
  const extra = options.args ?? []
  const [primary, replica] = yield* Effect.all(
    [
      MariaDbServer.start({ pki: options.pki, args: ["--server-id=1", "--log-bin=primary-bin", ...extra] }),
      MariaDbServer.start({ pki: options.pki, args: ["--server-id=2", "--read-only=ON", ...extra] })
    ],
    { concurrency: "unbounded" }
  )
  const onReplica = (sql: string) => execute(replica.socketPath, sql)
  const replicaStatus = Effect.map(execute(replica.socketPath, "SHOW SLAVE STATUS", { columnNames: true }), firstRow)
  yield* onReplica(`${changeMaster(primary, options.pki)}; START SLAVE`)
  yield* awaitConnected(replicaStatus)

  const waitCaughtUp = Effect.gen(function* () {
    const position = yield* execute(primary.socketPath, "SELECT @@gtid_binlog_pos")
    const waited = yield* onReplica(`SELECT MASTER_GTID_WAIT(${quote(position)}, 30)`)
    if (waited !== "0")
      return yield* new HarnessError({ message: `the replica did not reach the primary's GTID ${position} in 30 s` })
  })
  return {
    primary,
    replica,
    stopSqlThread: Effect.asVoid(onReplica("STOP SLAVE SQL_THREAD")),
    startSqlThread: Effect.asVoid(onReplica("START SLAVE SQL_THREAD")),
    waitCaughtUp,
    replicaStatus,
    killPrimary: primary.kill,
    restartPrimary: primary.restart
  } satisfies ReplicaPair
})
