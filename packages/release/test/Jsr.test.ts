// What JSR would publish: each public package's jsr.json agrees with its package.json (name,
// version, every subpath at the source the `@effect-mysql/source` condition names), deno.json
// resolves effect to the packages' peer range, every entry point passes `deno check`, and
// `deno publish --dry-run` accepts the workspace with no slow types.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Process } from "@effect-mysql/testing"
import { Effect } from "effect"
import * as PublicPackages from "../src/PublicPackages.ts"

const readJson = (...path: Array<string>) => JSON.parse(Fs.readFileSync(Path.join(...path), "utf8"))
const packages = PublicPackages.list()
const deno = Path.join(PublicPackages.root, "node_modules/.bin/deno")

/** The subpaths of a package.json's `exports`, each at its source file. */
const sourcesOf = (manifest: { exports: Record<string, unknown> }) =>
  Object.fromEntries(
    Object.entries(manifest.exports).flatMap(([subpath, target]) =>
      typeof target === "object" && target !== null && "@effect-mysql/source" in target
        ? [[subpath, target["@effect-mysql/source"]]]
        : []
    )
  )

describe("JSR", () => {
  for (const pkg of packages) {
    it(`${pkg.name}: jsr.json agrees with package.json`, () => {
      const npm = readJson(pkg.dir, "package.json")
      const jsr = readJson(pkg.dir, "jsr.json")
      assert.deepStrictEqual(
        {
          name: jsr.name,
          version: jsr.version,
          exports: typeof jsr.exports === "string" ? { ".": jsr.exports } : jsr.exports
        },
        { name: npm.name, version: npm.version, exports: sourcesOf(npm) }
      )
    })
  }

  it("deno.json lists the public packages and resolves effect to their peer range", () => {
    const config = readJson(PublicPackages.root, "deno.json")
    assert.deepStrictEqual(
      [...config.workspace].sort(),
      packages.map((pkg) => `./${Path.relative(PublicPackages.root, pkg.dir)}`).sort()
    )
    for (const pkg of packages) {
      const range = readJson(pkg.dir, "package.json").peerDependencies.effect
      assert.deepStrictEqual(config.imports, { effect: `npm:effect@${range}`, "effect/": `npm:/effect@${range}/` })
    }
  })

  it.effect("deno check passes on every entry point", () => {
    const entries = packages.flatMap((pkg) =>
      Object.values(sourcesOf(readJson(pkg.dir, "package.json"))).map((source) => Path.join(pkg.dir, String(source)))
    )
    return Effect.asVoid(
      Process.run(deno, ["check", "--conditions=@effect-mysql/source", ...entries], { cwd: PublicPackages.root })
    )
  })

  // --allow-dirty: what is checked here is the sources, not whether git has them committed.
  it.effect("deno publish --dry-run accepts the workspace, with no slow types", () =>
    Effect.asVoid(Process.run(deno, ["publish", "--dry-run", "--allow-dirty"], { cwd: PublicPackages.root }))
  )
})
