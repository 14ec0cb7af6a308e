/**
 * A throwaway three-node MariaDB Galera cluster on 127.0.0.1, from the machine's `mariadbd` and
 * Debian's `galera-4`, for tests of host lists, failover and certification conflicts. Each node has
 * a directory of its own (data, tmpdir, socket, error log) and four ports (SQL, group
 * communication, IST, SST); nodes present the test PKI's `good` certificate like the suite's server
 * and know the test accounts, created once on the first node, whose data the joiners copy. It is a
 * scoped resource: closing the scope kills every node and removes the directory.
 *
 * Facts it is built on (MariaDB 10.11, galera-4 26.4):
 * - The joiner's rsync daemon drops privileges to `nobody` when mariadbd runs as root, and the
 *   state transfer fails; nodes therefore run as `mysql` when the tests run as root, in
 *   directories owned by `mysql`.
 * - The state-transfer scripts read option files through `my_print_defaults`, which without a
 *   `--defaults-file` means /etc/mysql/my.cnf and its includes, whatever `--no-defaults` told
 *   mariadbd. Each node is started with `--defaults-file` naming an empty file of its own, which
 *   mariadbd passes on to the scripts, so the machine's configuration never applies. All options
 *   are on the command line, where the scripts do not look for `ssl-*` (they would otherwise
 *   wrap the transfer in stunnel).
 * - After SIGKILL a node's grastate.dat has no position; `--wsrep-recover` reads it back from
 *   InnoDB, and passed on with `--wsrep-start-position` it lets the node rejoin by incremental
 *   state transfer (IST) instead of copying everything again (SST).
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { Effect, Exit, Schedule } from "effect"
import { HarnessError } from "./HarnessError.ts"
import { execute, showStatus } from "./MariaDbCli.ts"
import { serverSettings } from "./MariaDbServer.ts"
import { findProgram, freePort, pause, run, stderrTail } from "./Process.ts"
import * as TempDirectory from "./TempDirectory.ts"
import { accountsSql, rootSql, TestDatabase } from "./TestAccounts.ts"
import type { TestPki } from "./TestPki.ts"

export interface GaleraClusterOptions {
  readonly pki: TestPki
  /** Further `mariadbd` options for every node. */
  readonly args?: ReadonlyArray<string>
}

export interface GaleraNode {
  readonly name: string
  readonly host: string
  /** The SQL port. */
  readonly port: number
  readonly socketPath: string
  /** The running process's pid (a new one after `restart`). */
  readonly pid: number
  readonly dir: string
  /** Group communication (gcomm), incremental (IST) and full (SST) state transfer ports. */
  readonly gcommPort: number
  readonly istPort: number
  readonly sstPort: number
}

export interface GaleraCluster {
  readonly nodes: ReadonlyArray<GaleraNode>
  readonly database: string
  readonly version: string
  /** SIGKILL to node `i`, as a crash, and waits for its exit. */
  readonly kill: (i: number) => Effect.Effect<void>
  /**
   * Starts node `i` again on its ports and data (killing it first if it still runs): recovers its
   * position, rejoins by IST and waits until it is Synced. It always joins the others: with every
   * node down there is no cluster left to join.
   */
  readonly restart: (i: number) => Effect.Effect<void, HarnessError>
  /** SIGSTOP to node `i`: its connections and its group-communication peers hear nothing. */
  readonly freeze: (i: number) => Effect.Effect<void>
  /** SIGCONT to node `i`. */
  readonly thaw: (i: number) => Effect.Effect<void>
  /** Waits until node `i` is Synced (`wsrep_local_state` 4) and `wsrep_ready` is ON. */
  readonly waitSynced: (i: number) => Effect.Effect<void, HarnessError>
  /** Runs statements on node `i` as root, through the `mariadb` client; yields the rows printed. */
  readonly execute: (i: number, sql: string) => Effect.Effect<string, HarnessError>
  /** Node `i`'s error log since the cluster started (the state-transfer scripts write there too). */
  readonly log: (i: number) => Effect.Effect<string>
}

const nodeCount = 3
const provider = "/usr/lib/galera/libgalera_smm.so"
const installHint = "install it with `apt-get install -y mariadb-server galera-4 rsync`"

/**
 * Galera's failure detection, shortened so that a killed node is evicted in about 3 s instead of
 * 6–7 s (every write on every survivor waits for the eviction): a peer silent for
 * `suspect_timeout` is suspected, one silent for `inactive_timeout` is dropped at once;
 * `keepalive_period` must stay well below both, and `install_timeout` bounds the membership
 * change that follows. Defaults: PT1S, PT5S, PT15S, PT7.5S.
 */
const failureDetection = [
  "evs.keepalive_period=PT0.5S",
  "evs.suspect_timeout=PT2S",
  "evs.inactive_timeout=PT3S",
  "evs.install_timeout=PT3S"
]

interface Ports {
  readonly sql: number
  readonly gcomm: number
  readonly ist: number
  readonly sst: number
}

interface Layout {
  readonly dir: string
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string }
  readonly ports: ReadonlyArray<Ports>
  /** Run as `mysql`: only when the tests run as root. */
  readonly asMysql: boolean
  readonly args: ReadonlyArray<string>
}

const nodeDir = (layout: Layout, i: number) => Path.join(layout.dir, `node${i}`)
const socketOf = (layout: Layout, i: number) => Path.join(nodeDir(layout, i), "mysqld.sock")
const logOf = (layout: Layout, i: number) => Path.join(nodeDir(layout, i), "error.log")

const nodeArgs = (layout: Layout, i: number): Array<string> => {
  const dir = nodeDir(layout, i)
  const ports = layout.ports[i]
  const peers = layout.ports.map((p) => `127.0.0.1:${p.gcomm}`).join(",")
  const providerOptions = [
    `gmcast.listen_addr=tcp://127.0.0.1:${ports.gcomm}`,
    `ist.recv_addr=127.0.0.1:${ports.ist}`,
    "gcache.size=32M",
    ...failureDetection
  ]
  return [
    `--defaults-file=${Path.join(dir, "my.cnf")}`,
    ...(layout.asMysql ? ["--user=mysql"] : []),
    `--datadir=${Path.join(dir, "data")}`,
    `--tmpdir=${Path.join(dir, "tmp")}`,
    `--socket=${socketOf(layout, i)}`,
    `--pid-file=${Path.join(dir, "mysqld.pid")}`,
    `--log-error=${logOf(layout, i)}`,
    `--port=${ports.sql}`,
    ...serverSettings,
    `--ssl-ca=${layout.tls.ca}`,
    `--ssl-cert=${layout.tls.cert}`,
    `--ssl-key=${layout.tls.key}`,
    "--binlog-format=ROW",
    "--default-storage-engine=InnoDB",
    "--innodb-autoinc-lock-mode=2",
    "--wsrep-on=ON",
    `--wsrep-provider=${provider}`,
    "--wsrep-cluster-name=effect-mysql-test",
    `--wsrep-cluster-address=gcomm://${peers}`,
    `--wsrep-node-name=node${i}`,
    // Without it Galera advertises the machine's first real address.
    `--wsrep-node-address=127.0.0.1:${ports.gcomm}`,
    `--wsrep-node-incoming-address=127.0.0.1:${ports.sql}`,
    "--wsrep-sst-method=rsync",
    `--wsrep-sst-receive-address=127.0.0.1:${ports.sst}`,
    `--wsrep-provider-options=${providerOptions.join(";")}`,
    ...layout.args
  ]
}

const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null

/**
 * Signals through process.kill: Deno's ChildProcess.kill sends one signal per child and ignores
 * every later call, so a SIGSTOP would be followed by neither SIGCONT nor SIGKILL.
 */
const signal = (child: ChildProcess, name: NodeJS.Signals) => {
  if (child.pid !== undefined && isRunning(child)) process.kill(child.pid, name)
}

// A test run that dies without closing its scopes must not leave nodes behind.
const running = new Set<ChildProcess>()
process.once("exit", () => {
  for (const child of running) signal(child, "SIGKILL")
})

/** Kills at once (a stopped process too) and waits for the exit. */
const killNow = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    running.delete(child)
    if (!isRunning(child)) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    signal(child, "SIGKILL")
  })

const readLog = (path: string) => Effect.promise(() => Fs.readFile(path, "utf8").catch(() => ""))

const logSize = (path: string) =>
  Effect.promise(() =>
    Fs.stat(path).then(
      (stat) => stat.size,
      () => 0
    )
  )

/**
 * Waits for the "ready for connections" line this start appends to the error log and yields the
 * server's version. A joiner prints it only after its state transfer, hence the long bound.
 */
const awaitReady = Effect.fnUntraced(function* (
  child: ChildProcess,
  logPath: string,
  from: number,
  stderr: ReadonlyArray<string>
) {
  for (let attempt = 0; attempt < 1200; attempt++) {
    const since = (yield* readLog(logPath)).slice(from)
    const version = /Version: '([^']+)'/.exec(since)
    if (since.includes("ready for connections") && version !== null) return version[1]
    if (!isRunning(child))
      return yield* new HarnessError({
        message: `mariadbd exited during start-up:\n${[...stderr, ...since.split("\n").slice(-40)].join("\n")}`
      })
    yield* pause(100)
  }
  return yield* new HarnessError({ message: `mariadbd was not ready after 120 s:\n${stderr.join("\n")}` })
})

/** Spawns node `i` and waits until it accepts connections; a failed start leaves no process. */
const launch = Effect.fnUntraced(function* (mariadbd: string, layout: Layout, i: number, extra: ReadonlyArray<string>) {
  const from = yield* logSize(logOf(layout, i))
  const child = spawn(mariadbd, [...nodeArgs(layout, i), ...extra], { stdio: ["ignore", "ignore", "pipe"] })
  running.add(child)
  // What mariadbd prints before its error log is open: a bad option, a missing directory.
  const stderr = stderrTail(child, 20)
  const version = yield* awaitReady(child, logOf(layout, i), from, stderr).pipe(
    Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : killNow(child)))
  )
  return { child, version }
})

/** The position InnoDB holds for node `i` (`uuid:seqno`), read by `mariadbd --wsrep-recover`. */
const recoverPosition = Effect.fnUntraced(function* (mariadbd: string, layout: Layout, i: number) {
  const logPath = Path.join(nodeDir(layout, i), "recover.log")
  yield* Effect.promise(() => Fs.rm(logPath, { force: true }))
  yield* run(mariadbd, [...nodeArgs(layout, i), "--wsrep-recover", `--log-error=${logPath}`])
  const position = /Recovered position: (\S+)/.exec(yield* readLog(logPath))
  if (position === null)
    return yield* new HarnessError({ message: `mariadbd --wsrep-recover found no position for node${i}` })
  return position[1]
})

const waitSyncedOn = Effect.fnUntraced(function* (socketPath: string, name: string) {
  let last = "no answer"
  for (let attempt = 0; attempt < 300; attempt++) {
    const status = yield* showStatus(socketPath, ["wsrep_local_state", "wsrep_ready"]).pipe(
      Effect.catch((error) => Effect.succeed(new Map([["error", error.message]])))
    )
    if (status.get("wsrep_local_state") === "4" && status.get("wsrep_ready") === "ON") return
    last = JSON.stringify(Object.fromEntries(status))
    yield* pause(200)
  }
  return yield* new HarnessError({ message: `${name} was not Synced after 60 s: ${last}` })
})

const mysqlIds = Effect.map(Effect.all([run("id", ["-u", "mysql"]), run("id", ["-g", "mysql"])]), ([uid, gid]) => ({
  uid: Number(uid.trim()),
  gid: Number(gid.trim())
}))

/** Makes `mysql` the owner of everything under `dir`. */
const chownTree = (dir: string, ids: { readonly uid: number; readonly gid: number }) =>
  Effect.promise(async () => {
    await Fs.chown(dir, ids.uid, ids.gid)
    for (const entry of await Fs.readdir(dir, { recursive: true }))
      await Fs.chown(Path.join(dir, entry), ids.uid, ids.gid)
  })

/** The directories, ports and certificates of three nodes; nothing runs yet. */
const prepare = Effect.fnUntraced(function* (options: GaleraClusterOptions) {
  const dir = yield* TempDirectory.make("effect-mysql-galera-")
  const asMysql = process.getuid?.() === 0
  const ports: Array<Ports> = []
  for (let i = 0; i < nodeCount; i++)
    ports.push({ sql: yield* freePort, gcomm: yield* freePort, ist: yield* freePort, sst: yield* freePort })
  const certificate = options.pki.servers.good
  // Copies, since a node running as mysql cannot read the PKI's directory.
  const tls = { ca: Path.join(dir, "ca.pem"), cert: Path.join(dir, "server.pem"), key: Path.join(dir, "server.key") }
  yield* Effect.promise(async () => {
    await Fs.writeFile(tls.ca, options.pki.ca.pem)
    await Fs.writeFile(tls.cert, certificate.cert.pem)
    await Fs.writeFile(tls.key, certificate.key.pem, { mode: 0o600 })
    for (let i = 0; i < nodeCount; i++) {
      const node = Path.join(dir, `node${i}`)
      await Fs.mkdir(Path.join(node, "data"), { recursive: true })
      await Fs.mkdir(Path.join(node, "tmp"))
      await Fs.writeFile(Path.join(node, "my.cnf"), "# Empty: every option is on the command line.\n")
    }
  })
  if (asMysql) yield* chownTree(dir, yield* mysqlIds)
  return { dir, tls, ports, asMysql, args: options.args ?? [] } satisfies Layout
})

/** Starts the cluster; every node is killed and the directory removed when the scope closes. */
export const start = Effect.fnUntraced(function* (options: GaleraClusterOptions) {
  const mariadbd = yield* findProgram("mariadbd", installHint)
  const installDb = yield* findProgram("mariadb-install-db", installHint)
  yield* findProgram("rsync", installHint)
  yield* Effect.tryPromise({
    try: () => Fs.access(provider),
    catch: (cause) => new HarnessError({ message: `${provider} was not found: ${installHint}`, cause })
  })
  const layout = yield* prepare(options)
  // The processes running now, one per node: replaced by `restart`, killed when the scope closes.
  const current: Array<ChildProcess | undefined> = Array.from({ length: nodeCount }, () => undefined)
  yield* Effect.addFinalizer(() =>
    Effect.forEach(current, (child) => (child === undefined ? Effect.void : killNow(child)), { discard: true })
  )

  // Joiners receive the first node's data directory by SST, so only the first one is initialised.
  yield* run(installDb, [
    "--no-defaults",
    ...(layout.asMysql ? ["--user=mysql"] : []),
    "--auth-root-authentication-method=normal",
    "--skip-test-db",
    "--innodb-log-file-size=8M",
    `--datadir=${Path.join(nodeDir(layout, 0), "data")}`,
    `--tmpdir=${Path.join(nodeDir(layout, 0), "tmp")}`
  ])
  const first = yield* launch(mariadbd, layout, 0, ["--wsrep-new-cluster"])
  current[0] = first.child
  const waitSynced = (i: number) => waitSyncedOn(socketOf(layout, i), `node${i}`)
  yield* execute(socketOf(layout, 0), rootSql() + accountsSql(), { password: "", database: "" })
  yield* waitSynced(0)
  // One joiner at a time: an rsync donor serves one transfer.
  for (let i = 1; i < nodeCount; i++) {
    current[i] = (yield* launch(mariadbd, layout, i, [])).child
    yield* waitSynced(i)
  }

  const signalNode = (i: number, name: NodeJS.Signals) =>
    Effect.sync(() => {
      const child = current[i]
      if (child !== undefined) signal(child, name)
    })
  const kill = (i: number) => Effect.suspend(() => (current[i] === undefined ? Effect.void : killNow(current[i])))
  const restart = (i: number) =>
    Effect.gen(function* () {
      yield* signalNode(i, "SIGCONT")
      yield* kill(i)
      current[i] = undefined
      const position = yield* recoverPosition(mariadbd, layout, i)
      // The ports may linger a moment after the kill.
      const launched = yield* launch(mariadbd, layout, i, [`--wsrep-start-position=${position}`]).pipe(
        Effect.retry({ times: 4, schedule: Schedule.spaced("1 second") })
      )
      current[i] = launched.child
      yield* waitSynced(i)
    })

  const nodes = layout.ports.map(
    (ports, i): GaleraNode => ({
      name: `node${i}`,
      host: "127.0.0.1",
      port: ports.sql,
      socketPath: socketOf(layout, i),
      get pid() {
        return current[i]?.pid ?? -1
      },
      dir: nodeDir(layout, i),
      gcommPort: ports.gcomm,
      istPort: ports.ist,
      sstPort: ports.sst
    })
  )
  return {
    nodes,
    database: TestDatabase,
    version: first.version,
    kill,
    restart,
    freeze: (i: number) => signalNode(i, "SIGSTOP"),
    thaw: (i: number) => signalNode(i, "SIGCONT"),
    waitSynced,
    execute: (i: number, sql: string) => execute(socketOf(layout, i), sql),
    log: (i: number) => readLog(logOf(layout, i))
  } satisfies GaleraCluster
})
