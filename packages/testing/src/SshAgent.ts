/**
 * An `ssh-agent` for tests, holding the keys it is given, on a socket of its own: a scoped
 * resource, stopped and its directory removed when the scope closes. Never the user's agent.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { Effect } from "effect"
import { HarnessError } from "./HarnessError.ts"
import { pause, run } from "./Process.ts"
import type { SshKey } from "./SshKeys.ts"
import * as TempDirectory from "./TempDirectory.ts"

export interface SshAgent {
  /** What `SSH_AUTH_SOCK` would hold. */
  readonly socketPath: string
  readonly pid: number
}

const exists = (path: string) =>
  Effect.promise(() =>
    Fs.access(path).then(
      () => true,
      () => false
    )
  )

/** The agent creates its socket once it is ready to serve. */
const awaitSocket = Effect.fnUntraced(function* (child: ChildProcess, socketPath: string) {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null)
      return yield* new HarnessError({ message: "ssh-agent exited during start-up" })
    if (yield* exists(socketPath)) return
    yield* pause(25)
  }
  return yield* new HarnessError({ message: "ssh-agent did not create its socket within 5 s" })
})

const stop = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGKILL")
  })

/**
 * `ssh-add`s an encrypted key through `SSH_ASKPASS`, since there is no terminal to type the
 * passphrase into.
 */
const add = Effect.fnUntraced(function* (dir: string, socketPath: string, key: SshKey) {
  const env: Record<string, string> = { SSH_AUTH_SOCK: socketPath }
  if (key.passphrase !== undefined) {
    const askpass = Path.join(dir, "askpass")
    const script = `#!/bin/sh\nprintf '%s\\n' '${key.passphrase.replaceAll("'", "'\\''")}'\n`
    yield* Effect.promise(() => Fs.writeFile(askpass, script, { mode: 0o700 }))
    Object.assign(env, { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force", DISPLAY: "none" })
  }
  yield* run("ssh-add", ["-q", key.path], { env })
})

/** Starts an agent holding `keys`; it is stopped when the scope closes. */
export const start = Effect.fnUntraced(function* (keys: ReadonlyArray<SshKey>) {
  const dir = yield* TempDirectory.make("effect-mysql-ssh-agent-")
  const socketPath = Path.join(dir, "agent.sock")
  const child = yield* Effect.acquireRelease(
    Effect.sync(() => spawn("ssh-agent", ["-D", "-a", socketPath], { stdio: "ignore" })),
    stop
  )
  yield* Effect.callback<void, HarnessError>((resume) => {
    child.once("error", (cause) =>
      resume(Effect.fail(new HarnessError({ message: "ssh-agent cannot start: install openssh-client", cause })))
    )
    child.once("spawn", () => resume(Effect.void))
  })
  yield* awaitSocket(child, socketPath)
  for (const key of keys) yield* add(dir, socketPath, key)
  return { socketPath, pid: child.pid! } satisfies SshAgent
})
