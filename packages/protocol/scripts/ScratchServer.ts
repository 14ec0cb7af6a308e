/**
 * What the fixture-recording scripts share: a throwaway `mariadbd` in a temporary directory (root
 * without a password, on its own Unix socket only), stopped and removed when the recording is done,
 * and hex for the fixtures. (The test harness's `MariaDbServer` lives in packages/testing, which
 * depends on this package, so the scripts keep their own small one.)
 */
import { execFileSync, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")

const find = (name: string): string => {
  for (const dir of ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]) {
    if (Fs.existsSync(Path.join(dir, name))) return Path.join(dir, name)
  }
  throw new Error(`${name} not found: apt-get install -y mariadb-server`)
}

/**
 * Runs `record` against a fresh server's socket path, then stops the server and removes it. `args`
 * are further `mariadbd` options (the binlog's, for instance); the data directory is `data` beside
 * the socket.
 */
export const withScratchServer = async <A>(
  record: (socketPath: string) => Promise<A>,
  args: ReadonlyArray<string> = []
): Promise<A> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-mysql-fixtures-"))
  const data = Path.join(dir, "data")
  const tmp = Path.join(dir, "tmp")
  const socket = Path.join(dir, "mysqld.sock")
  Fs.mkdirSync(tmp)
  try {
    const common = ["--no-defaults", "--user=root", `--datadir=${data}`, `--tmpdir=${tmp}`, "--innodb-log-file-size=8M"]
    execFileSync(find("mariadb-install-db"), [...common, "--auth-root-authentication-method=normal", "--skip-test-db"])
    const child = spawn(
      find("mariadbd"),
      [
        ...common,
        `--socket=${socket}`,
        `--pid-file=${Path.join(dir, "mysqld.pid")}`,
        "--skip-networking",
        "--innodb-buffer-pool-size=64M",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_general_ci",
        ...args
      ],
      { stdio: ["ignore", "ignore", "pipe"] }
    )
    let log = ""
    child.stderr?.on("data", (d: Uint8Array) => {
      log += new TextDecoder().decode(d)
    })
    try {
      for (let i = 0; i < 100 && !Fs.existsSync(socket); i++) {
        if (child.exitCode !== null) throw new Error(`mariadbd exited:\n${log}`)
        await new Promise((r) => setTimeout(r, 100))
      }
      if (!Fs.existsSync(socket)) throw new Error(`mariadbd did not start:\n${log}`)
      return await record(socket)
    } finally {
      child.kill("SIGTERM")
      await new Promise((r) => child.once("exit", r))
    }
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}
