/**
 * A private, TLS-enabled MariaDB server for tests, started from the machine's `mariadbd`
 * (Debian's `mariadb-server`) in a temporary directory of its own, listening on 127.0.0.1 at a free
 * port and on a Unix socket. It is a scoped resource: closing the scope stops the server by its pid
 * and removes the directory, so any number of servers can run side by side.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { Effect, Schedule } from "effect"
import { HarnessError } from "./HarnessError.ts"
import { findProgram, freePort, run, stderrTail } from "./Process.ts"
import * as TempDirectory from "./TempDirectory.ts"
import { accountsSql, rootSql, TestAccounts, TestDatabase } from "./TestAccounts.ts"
import type { ServerCertificateName, TestPki } from "./TestPki.ts"

export interface MariaDbServerOptions {
  readonly pki: TestPki
  /** Which of the PKI's server certificates the server presents (default `good`). */
  readonly serverCertificate?: ServerCertificateName
  /** Further `mariadbd` options, e.g. `--require-secure-transport=ON`. */
  readonly args?: ReadonlyArray<string>
}

export interface MariaDbServer {
  readonly host: string
  readonly port: number
  readonly socketPath: string
  readonly database: string
  /** The running process's pid (a new one after `restart`). */
  readonly pid: number
  readonly dir: string
  readonly version: string
  readonly serverCertificate: ServerCertificateName
  /** SIGKILL, as a crash: no shutdown, no flush beyond what InnoDB already made durable. */
  readonly kill: Effect.Effect<void>
  /**
   * Starts the server again on the same port and data directory (after `kill`, or stopping it if
   * it still runs), and waits until it accepts connections; InnoDB recovers what was committed.
   */
  readonly restart: Effect.Effect<void, HarnessError>
}

/** What a server is, without the means to control it: plain data, as vitest's `provide` needs. */
export type MariaDbServerInfo = Omit<MariaDbServer, "kill" | "restart">

export const info = (server: MariaDbServer): MariaDbServerInfo => ({
  host: server.host,
  port: server.port,
  socketPath: server.socketPath,
  database: server.database,
  pid: server.pid,
  dir: server.dir,
  version: server.version,
  serverCertificate: server.serverCertificate
})

const installHint = "install it with `apt-get install -y mariadb-server`"

/** What every test server runs with, on loopback: small InnoDB files, utf8mb4, the ed25519 plugin. */
export const serverSettings: ReadonlyArray<string> = [
  "--bind-address=127.0.0.1",
  "--skip-name-resolve",
  "--innodb-log-file-size=8M",
  "--innodb-buffer-pool-size=64M",
  "--max-allowed-packet=64M",
  "--character-set-server=utf8mb4",
  "--collation-server=utf8mb4_general_ci",
  "--plugin-load-add=auth_ed25519"
]

const serverArgs = (dir: string, port: number, options: MariaDbServerOptions): Array<string> => {
  const certificate = options.pki.servers[options.serverCertificate ?? "good"]
  return [
    "--no-defaults",
    "--user=root",
    `--datadir=${Path.join(dir, "data")}`,
    `--tmpdir=${Path.join(dir, "tmp")}`,
    `--socket=${Path.join(dir, "mysqld.sock")}`,
    `--pid-file=${Path.join(dir, "mysqld.pid")}`,
    `--port=${port}`,
    ...serverSettings,
    `--ssl-ca=${options.pki.ca.path}`,
    `--ssl-cert=${certificate.cert.path}`,
    `--ssl-key=${certificate.key.path}`,
    `--init-file=${Path.join(dir, "init.sql")}`,
    ...(options.args ?? [])
  ]
}

/** Waits for "ready for connections"; fails with the log if the server exits or takes too long. */
const awaitReady = (child: ChildProcess, log: ReadonlyArray<string>) =>
  Effect.callback<string, HarnessError>((resume) => {
    const onData = (chunk: string) => {
      const match = /Version: '([^']+)'/.exec(chunk)
      if (match !== null) resume(Effect.succeed(match[1]))
    }
    const onExit = (code: number | null, signal: string | null) =>
      resume(
        Effect.fail(
          new HarnessError({
            message: `mariadbd exited during start-up (${signal ?? `code ${code}`}):\n${log.join("\n")}`
          })
        )
      )
    child.stderr?.on("data", onData)
    child.once("exit", onExit)
    return Effect.sync(() => {
      child.stderr?.off("data", onData)
      child.off("exit", onExit)
    })
  }).pipe(
    Effect.timeoutOrElse({
      duration: "30 seconds",
      orElse: () => Effect.fail(new HarnessError({ message: `mariadbd was not ready after 30 s:\n${log.join("\n")}` }))
    })
  )

const stop = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000)
    child.once("exit", () => {
      clearTimeout(killer)
      resume(Effect.void)
    })
    child.kill("SIGTERM")
  })

// A test run that dies without closing its scopes must not leave servers behind.
const running = new Set<ChildProcess>()
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL")
})

/** Kills at once and waits for the exit. */
const killNow = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGKILL")
  })

/** Spawns `mariadbd` on `port` and waits until it is ready; a failed start leaves no process. */
const launch = Effect.fnUntraced(function* (program: string, dir: string, port: number, options: MariaDbServerOptions) {
  const child = spawn(program, serverArgs(dir, port, options), { stdio: ["ignore", "ignore", "pipe"] })
  running.add(child)
  const log = stderrTail(child, 40)
  const version = yield* awaitReady(child, log).pipe(
    Effect.tapError(() =>
      Effect.ensuring(
        killNow(child),
        Effect.sync(() => running.delete(child))
      )
    )
  )
  return { child, version }
})

/** Starts a server; it is stopped and its directory removed when the scope closes. */
export const start = Effect.fnUntraced(function* (options: MariaDbServerOptions) {
  const mariadbd = yield* findProgram("mariadbd", installHint)
  const installDb = yield* findProgram("mariadb-install-db", installHint)
  const dir = yield* TempDirectory.make("effect-mysql-db-")
  yield* Effect.promise(() => Fs.mkdir(Path.join(dir, "tmp")))
  yield* Effect.promise(() => Fs.writeFile(Path.join(dir, "init.sql"), rootSql() + accountsSql()))
  yield* run(installDb, [
    "--no-defaults",
    "--user=root",
    "--auth-root-authentication-method=normal",
    "--skip-test-db",
    "--innodb-log-file-size=8M",
    `--datadir=${Path.join(dir, "data")}`,
    `--tmpdir=${Path.join(dir, "tmp")}`
  ])
  // The process running now: replaced by `restart`, stopped when the scope closes.
  let current: ChildProcess | undefined
  yield* Effect.addFinalizer(() =>
    Effect.suspend(() => {
      const child = current
      if (child === undefined) return Effect.void
      return Effect.ensuring(
        stop(child),
        Effect.sync(() => running.delete(child))
      )
    })
  )
  // Another process may take the free port before mariadbd binds it: try again on a new one.
  const { port, child, version } = yield* Effect.flatMap(freePort, (port) =>
    Effect.map(launch(mariadbd, dir, port, options), (launched) => ({ port, ...launched }))
  ).pipe(Effect.retry({ times: 2 }))
  current = child
  const kill = Effect.suspend(() => (current === undefined ? Effect.void : killNow(current)))
  const restart = Effect.gen(function* () {
    const previous = current
    if (previous !== undefined) {
      yield* stop(previous)
      running.delete(previous)
      current = undefined
    }
    // The port may linger for a moment after a crash: a few attempts, a second apart.
    const launched = yield* launch(mariadbd, dir, port, options).pipe(
      Effect.retry({ times: 4, schedule: Schedule.spaced("1 second") })
    )
    current = launched.child
  })
  return {
    host: "127.0.0.1",
    port,
    socketPath: Path.join(dir, "mysqld.sock"),
    database: TestDatabase,
    get pid() {
      return current?.pid ?? child.pid!
    },
    dir,
    version,
    serverCertificate: options.serverCertificate ?? "good",
    kill,
    restart
  } satisfies MariaDbServer
})

/** `mysql://` URL of one of the test accounts on a server. */
export const url = (server: Pick<MariaDbServer, "host" | "port" | "database">, account: keyof typeof TestAccounts) => {
  const { user, password } = TestAccounts[account]
  const credentials =
    password === "" ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`
  return `mysql://${credentials}@${server.host}:${server.port}/${server.database}`
}
