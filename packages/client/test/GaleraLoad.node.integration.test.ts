// A MysqlClient over a real three-node Galera cluster under load (packages/testing's
// GaleraCluster): 200 writers through SqlClient while the writer node is killed and restarted (no
// acknowledged commit is lost, the writer moves once and stays), certification conflicts between
// two clients writing through different nodes (retried only when marked idempotent), and a writer
// node that stops serving (desynced, or frozen until Galera evicts it) is left for a survivor.
// The figures measured go to docs/clusters.md. Node only (`.node.` in the name): the cluster-wide
// behaviour does not depend on the runtime, which Galera.integration.test.ts covers three times.
import { assert, layer } from "@effect/vitest"
import { type GaleraCluster, TestAccounts } from "@effect-mysql/testing"
import { Cause, Context, Effect, Exit, Fiber, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { isSqlError } from "effect/sql/SqlError"
import type { ConnectionOptions } from "../src/ConnectionOptions.ts"
import * as MysqlClient from "../src/MysqlClient.ts"
import { Cluster, ClusterLive, connect, TransportLive } from "./support.ts"

type Shared = Context.Service.Shape<typeof Cluster>

/** Connection options over the nodes `order` names, in that order. */
const connectionOptions = ({ cluster, ca }: Shared, order: ReadonlyArray<number>): ConnectionOptions => ({
  hosts: order.map((i) => `${cluster.nodes[i]!.host}:${cluster.nodes[i]!.port}`),
  user: TestAccounts.root.user,
  password: TestAccounts.root.password,
  database: cluster.database,
  ssl: { mode: "verify-identity", ca },
  connectTimeout: "3 seconds",
  targetSessionAttrs: "read-write"
})

const options = (
  shared: Shared,
  order: ReadonlyArray<number>,
  extra: Partial<MysqlClient.MysqlClientOptions> = {}
): MysqlClient.MysqlClientOptions => ({
  ...connectionOptions(shared, order),
  hostCheckInterval: "250 millis",
  ...extra
})

/** A client for the enclosing scope. */
const client = (clientOptions: MysqlClient.MysqlClientOptions) =>
  Effect.map(Layer.build(MysqlClient.layer(clientOptions).pipe(Layer.provide(TransportLive))), (context) => ({
    sql: Context.get(context, SqlClient.SqlClient),
    client: Context.get(context, MysqlClient.MysqlClient)
  }))

type Client = Effect.Success<ReturnType<typeof client>>

const hostsOf = (c: Client) => Effect.map(c.client.stats, (stats) => stats.hosts ?? [])

const writerIndex = (c: Client) => Effect.map(hostsOf(c), (hosts) => hosts.findIndex((host) => host.writer))

const stateOf = (host: MysqlClient.HostStats) =>
  [host.status, host.galeraProblem, host.error].filter((part) => part !== undefined).join(": ")

/** What `stats` shows of the hosts, recorded at each change while the returned fiber runs. */
const watchHosts = (c: Client) =>
  Effect.gen(function* () {
    const changes: Array<{ readonly at: number; readonly hosts: ReadonlyArray<MysqlClient.HostStats> }> = []
    let last = ""
    const fiber = yield* Effect.forkChild(
      Effect.forever(
        Effect.gen(function* () {
          const hosts = yield* hostsOf(c)
          const key = hosts.map((host) => `${stateOf(host)} ${host.writer}`).join("|")
          if (key !== last) changes.push({ at: performance.now(), hosts })
          last = key
          yield* Effect.sleep("20 millis")
        })
      )
    )
    return { changes, fiber }
  })

/** Each time the writer changed: to which node, and what stats showed of the node it left. */
const writerMoves = (changes: Effect.Success<ReturnType<typeof watchHosts>>["changes"]) => {
  const moves: Array<{ readonly at: number; readonly to: number; readonly left: string | undefined }> = []
  let writer = -1
  for (const { at, hosts } of changes) {
    const now = hosts.findIndex((host) => host.writer)
    if (now === -1 || now === writer) continue
    moves.push({ at, to: now, left: writer === -1 ? undefined : `node${writer} ${stateOf(hosts[writer]!)}` })
    writer = now
  }
  return moves
}

/** Polls `condition` every 20 ms until it holds; fails the test after `withinMs`. */
const waitUntil = (what: string, withinMs: number, condition: Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    const started = performance.now()
    while (!(yield* condition)) {
      assert.isBelow(performance.now() - started, withinMs, `${what} within ${withinMs} ms`)
      yield* Effect.sleep("20 millis")
    }
    return Math.round(performance.now() - started)
  })

/** The node a statement outside `withReplicaReads` runs on: the writer. */
const portOf = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<{ p: number }>`SELECT @@port AS p`, (rows) => Number(rows[0]!.p))

/** The outcome of every write: acknowledged ids with the node and time, failures by reason, defects. */
class Tally {
  readonly acknowledged: Array<{ readonly id: number; readonly port: number; readonly at: number }> = []
  readonly escaped = new Map<string, number>()
  defects = 0

  record<E>(id: number, exit: Exit.Exit<number, E>): void {
    if (Exit.isSuccess(exit)) {
      this.acknowledged.push({ id, port: exit.value, at: performance.now() })
      return
    }
    if (Cause.hasDies(exit.cause)) {
      this.defects++
      console.log(`defect: ${Cause.pretty(exit.cause)}`)
      return
    }
    const error = Cause.findErrorOption(exit.cause)
    const reason =
      error._tag === "None" ? "interrupted" : isSqlError(error.value) ? error.value.reason._tag : String(error.value)
    this.escaped.set(reason, (this.escaped.get(reason) ?? 0) + 1)
  }

  /** The first write acknowledged after `since` on a node other than `port`. */
  firstElsewhere(port: number, since: number) {
    return this.acknowledged.find((write) => write.at > since && write.port !== port)
  }

  get escapedText(): string {
    return this.escaped.size === 0 ? "none" : [...this.escaped].map(([reason, n]) => `${reason} ${n}`).join(", ")
  }
}

/**
 * Writers inserting unique ids until `running.value` turns false. Each insert is idempotent (a
 * second run of an id that committed changes nothing), so a lost connection may be retried.
 */
const writers = (sql: SqlClient.SqlClient, count: number, tally: Tally, running: { value: boolean }) => {
  let nextId = 0
  const write = (id: number) =>
    MysqlClient.idempotent(
      sql.withTransaction(
        Effect.gen(function* () {
          const port = yield* portOf(sql)
          yield* sql`INSERT INTO galera_load (id, node) VALUES (${id}, @@port) ON DUPLICATE KEY UPDATE id = id`
          return port
        })
      )
    )
  const loop = Effect.gen(function* () {
    while (running.value) {
      const id = ++nextId
      const exit = yield* Effect.exit(write(id))
      tally.record(id, exit)
      // A failure that escaped the retries is not hammered at once.
      if (Exit.isFailure(exit)) yield* Effect.sleep("20 millis")
    }
  })
  return Effect.forkChild(
    Effect.all(
      Array.from({ length: count }, () => loop),
      { concurrency: "unbounded" }
    )
  )
}

/** The rows of `query` on node `i`, read after the node has applied every commit it has heard of. */
const readOn = <A extends object>(shared: Shared, i: number, query: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const connection = yield* connect(connectionOptions(shared, [i]))
      yield* connection.query("SET SESSION wsrep_sync_wait = 1")
      return (yield* connection.query<A>(query)).rows
    })
  )

/** The acknowledged ids missing from node `i`. */
const missingOn = (shared: Shared, i: number, tally: Tally) =>
  Effect.map(readOn<{ id: number }>(shared, i, "SELECT id FROM galera_load"), (rows) => {
    const present = new Set(rows.map((row) => Number(row.id)))
    return tally.acknowledged.filter((write) => !present.has(write.id)).length
  })

/** A counter row incremented by `fibers` × `times` transactions of `c`, each held open a moment. */
const increments = (
  c: Client,
  fibers: number,
  times: number,
  wrap: (work: Effect.Effect<void, unknown>) => Effect.Effect<void, unknown>
) => {
  const attempt = c.sql.withTransaction(
    Effect.andThen(c.sql`UPDATE galera_counter SET n = n + 1 WHERE id = 1`, c.sql`DO SLEEP(0.005)`)
  )
  const one = Effect.exit(wrap(Effect.asVoid(attempt)))
  return Effect.map(
    Effect.all(
      Array.from({ length: fibers }, () => Effect.forEach(Array.from({ length: times }), () => one)),
      { concurrency: "unbounded" }
    ),
    (exits) => exits.flat()
  )
}

/** The node that acknowledged `write`. */
const survivorIndex = (cluster: GaleraCluster.GaleraCluster, write: { readonly port: number }) =>
  cluster.nodes.findIndex((node) => node.port === write.port)

/** The number of nodes in node `i`'s view of the cluster. */
const clusterSize = (cluster: GaleraCluster.GaleraCluster, i: number) =>
  Effect.map(Effect.orDie(cluster.execute(i, "SHOW STATUS LIKE 'wsrep_cluster_size'")), (printed) =>
    Number(/(\d+)\s*$/.exec(printed.trim())?.[1])
  )

/** Whether `exit` failed with a Galera certification failure: a DeadlockError reason, errno 1213. */
const isCertificationFailure = (exit: Exit.Exit<void, unknown>) => {
  if (Exit.isSuccess(exit)) return false
  const error = Cause.findErrorOption(exit.cause)
  if (error._tag === "None" || !isSqlError(error.value)) return false
  const cause = error.value.reason.cause as { readonly errno?: unknown } | undefined
  return error.value.reason._tag === "DeadlockError" && cause?.errno === 1213
}

const counterValue = (shared: Shared) =>
  Effect.map(readOn<{ n: number }>(shared, 2, "SELECT n FROM galera_counter WHERE id = 1"), (rows) =>
    Number(rows[0]!.n)
  )

layer(ClusterLive, { timeout: 180_000, excludeTestServices: true })("a Galera cluster under load", (it) => {
  it.effect(
    "200 writers: the writer node is killed and restarted; no acknowledged commit is lost",
    () =>
      Effect.gen(function* () {
        const shared = yield* Cluster
        const { cluster } = shared
        const c = yield* client(options(shared, [0, 1, 2], { maxConnections: 50 }))
        yield* c.sql`CREATE OR REPLACE TABLE galera_load (id INT PRIMARY KEY, node INT)`
        const killed = yield* writerIndex(c)
        const killedPort = cluster.nodes[killed]!.port
        const tally = new Tally()
        const running = { value: true }
        const fiber = yield* writers(c.sql, 200, tally, running)
        const watch = yield* watchHosts(c)

        yield* Effect.sleep("1500 millis")
        const beforeKill = tally.acknowledged.length
        yield* cluster.kill(killed)
        const killedAt = performance.now()
        yield* waitUntil(
          "a write acknowledged on a survivor",
          30_000,
          Effect.sync(() => tally.firstElsewhere(killedPort, killedAt) !== undefined)
        )
        const survivorWrite = tally.firstElsewhere(killedPort, killedAt)!
        const firstOnSurvivorMs = Math.round(survivorWrite.at - killedAt)

        const restartedAt = performance.now()
        yield* cluster.restart(killed)
        const rejoinedMs = yield* waitUntil(
          "the restarted node up in stats",
          30_000,
          Effect.map(
            hostsOf(c),
            (hosts) => hosts[killed]!.status === "up" && hosts[killed]!.galeraProblem === undefined
          )
        ).pipe(Effect.map(() => Math.round(performance.now() - restartedAt)))
        yield* Effect.sleep("1 second")
        running.value = false
        yield* Fiber.join(fiber)
        yield* Fiber.interrupt(watch.fiber)

        const moves = writerMoves(watch.changes)
        const survivor = survivorIndex(cluster, survivorWrite)
        const lost = yield* Effect.forEach([0, 1, 2], (i) => missingOn(shared, i, tally))
        const onRestarted = tally.acknowledged.filter((write) => write.at > restartedAt && write.port === killedPort)
        console.log(
          `Galera load: ${tally.acknowledged.length} acknowledged (${beforeKill} before the kill), lost ${lost.join("/")} (nodes 0/1/2), ` +
            `escaped failures: ${tally.escapedText}, defects ${tally.defects}, ` +
            `first write on a survivor ${firstOnSurvivorMs} ms after the kill, ` +
            `node rejoined (up in stats) ${rejoinedMs} ms after its restart began; writer: ` +
            moves
              .map(({ at, to, left }) =>
                left === undefined ? `node${to}` : `node${to} at +${Math.round(at - killedAt)} ms (left ${left})`
              )
              .join(" → ")
        )
        assert.deepStrictEqual(lost, [0, 0, 0])
        assert.strictEqual(tally.defects, 0)
        assert.notStrictEqual(survivor, killed)
        // One writer at a time, moving only from a host that stopped serving, and no failback.
        assert.strictEqual(moves[0]?.to, killed)
        assert.strictEqual(moves[1]?.to, survivor)
        for (const move of moves.slice(1)) assert.notMatch(move.left!, /^node\d up$/)
        assert.notInclude(
          moves.slice(1).map((move) => move.to),
          killed
        )
        assert.strictEqual(onRestarted.length, 0)
      }),
    120_000
  )

  it.effect(
    "two clients writing one row through different nodes: certification failures, retried when idempotent",
    () =>
      Effect.gen(function* () {
        const shared = yield* Cluster
        const a = yield* client(options(shared, [0, 1, 2], { maxConnections: 4 }))
        const b = yield* client(options(shared, [1, 0, 2], { maxConnections: 4 }))
        const ports = [yield* portOf(a.sql), yield* portOf(b.sql)]
        assert.deepStrictEqual(ports, [shared.cluster.nodes[0]!.port, shared.cluster.nodes[1]!.port])
        yield* a.sql`CREATE OR REPLACE TABLE galera_counter (id INT PRIMARY KEY, n INT NOT NULL)`
        yield* a.sql`INSERT INTO galera_counter VALUES (1, 0)`

        // Without `idempotent` a certification failure reaches the caller.
        let rounds = 0
        let plain: Array<Exit.Exit<void, unknown>> = []
        while (!plain.some(isCertificationFailure)) {
          assert.isBelow(rounds++, 10, "no certification failure in 10 rounds")
          const [onA, onB] = yield* Effect.all([increments(a, 2, 20, (w) => w), increments(b, 2, 20, (w) => w)], {
            concurrency: 2
          })
          plain = [...plain, ...onA, ...onB]
        }
        const plainOk = plain.filter(Exit.isSuccess).length
        const certification = plain.filter(isCertificationFailure).length
        assert.strictEqual(plainOk + certification, plain.length, "only certification failures")
        assert.strictEqual(yield* counterValue(shared), plainOk)

        // With `idempotent` every increment lands once: a certification failure committed nothing,
        // and no connection is lost here, so running the transaction again is safe.
        yield* a.sql`UPDATE galera_counter SET n = 0 WHERE id = 1`
        let attempts = 0
        const counted = (work: Effect.Effect<void, unknown>) =>
          MysqlClient.idempotent(
            Effect.andThen(
              Effect.sync(() => attempts++),
              work
            ),
            { retries: 20 }
          )
        const [onA, onB] = yield* Effect.all([increments(a, 2, 20, counted), increments(b, 2, 20, counted)], {
          concurrency: 2
        })
        const retried = [...onA, ...onB]
        const retriedOk = retried.filter(Exit.isSuccess).length
        const final = yield* counterValue(shared)
        console.log(
          `Galera certification: without idempotent ${plain.length} increments in ${rounds} round(s), ` +
            `${plainOk} committed, ${certification} certification failures (1213); ` +
            `with idempotent ${retriedOk} of ${retried.length} committed in ${attempts} attempts, counter ${final}`
        )
        assert.strictEqual(retriedOk, retried.length)
        assert.strictEqual(final, retried.length)
      }),
    120_000
  )

  it.effect(
    "a frozen writer is marked down by its check; writes go to a survivor; the node rejoins when thawed",
    () =>
      Effect.gen(function* () {
        const shared = yield* Cluster
        const { cluster } = shared
        const c = yield* client(options(shared, [0, 1, 2], { maxConnections: 10, hostCheckTimeout: "1 second" }))
        yield* c.sql`CREATE OR REPLACE TABLE galera_load (id INT PRIMARY KEY, node INT)`
        const frozen = yield* writerIndex(c)
        const frozenPort = cluster.nodes[frozen]!.port
        const tally = new Tally()
        const running = { value: true }
        const fiber = yield* writers(c.sql, 20, tally, running)

        yield* Effect.sleep("1 second")
        yield* cluster.freeze(frozen)
        yield* Effect.addFinalizer(() => cluster.thaw(frozen))
        const frozenAt = performance.now()
        const detectedMs = yield* waitUntil(
          "the frozen node down in stats",
          10_000,
          Effect.map(hostsOf(c), (hosts) => hosts[frozen]!.status === "down")
        )
        // A borrow that starts now goes to a survivor, where writes wait until the node is evicted;
        // the writers' own borrows wait on connections stuck on the frozen node.
        const probePort = yield* c.sql.withTransaction(
          Effect.andThen(c.sql`INSERT INTO galera_load (id, node) VALUES (-1, @@port)`, portOf(c.sql))
        )
        const probeMs = Math.round(performance.now() - frozenAt)
        assert.notStrictEqual(probePort, frozenPort)
        yield* waitUntil(
          "a write acknowledged on a survivor",
          30_000,
          Effect.sync(() => tally.firstElsewhere(frozenPort, frozenAt) !== undefined)
        )
        const survivorWrite = tally.firstElsewhere(frozenPort, frozenAt)!
        const firstOnSurvivorMs = Math.round(survivorWrite.at - frozenAt)

        yield* cluster.thaw(frozen)
        const thawedAt = performance.now()
        // Thawed, the node first answers as it was (Synced, Primary) until it learns it was evicted,
        // then leaves the Primary component and rejoins: back when a survivor counts three nodes.
        const rejoinedMs = yield* waitUntil(
          "the thawed node back in the cluster and up in stats",
          60_000,
          Effect.zipWith(
            clusterSize(cluster, survivorIndex(cluster, survivorWrite)),
            hostsOf(c),
            (size, hosts) => size === 3 && hosts[frozen]!.status === "up" && hosts[frozen]!.galeraProblem === undefined
          )
        )
        yield* Effect.sleep("500 millis")
        running.value = false
        yield* Fiber.join(fiber)
        yield* cluster.waitSynced(frozen)

        const survivor = survivorIndex(cluster, survivorWrite)
        assert.strictEqual(yield* writerIndex(c), survivor)
        const lost = yield* Effect.forEach([0, 1, 2], (i) => missingOn(shared, i, tally))
        console.log(
          `Galera freeze: ${tally.acknowledged.length} acknowledged, lost ${lost.join("/")}, ` +
            `escaped failures: ${tally.escapedText}, defects ${tally.defects}, ` +
            `down in stats ${detectedMs} ms after the freeze, a new write committed on a survivor after ${probeMs} ms, ` +
            `the writers' first after ${firstOnSurvivorMs} ms, ` +
            `back in the cluster ${rejoinedMs} ms after the thaw (${Math.round(thawedAt - frozenAt)} ms frozen)`
        )
        assert.deepStrictEqual(lost, [0, 0, 0])
        assert.strictEqual(tally.defects, 0)
        assert.notStrictEqual(survivor, frozen)
      }),
    120_000
  )

  it.effect(
    "a desynced writer is left for a survivor, which keeps the writes after the node is back",
    () =>
      Effect.gen(function* () {
        const shared = yield* Cluster
        const { cluster } = shared
        const c = yield* client(options(shared, [0, 1, 2]))
        const writer = yield* writerIndex(c)
        yield* cluster.execute(writer, "SET GLOBAL wsrep_desync = ON")
        yield* Effect.addFinalizer(() => Effect.orDie(cluster.execute(writer, "SET GLOBAL wsrep_desync = OFF")))
        const detectedMs = yield* waitUntil(
          "the desynced node flagged in stats",
          5_000,
          Effect.map(hostsOf(c), (hosts) => hosts[writer]!.galeraProblem !== undefined)
        )
        const port = yield* portOf(c.sql)
        assert.notStrictEqual(port, cluster.nodes[writer]!.port)
        yield* cluster.execute(writer, "SET GLOBAL wsrep_desync = OFF")
        const clearedMs = yield* waitUntil(
          "the node Synced again in stats",
          10_000,
          Effect.map(hostsOf(c), (hosts) => hosts[writer]!.galeraProblem === undefined)
        )
        console.log(`Galera desync: flagged in stats after ${detectedMs} ms, cleared ${clearedMs} ms after desync OFF`)
        assert.strictEqual(yield* portOf(c.sql), port)
      }),
    60_000
  )
})
