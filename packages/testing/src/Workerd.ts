/**
 * Cloudflare's `workerd`, from npm, running one bundled Worker for tests: the Worker's TypeScript
 * is bundled with rolldown (as wrangler would with esbuild: `cloudflare:*` left to the runtime),
 * and each named outbound network gets its own instance of the Worker on its own loopback port.
 * workerd lets a Worker reach only public addresses by default; these networks allow loopback, and
 * trust exactly the CAs given, as an operator of workerd would set in `tlsOptions`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs/promises"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { Effect, Schedule } from "effect"
import { build } from "rolldown"
import { HarnessError } from "./HarnessError.ts"
import { freePort, stderrTail } from "./Process.ts"
import * as TempDirectory from "./TempDirectory.ts"

/** The npm package's main module names the platform binary and the compatibility date it supports. */
const workerd = createRequire(import.meta.url)("workerd") as { default: string; compatibilityDate: string }

export interface BundleOptions {
  /** The Worker's module, TypeScript or JavaScript. */
  readonly entry: string
  /** Package export conditions to resolve with, before `workerd`, `worker` and `import`. */
  readonly conditions?: ReadonlyArray<string>
}

/** The Worker and everything it imports, as one ES module. */
export const bundle = (options: BundleOptions) =>
  Effect.tryPromise({
    try: async () => {
      const output = await build({
        input: options.entry,
        platform: "neutral",
        external: [/^cloudflare:/, /^node:/],
        resolve: { conditionNames: [...(options.conditions ?? []), "workerd", "worker", "import", "default"] },
        write: false,
        output: { format: "esm", codeSplitting: false }
      })
      return output.output[0].code
    },
    catch: (cause) => new HarnessError({ message: `cannot bundle ${options.entry}`, cause })
  })

export interface Network {
  /** PEM text of the CAs the Worker's TLS connections trust; none: no server verifies. */
  readonly trustedCertificates?: ReadonlyArray<string>
}

export interface WorkerdOptions {
  /** The bundled Worker (an ES module). */
  readonly script: string
  /** `nodejs_compat` and the like. */
  readonly compatibilityFlags?: ReadonlyArray<string>
  /** One instance of the Worker per network, by name. */
  readonly networks: Readonly<Record<string, Network>>
}

export interface Workerd {
  /** The base URL of each network's instance. */
  readonly urls: Readonly<Record<string, string>>
  /** The last lines workerd printed (uncaught errors, the Workers' console). */
  readonly log: ReadonlyArray<string>
}

const text = (value: string) => JSON.stringify(value)

const list = (values: ReadonlyArray<string>) => `[${values.map(text).join(", ")}]`

/** The capnp configuration: a worker, a network and a socket per network name. */
const configOf = (options: WorkerdOptions, ports: ReadonlyArray<number>) => {
  const names = Object.keys(options.networks)
  const services = names.flatMap((name) => [
    `(name = ${text(`worker-${name}`)}, worker = (
      modules = [(name = "worker.js", esModule = embed "worker.js")],
      compatibilityDate = ${text(workerd.compatibilityDate)},
      compatibilityFlags = ${list(options.compatibilityFlags ?? [])},
      globalOutbound = ${text(`network-${name}`)}))`,
    `(name = ${text(`network-${name}`)}, network = (
      allow = ["public", "private", "local"],
      tlsOptions = (trustedCertificates = ${list(options.networks[name]?.trustedCertificates ?? [])})))`
  ])
  const sockets = names.map(
    (name, i) =>
      `(name = ${text(`http-${name}`)}, address = ${text(`127.0.0.1:${ports[i]}`)}, http = (), service = ${text(`worker-${name}`)})`
  )
  return `using Workerd = import ${text("/workerd/workerd.capnp")};
const config :Workerd.Config = (
  services = [${services.join(",\n")}],
  sockets = [${sockets.join(",\n")}]
);
`
}

/** Ready once every socket answers HTTP; workerd prints nothing when it is. */
const awaitReady = (child: ChildProcess, urls: ReadonlyArray<string>, log: ReadonlyArray<string>) =>
  Effect.tryPromise({
    try: () => {
      if (child.exitCode !== null) throw new Error("exited")
      return Promise.all(urls.map((url) => fetch(url, { method: "HEAD" })))
    },
    catch: () => new HarnessError({ message: `workerd did not start:\n${log.join("\n")}` })
  }).pipe(
    Effect.retry({
      schedule: Schedule.spaced("50 millis"),
      while: () => child.exitCode === null,
      times: 200
    })
  )

/** Starts workerd; it is killed and its directory removed when the scope closes. */
export const start = Effect.fnUntraced(function* (options: WorkerdOptions) {
  const dir = yield* TempDirectory.make("effect-mysql-workerd-")
  const names = Object.keys(options.networks)
  const ports: Array<number> = []
  for (const _ of names) ports.push(yield* freePort)
  yield* Effect.promise(() =>
    Promise.all([
      Fs.writeFile(Path.join(dir, "worker.js"), options.script),
      Fs.writeFile(Path.join(dir, "config.capnp"), configOf(options, ports))
    ])
  )
  const child = yield* Effect.acquireRelease(
    Effect.sync(() =>
      spawn(workerd.default, ["serve", "--experimental", Path.join(dir, "config.capnp")], {
        cwd: dir,
        stdio: ["ignore", "ignore", "pipe"]
      })
    ),
    (child) => Effect.sync(() => child.kill("SIGKILL"))
  )
  const urls = Object.fromEntries(names.map((name, i) => [name, `http://127.0.0.1:${ports[i]}/`]))
  const log = stderrTail(child, 40)
  yield* awaitReady(child, Object.values(urls), log)
  return { urls, log } satisfies Workerd
})
