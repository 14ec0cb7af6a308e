// The public packages as a user meets them: packed, published to a throwaway registry on loopback,
// installed into fresh projects outside the repository, and run against the suite's MariaDB with
// ssl-mode verify-identity through the SqlClient layer, on each runtime we support.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { assert, layer } from "@effect/vitest"
import { TestAccounts } from "@effect-mysql/testing"
import { Context, Effect, Layer } from "effect"
import { inject } from "vitest"
import * as LocalRegistry from "../src/LocalRegistry.ts"
import * as PublicPackages from "../src/PublicPackages.ts"
import * as UserProject from "../src/UserProject.ts"

const target = inject("mysqlTarget")
const tarballs = inject("tarballs")

class Registry extends Context.Service<Registry, LocalRegistry.LocalRegistry>()("Registry") {}
const RegistryLive = Layer.effect(Registry, LocalRegistry.start(tarballs))

const manifest = (dir: string) => JSON.parse(Fs.readFileSync(Path.join(dir, "package.json"), "utf8"))
const client = manifest(Path.join(PublicPackages.root, "packages/client"))
const tools = manifest(PublicPackages.root).devDependencies
/** `>=22.19` → `22.19.0`: the oldest Node our packages admit. */
const nodeFloor = `${client.engines.node.replace(">=", "")}.0`
const effectRange: string = client.peerDependencies.effect
/** The oldest TypeScript that compiles effect 4's own declarations (5.6 does not). */
const oldestTypeScript = "5.7"

const app = Fs.readFileSync(Path.join(import.meta.dirname, "../fixtures/app.mjs"), "utf8")
const ours = { "@effect-mysql/client": client.version, "@effect-mysql/transport": client.version }
const packageJson = (dependencies: Record<string, string>, devDependencies: Record<string, string> = {}) =>
  JSON.stringify({ name: "user-project", private: true, type: "module", dependencies, devDependencies }, null, 2)

const appEnv = {
  DB_HOST: target.host,
  DB_PORT: String(target.port),
  DB_USER: TestAccounts.plain.user,
  DB_PASSWORD: TestAccounts.plain.password,
  DB_NAME: target.database,
  DB_SSL_CA: target.tls.ca.path
}

/** The program printed its row: the server's version, over TLS. */
const assertConnected = (stdout: string) => {
  const row = JSON.parse(stdout.trim().split("\n").at(-1)!)
  assert.match(row.tls, /^TLSv1\.[23]$/)
  assert.isAbove(row.version.length, 0)
}

const assertOneCopyOfEffect = (dir: string) => assert.lengthOf(UserProject.copiesOf(dir, "effect"), 1)

/** A program run in the project `dir`, with the settings app.mjs reads. */
const run = (dir: string, file: string, args: ReadonlyArray<string>, extra: Record<string, string> = {}) =>
  UserProject.run(dir, file, args, { ...appEnv, ...extra })
const npm = (dir: string, ...args: ReadonlyArray<string>) => run(dir, "npm", args)
/** The newest releases of `effect` within a semver range, as the registry reports them. */
const effectReleases = (dir: string, range: string) =>
  Effect.map(npm(dir, "view", `effect@${range}`, "version", "--json"), (out): ReadonlyArray<string> => {
    const versions = JSON.parse(out)
    return Array.isArray(versions) ? versions : [versions]
  })

const bin = (name: string) => Path.join(PublicPackages.root, "node_modules/.bin", name)
const setupTimeout = { timeout: 300_000 }

layer(RegistryLive, { timeout: "2 minutes", excludeTestServices: true })("installed from a registry", (it) => {
  it.effect(
    `Node ${nodeFloor} (the floor in engines), plain .mjs`,
    () =>
      Effect.gen(function* () {
        const registry = yield* Registry
        const dir = yield* UserProject.make(registry, {
          "package.json": packageJson({ ...ours, effect: effectRange, node: nodeFloor }),
          "app.mjs": app
        })
        yield* npm(dir, "install")
        assertOneCopyOfEffect(dir)
        const node = Path.join(dir, "node_modules/.bin/node")
        assert.strictEqual((yield* run(dir, node, ["--version"])).trim(), `v${nodeFloor}`)
        assertConnected(yield* run(dir, node, ["app.mjs"]))
      }).pipe(Effect.scoped),
    setupTimeout
  )

  it.effect(
    `Node ${process.versions.node}, plain .mjs`,
    () =>
      Effect.gen(function* () {
        assert.strictEqual(process.versions.node.split(".")[0], "24")
        const registry = yield* Registry
        const dir = yield* UserProject.make(registry, {
          "package.json": packageJson({ ...ours, effect: effectRange }),
          "app.mjs": app
        })
        yield* npm(dir, "install")
        assertOneCopyOfEffect(dir)
        assertConnected(yield* run(dir, process.execPath, ["app.mjs"]))
      }).pipe(Effect.scoped),
    setupTimeout
  )

  it.effect(
    `TypeScript ${tools.typescript} and ${oldestTypeScript}, strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes, no skipLibCheck`,
    () =>
      Effect.gen(function* () {
        const registry = yield* Registry
        const dir = yield* UserProject.make(registry, {
          "package.json": packageJson(
            { ...ours, effect: effectRange },
            {
              typescript: tools.typescript,
              "typescript-oldest": `npm:typescript@${oldestTypeScript}`,
              "@types/node": tools["@types/node"]
            }
          ),
          "tsconfig.json": JSON.stringify({
            compilerOptions: {
              target: "es2023",
              module: "nodenext",
              strict: true,
              noUncheckedIndexedAccess: true,
              exactOptionalPropertyTypes: true,
              skipLibCheck: false,
              types: ["node"],
              rootDir: "src",
              outDir: "dist"
            },
            include: ["src"]
          }),
          "src/app.ts": app
        })
        yield* npm(dir, "install")
        yield* run(dir, process.execPath, ["node_modules/typescript-oldest/bin/tsc", "-p", ".", "--noEmit"])
        yield* run(dir, Path.join(dir, "node_modules/.bin/tsc"), ["-p", "."])
        assertConnected(yield* run(dir, process.execPath, ["dist/app.js"]))
      }).pipe(Effect.scoped),
    setupTimeout
  )

  it.effect(
    "Deno, npm: specifiers, the program type-checked by deno check",
    () =>
      Effect.gen(function* () {
        const registry = yield* Registry
        const dir = yield* UserProject.make(registry, {
          "deno.json": JSON.stringify({
            // Deno takes npm releases a day after they appear; ours appeared a moment ago.
            minimumDependencyAge: { age: "P1D", exclude: ["npm:@effect-mysql/*"] },
            // What `deno add npm:@effect-mysql/client npm:@effect-mysql/transport npm:effect` writes;
            // subpaths (`@effect-mysql/transport/deno`, `effect/sql`) follow from these.
            imports: {
              "@effect-mysql/client": `npm:@effect-mysql/client@^${client.version}`,
              "@effect-mysql/transport": `npm:@effect-mysql/transport@^${client.version}`,
              effect: `npm:effect@${effectRange}`
            }
          }),
          "app.ts": app
        })
        const deno = (...args: ReadonlyArray<string>) =>
          run(dir, bin("deno"), args, { DENO_DIR: Path.join(dir, ".deno") })
        yield* deno("check", "app.ts")
        assertConnected(yield* deno("run", "--allow-env", "--allow-net", "--allow-read", "app.ts"))
        const graph: { npmPackages: Record<string, unknown> } = JSON.parse(yield* deno("info", "--json", "app.ts"))
        assert.lengthOf(
          Object.keys(graph.npmPackages).filter((id) => id.startsWith("effect@")),
          1
        )
      }).pipe(Effect.scoped),
    setupTimeout
  )

  it.effect(
    "Bun",
    () =>
      Effect.gen(function* () {
        const registry = yield* Registry
        const dir = yield* UserProject.make(registry, {
          "package.json": packageJson({ ...ours, effect: effectRange }),
          "app.mjs": app
        })
        const bun = (...args: ReadonlyArray<string>) =>
          run(dir, bin("bun"), args, { BUN_INSTALL_CACHE_DIR: Path.join(registry.cacheDir, "bun") })
        yield* bun("install")
        assertOneCopyOfEffect(dir)
        assertConnected(yield* bun("app.mjs"))
      }).pipe(Effect.scoped),
    setupTimeout
  )

  it.effect(
    `a project pinning its own effect: the newest release in ${effectRange}`,
    () =>
      Effect.gen(function* () {
        const registry = yield* Registry
        const dir = yield* UserProject.make(registry, { "app.mjs": app })
        const pinned = (yield* effectReleases(dir, effectRange)).at(-1)!
        Fs.writeFileSync(Path.join(dir, "package.json"), packageJson({ ...ours, effect: pinned }))
        yield* npm(dir, "install")
        assertOneCopyOfEffect(dir)
        assert.strictEqual(manifest(Path.join(dir, "node_modules/effect")).version, pinned)
        assertConnected(yield* run(dir, process.execPath, ["app.mjs"]))
      }).pipe(Effect.scoped),
    setupTimeout
  )

  it.effect(
    `a project on an effect older than ${effectRange} is refused at install`,
    () =>
      Effect.gen(function* () {
        const registry = yield* Registry
        const dir = yield* UserProject.make(registry, {})
        const older = yield* effectReleases(dir, `>=4.0.0 <${effectRange.replace("^", "")}`)
        assert.isAbove(older.length, 0)
        Fs.writeFileSync(Path.join(dir, "package.json"), packageJson({ ...ours, effect: older.at(-1)! }))
        const refused = yield* Effect.flip(npm(dir, "install"))
        assert.include(refused.message, "ERESOLVE")
        assert.include(refused.message, `peer effect@"${effectRange}"`)
      }).pipe(Effect.scoped),
    setupTimeout
  )
})
