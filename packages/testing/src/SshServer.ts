/**
 * A private OpenSSH server for tests, started from the machine's `sshd` (Debian's `openssh-server`,
 * never the system service) in a temporary directory holding its configuration, host keys,
 * authorized_keys, pid file and log. It listens on 127.0.0.1 at a free port, accepts public keys
 * only, and forwards TCP, so a tunnel can reach the suite's MariaDB through it. It is a scoped
 * resource: closing the scope kills it and everything it forked, and removes the directory.
 *
 * The controls that act on open sessions (`kill`, `freeze`, `thaw`) find sshd's per-connection
 * processes through /proc, so they need Linux.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { Effect, Exit } from "effect"
import { HarnessError } from "./HarnessError.ts"
import { findProgram, freePort, pause, run, stderrTail } from "./Process.ts"
import * as SshKeys from "./SshKeys.ts"
import * as TempDirectory from "./TempDirectory.ts"

export interface SshServerOptions {
  /** One host key of each type, in this order (default `["ed25519"]`). */
  readonly hostKeyTypes?: ReadonlyArray<SshKeys.KeyType>
  /** `PermitOpen`: the only forwarding targets allowed, e.g. `127.0.0.1:1` to refuse all real ones. */
  readonly permitOpen?: string
  /** Public key lines (`<type> <base64>`) authorized from the start. */
  readonly authorizedKeys?: ReadonlyArray<string>
  /**
   * More sshd_config lines. They come before ours, and sshd keeps the first value it reads for a
   * keyword, so they override ours (`PasswordAuthentication yes`); `Match` blocks cannot be used.
   */
  readonly config?: ReadonlyArray<string>
}

export interface HostKeyFile {
  readonly type: SshKeys.KeyType
  readonly path: string
  /** `<type> <base64>`, as known_hosts has it. */
  readonly publicKey: string
  /** `SHA256:...`, as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string
}

export interface SshServer {
  readonly host: string
  readonly port: number
  /** The user to log in as: whoever runs the tests (root here and in CI). */
  readonly user: string
  readonly dir: string
  readonly hostKeys: ReadonlyArray<HostKeyFile>
  readonly fingerprints: ReadonlyArray<string>
  /** known_hosts text trusting every host key for `[127.0.0.1]:port`. */
  readonly knownHosts: string
  readonly authorizedKeysPath: string
  /** Authorizes one more public key line; sshd reads the file at each login. */
  readonly authorize: (publicKey: string) => Effect.Effect<void, HarnessError>
  /** sshd's log (LogLevel VERBOSE) since the first start: logins, authentications, forwardings. */
  readonly log: Effect.Effect<string, HarnessError>
  /** The listener's pid (a new one after `restart`). */
  readonly pid: number
  /** SIGKILL to the listener and every session it forked: open tunnels drop at once. */
  readonly kill: Effect.Effect<void>
  /** Starts sshd again on the same port with the same host keys (killing it first if it runs). */
  readonly restart: Effect.Effect<void, HarnessError>
  /**
   * SIGSTOP to the listener and its sessions: connections stay open but nothing answers, as with a
   * host that vanished from the network (new connections complete TCP but get no SSH banner).
   */
  readonly freeze: Effect.Effect<void>
  /** SIGCONT to everything `freeze` stopped. */
  readonly thaw: Effect.Effect<void>
}

const installHint = "install it with `apt-get install -y openssh-server`"

const configLines = (dir: string, port: number, hostKeys: ReadonlyArray<HostKeyFile>, options: SshServerOptions) => [
  ...(options.config ?? []),
  "ListenAddress 127.0.0.1",
  `Port ${port}`,
  ...hostKeys.map((key) => `HostKey ${key.path}`),
  `PidFile ${Path.join(dir, "sshd.pid")}`,
  `AuthorizedKeysFile ${Path.join(dir, "authorized_keys")}`,
  // The temp dir is not laid out as sshd insists for home directories.
  "StrictModes no",
  "UsePAM no",
  "PermitRootLogin yes",
  "PubkeyAuthentication yes",
  "PasswordAuthentication no",
  "KbdInteractiveAuthentication no",
  "AllowTcpForwarding yes",
  ...(options.permitOpen === undefined ? [] : [`PermitOpen ${options.permitOpen}`]),
  "LogLevel VERBOSE"
]

// sshd refuses to start without its privilege separation directory, which only the system
// service's unit creates.
const ensurePrivsepDir = Effect.tryPromise({
  try: () => Fs.mkdir("/run/sshd", { recursive: true, mode: 0o755 }),
  catch: (cause) => new HarnessError({ message: "cannot create /run/sshd, which sshd needs (run as root)", cause })
})

const readText = (path: string) =>
  Effect.tryPromise({
    try: () => Fs.readFile(path, "utf8"),
    catch: (cause) => new HarnessError({ message: `cannot read ${path}`, cause })
  })

/** The pids below `root` in the process tree, read from /proc (children before grandchildren). */
const descendants = async (root: number): Promise<Array<number>> => {
  const children = new Map<number, Array<number>>()
  for (const entry of await Fs.readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    // The process may be gone already; its command name may hold spaces and parentheses.
    const stat = await Fs.readFile(`/proc/${entry}/stat`, "utf8").catch(() => "")
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
  }
  const found: Array<number> = []
  for (let queue = [root]; queue.length > 0; ) {
    const next = queue.flatMap((pid) => children.get(pid) ?? [])
    found.push(...next)
    queue = next
  }
  return found
}

const signal = (pids: ReadonlyArray<number>, name: NodeJS.Signals) => {
  for (const pid of pids) {
    try {
      process.kill(pid, name)
    } catch {
      // Already exited: nothing left to signal.
    }
  }
}

const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null

/**
 * Stops the listener first, so it forks nothing new while its sessions are found, then signals
 * them all. A killed listener's sessions would be reparented and lost, hence the order.
 */
const signalTree = (child: ChildProcess, name: NodeJS.Signals) =>
  Effect.promise(async () => {
    if (!isRunning(child) || child.pid === undefined) return
    signal([child.pid], "SIGSTOP")
    signal(await descendants(child.pid), name)
    signal([child.pid], name)
  })

const thawTree = (child: ChildProcess) =>
  Effect.promise(async () => {
    if (!isRunning(child) || child.pid === undefined) return
    signal(await descendants(child.pid), "SIGCONT")
    signal([child.pid], "SIGCONT")
  })

/** Kills the listener and its sessions, and waits for the listener's exit. */
const killTree = (child: ChildProcess) =>
  Effect.suspend(() => {
    if (!isRunning(child)) return Effect.void
    const exited = new Promise((resolve) => child.once("exit", resolve))
    return Effect.andThen(
      signalTree(child, "SIGKILL"),
      Effect.promise(() => exited)
    )
  })

// A test run that dies without closing its scopes must not leave servers behind.
const running = new Set<ChildProcess>()
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL")
})

const logSize = (logPath: string) =>
  Effect.promise(() =>
    Fs.stat(logPath).then(
      (stat) => stat.size,
      () => 0
    )
  )

/** Waits for the "Server listening" line this start appends to the log. */
const awaitListening = Effect.fnUntraced(function* (
  child: ChildProcess,
  logPath: string,
  from: number,
  port: number,
  stderr: ReadonlyArray<string>
) {
  const ready = `Server listening on 127.0.0.1 port ${port}.`
  for (let attempt = 0; attempt < 400; attempt++) {
    const log = yield* Effect.promise(() => Fs.readFile(logPath, "utf8").catch(() => ""))
    const since = log.slice(from)
    if (since.includes(ready)) return
    if (!isRunning(child))
      return yield* new HarnessError({ message: `sshd exited during start-up:\n${[...stderr, since].join("\n")}` })
    yield* pause(25)
  }
  return yield* new HarnessError({ message: `sshd was not listening after 10 s:\n${stderr.join("\n")}` })
})

/** Spawns sshd with the configuration for `port` and waits until it listens; a failure leaves no process. */
const launch = Effect.fnUntraced(function* (sshd: string, dir: string, port: number, configText: string) {
  const configPath = Path.join(dir, "sshd_config")
  const logPath = Path.join(dir, "sshd.log")
  yield* Effect.promise(() => Fs.writeFile(configPath, configText))
  const from = yield* logSize(logPath)
  // sshd re-executes itself per connection, so it wants its own absolute path.
  const child = spawn(sshd, ["-D", "-E", logPath, "-f", configPath], { stdio: ["ignore", "ignore", "pipe"] })
  running.add(child)
  // What sshd prints before its log is open: a bad config, a missing directory.
  const stderr = stderrTail(child, 20)
  // Interrupted or failed, the start leaves no process behind.
  yield* awaitListening(child, logPath, from, port, stderr).pipe(
    Effect.onExit((exit) =>
      Exit.isSuccess(exit)
        ? Effect.void
        : Effect.ensuring(
            killTree(child),
            Effect.sync(() => running.delete(child))
          )
    )
  )
  return child
})

const makeHostKeys = (dir: string, types: ReadonlyArray<SshKeys.KeyType>) =>
  Effect.forEach(types, (type) =>
    Effect.map(SshKeys.generate(Path.join(dir, `ssh_host_${type}_key`), { type }), (key) => ({
      type,
      path: key.path,
      publicKey: key.publicKey,
      fingerprint: key.fingerprint
    }))
  )

/** Starts a server; it is killed and its directory removed when the scope closes. */
export const start = Effect.fnUntraced(function* (options: SshServerOptions = {}) {
  const sshd = yield* findProgram("sshd", installHint)
  yield* ensurePrivsepDir
  // Bun's os.userInfo() names every user "unknown".
  const user = (yield* run("id", ["-un"])).trim()
  const dir = yield* TempDirectory.make("effect-mysql-sshd-")
  const hostKeys = yield* makeHostKeys(dir, options.hostKeyTypes ?? ["ed25519"])
  const authorizedKeysPath = Path.join(dir, "authorized_keys")
  const authorized = (options.authorizedKeys ?? []).map((line) => `${line}\n`).join("")
  yield* Effect.promise(() => Fs.writeFile(authorizedKeysPath, authorized, { mode: 0o600 }))

  // The process running now: replaced by `restart`, killed when the scope closes.
  let current: ChildProcess | undefined
  yield* Effect.addFinalizer(() =>
    Effect.suspend(() => {
      const child = current
      if (child === undefined) return Effect.void
      return Effect.ensuring(
        killTree(child),
        Effect.sync(() => running.delete(child))
      )
    })
  )
  const configFor = (port: number) => `${configLines(dir, port, hostKeys, options).join("\n")}\n`
  // Another process may take the free port before sshd binds it: try again on a new one.
  const { port, child } = yield* Effect.flatMap(freePort, (port) =>
    Effect.map(launch(sshd, dir, port, configFor(port)), (child) => ({ port, child }))
  ).pipe(Effect.retry({ times: 2 }))
  current = child

  const whenRunning = (f: (child: ChildProcess) => Effect.Effect<void>) =>
    Effect.suspend(() => (current === undefined ? Effect.void : f(current)))
  const kill = whenRunning(killTree)
  const restart = Effect.gen(function* () {
    yield* kill
    if (current !== undefined) running.delete(current)
    current = undefined
    current = yield* launch(sshd, dir, port, configFor(port)).pipe(
      // The port may linger a moment after the kill.
      Effect.tapError(() => pause(200)),
      Effect.retry({ times: 4 })
    )
  })
  return {
    host: "127.0.0.1",
    port,
    user,
    dir,
    hostKeys,
    fingerprints: hostKeys.map((key) => key.fingerprint),
    knownHosts: hostKeys.map((key) => `[127.0.0.1]:${port} ${key.publicKey}\n`).join(""),
    authorizedKeysPath,
    authorize: (publicKey: string) =>
      Effect.tryPromise({
        try: () => Fs.appendFile(authorizedKeysPath, `${publicKey}\n`),
        catch: (cause) => new HarnessError({ message: `cannot write ${authorizedKeysPath}`, cause })
      }),
    log: readText(Path.join(dir, "sshd.log")),
    get pid() {
      return current?.pid ?? child.pid!
    },
    kill,
    restart,
    freeze: whenRunning((child) => signalTree(child, "SIGSTOP")),
    thaw: whenRunning(thawTree)
  } satisfies SshServer
})
