// What JSR publishes must agree with what npm publishes: each public package's jsr.json has the
// name, version and subpaths of its package.json (each subpath at the source the
// `@effect-mysql/source` condition names), and the root deno.json resolves `effect` to the range
// the packages accept as a peer.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"

const root = Path.resolve(import.meta.dirname, "../../..")

const readJson = (...path: Array<string>) => JSON.parse(Fs.readFileSync(Path.join(root, ...path), "utf8"))

const publicPackages = ["protocol", "transport", "compression", "client"]

describe("JSR manifests", () => {
  for (const name of publicPackages) {
    it(`${name}: jsr.json matches package.json`, () => {
      const npm = readJson("packages", name, "package.json")
      const jsr = readJson("packages", name, "jsr.json")
      const sources = Object.fromEntries(
        Object.entries<unknown>(npm.exports).flatMap(([subpath, target]) =>
          typeof target === "object" && target !== null && "@effect-mysql/source" in target
            ? [[subpath, target["@effect-mysql/source"]]]
            : []
        )
      )
      assert.deepStrictEqual(
        {
          name: jsr.name,
          version: jsr.version,
          exports: typeof jsr.exports === "string" ? { ".": jsr.exports } : jsr.exports
        },
        { name: npm.name, version: npm.version, exports: sources }
      )
    })
  }

  it("deno.json lists the public packages and resolves effect to their peer range", () => {
    const deno = readJson("deno.json")
    assert.deepStrictEqual(
      deno.workspace,
      publicPackages.map((name) => `./packages/${name}`)
    )
    for (const name of publicPackages) {
      const range = readJson("packages", name, "package.json").peerDependencies.effect
      assert.deepStrictEqual(deno.imports, { effect: `npm:effect@${range}`, "effect/": `npm:/effect@${range}/` })
    }
  })
})
