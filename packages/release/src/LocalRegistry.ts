/**
 * A throwaway npm registry on loopback (verdaccio): our tarballs are published to it, and every
 * other package comes through it from the registry this machine's npm uses. Projects point at it
 * with an `.npmrc`, which npm, Deno and Bun all read.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { HarnessError, Process, TempDirectory } from "@effect-mysql/testing"
import { Effect, Schedule } from "effect"
import type { Tarball } from "./Tarballs.ts"
import * as UserProject from "./UserProject.ts"

export interface LocalRegistry {
  readonly url: string
  /** A directory for package managers' caches, kept for the registry's lifetime. */
  readonly cacheDir: string
}

const verdaccio = Path.join(import.meta.dirname, "../node_modules/verdaccio/bin/verdaccio")

// Our scope is served from local storage only: nothing of it may come from the real registry.
const config = (dir: string, upstream: string) => `
storage: ${Path.join(dir, "storage")}
auth:
  htpasswd:
    file: ${Path.join(dir, "htpasswd")}
uplinks:
  upstream:
    url: ${upstream}
    timeout: 60s
packages:
  "@effect-mysql/*":
    access: $all
    publish: $all
  "**":
    access: $all
    proxy: upstream
log: { type: stdout, format: pretty, level: warn }
`

const launch = (configPath: string, port: number) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [verdaccio, "--config", configPath, "--listen", `127.0.0.1:${port}`], {
        stdio: "ignore"
      })
      // A run that dies without closing its scope must not leave the registry behind.
      process.once("exit", () => child.kill("SIGKILL"))
      return child
    }),
    (child: ChildProcess) => Effect.sync(() => child.kill("SIGKILL"))
  )

const ready = (url: string) =>
  Effect.tryPromise({
    try: () => fetch(`${url}-/ping`).then((response) => response.ok || Promise.reject(response.status)),
    catch: (cause) => new HarnessError({ message: `the local registry at ${url} did not start`, cause })
  }).pipe(Effect.retry({ times: 300, schedule: Schedule.spaced("100 millis") }))

/** Starts a registry holding `tarballs`; it stops and its storage is removed when the scope closes. */
export const start = Effect.fnUntraced(function* (tarballs: ReadonlyArray<Tarball>) {
  const dir = yield* TempDirectory.make("effect-mysql-registry-")
  const upstream = (yield* Process.run("npm", ["config", "get", "registry"])).trim()
  const configPath = Path.join(dir, "config.yaml")
  yield* Effect.promise(() => Fs.writeFile(configPath, config(dir, upstream)))
  const port = yield* Process.freePort
  yield* launch(configPath, port)
  const url = `http://127.0.0.1:${port}/`
  yield* ready(url)
  // npm insists on credentials to publish; the registry lets anyone publish our scope.
  const npmrc = Path.join(dir, "publish.npmrc")
  yield* Effect.promise(() => Fs.writeFile(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=local\n`))
  for (const tarball of tarballs) {
    yield* Process.run("npm", ["publish", tarball.path, "--userconfig", npmrc], {
      cwd: dir,
      env: UserProject.environment()
    })
  }
  return { url, cacheDir: Path.join(dir, "caches") } satisfies LocalRegistry
})
