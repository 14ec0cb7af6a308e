/**
 * Child processes and ports for the harness: a program found or run to completion, a free loopback
 * port, a port that never answers.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Net from "node:net"
import * as Path from "node:path"
import { Effect } from "effect"
import { HarnessError } from "./HarnessError.ts"

export interface RunOptions {
  readonly cwd?: string
  /** Variables added to (or, when undefined, removed from) this process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>
}

/**
 * Runs a program to completion and yields its stdout; a non-zero exit fails with what it printed
 * (stderr, then stdout: compilers such as tsc report on stdout).
 */
export const run = (file: string, args: ReadonlyArray<string>, options: RunOptions = {}) =>
  Effect.callback<string, HarnessError>((resume) => {
    const env = options.env === undefined ? process.env : { ...process.env, ...options.env }
    const child = execFile(
      file,
      args,
      { cwd: options.cwd, env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) return resume(Effect.succeed(stdout))
        const missing = (error as NodeJS.ErrnoException).code === "ENOENT"
        resume(
          Effect.fail(
            new HarnessError({
              message: missing
                ? `${file} is not installed or not on the PATH`
                : `${file} ${args.join(" ")} failed: ${printed(stderr, stdout) || error.message}`,
              cause: error
            })
          )
        )
      }
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const printed = (...outputs: ReadonlyArray<string>) =>
  outputs
    .map((output) => output.trim())
    .filter((output) => output !== "")
    .join("\n")

/** Whether `port` on 127.0.0.1 can be listened on now. */
const canListen = (port: number) =>
  Effect.callback<boolean>((resume) => {
    const server = Net.createServer()
    server.once("error", () => resume(Effect.succeed(false)))
    server.listen(port, "127.0.0.1", () => server.close(() => resume(Effect.succeed(true))))
  })

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the caller retries if it is taken meanwhile),
 * below the ephemeral range (Linux: 32768 and up) that outgoing connections take their local ports
 * from: a server restarted on its port (a killed Galera node) could otherwise find it held by one
 * of the many client connections opened meanwhile.
 */
export const freePort = Effect.gen(function* () {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    if (yield* canListen(port)) return port
  }
  return yield* new HarnessError({ message: "no free TCP port from 20000 to 31999" })
})

/**
 * The absolute path of an installed program. Debian installs servers in /usr/sbin, which is not on
 * every user's PATH, so the sbin directories are searched too; `installHint` says how to get it.
 */
export const findProgram = Effect.fnUntraced(function* (name: string, installHint: string) {
  const dirs = (process.env.PATH ?? "").split(Path.delimiter).concat(["/usr/sbin", "/usr/local/sbin", "/usr/bin"])
  for (const dir of dirs) {
    const candidate = Path.join(dir, name)
    const found = yield* Effect.promise(() =>
      Fs.access(candidate, Fs.constants.X_OK).then(
        () => true,
        () => false
      )
    )
    if (found) return candidate
  }
  return yield* new HarnessError({ message: `${name} was not found: ${installHint}` })
})

/**
 * Waits on the wall clock, not Effect's clock: harness resources poll real processes, and tests
 * that run under a TestClock must not stall them.
 */
export const pause = (millis: number) =>
  Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, millis)))

/** A TCP port on 127.0.0.1 whose listener never accepts and whose backlog is already full. */
export const unansweredPort = Effect.acquireRelease(
  Effect.callback<{ readonly port: number; readonly stop: () => void }>((resume) => {
    const program = [
      "import socket, sys",
      "s = socket.socket()",
      "s.bind(('127.0.0.1', 0))",
      "s.listen(0)",
      "port = s.getsockname()[1]",
      "fill = []",
      "for _ in range(8):",
      "    c = socket.socket(); c.setblocking(False)",
      "    try: c.connect(('127.0.0.1', port))",
      "    except BlockingIOError: pass",
      "    fill.append(c)",
      "print(port, flush=True)",
      "sys.stdin.read()"
    ].join("\n")
    const child = spawn("python3", ["-c", program], { stdio: ["pipe", "pipe", "inherit"] })
    child.stdout.setEncoding("utf8")
    child.stdout.once("data", (line: string) =>
      resume(Effect.succeed({ port: Number(line.trim()), stop: () => child.stdin.end() }))
    )
  }),
  ({ stop }) => Effect.sync(stop)
)

/** The last `max` lines a child printed on stderr, for error messages; reading also keeps its pipe drained. */
export const stderrTail = (child: ChildProcess, max: number): ReadonlyArray<string> => {
  const lines: Array<string> = []
  child.stderr?.setEncoding("utf8")
  child.stderr?.on("data", (chunk: string) => {
    lines.push(...chunk.split("\n").filter((line) => line.length > 0))
    if (lines.length > max) lines.splice(0, lines.length - max)
  })
  return lines
}
