// Each tarball as a registry would receive it: what it holds, what its package.json promises, and
// what publint and arethetypeswrong find in it.
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Process } from "@effect-mysql/testing"
import { Effect } from "effect"
import { inject } from "vitest"

const tarballs = inject("tarballs")
const bin = (name: string) => Path.join(import.meta.dirname, "../node_modules/.bin", name)

// What a user needs: the build, the sources its maps point into, and the package's own papers.
const shipped = /^(dist\/.+\.(js|d\.ts|js\.map|d\.ts\.map)|src\/.+\.ts|package\.json|README\.md|LICENSE|CHANGELOG\.md)$/

const manifestOf = (path: string) =>
  Effect.map(Process.run("tar", ["-xzOf", path, "package/package.json"]), (json) => JSON.parse(json))

for (const tarball of tarballs) {
  describe(`${tarball.name}@${tarball.version}`, () => {
    it("holds dist/, src/, README, LICENSE and CHANGELOG, and nothing else", () => {
      console.log(
        `${tarball.name}: ${tarball.files.length} files, ${tarball.packedBytes} bytes packed, ${tarball.unpackedBytes} unpacked`
      )
      assert.deepStrictEqual(
        tarball.files.filter((file) => !shipped.test(file)),
        []
      )
      for (const paper of [
        "package.json",
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "dist/index.js",
        "dist/index.d.ts"
      ]) {
        assert.include(tarball.files, paper)
      }
    })

    it.effect("has a release version, metadata, effect as a peer and no workspace ranges", () =>
      Effect.gen(function* () {
        const manifest = yield* manifestOf(tarball.path)
        assert.notStrictEqual(manifest.version, "0.0.0")
        for (const field of ["description", "keywords", "homepage", "bugs", "repository", "license", "engines"]) {
          assert.isDefined(manifest[field], field)
        }
        assert.strictEqual(manifest.sideEffects, false)
        assert.strictEqual(manifest.publishConfig.access, "public")
        assert.match(manifest.peerDependencies.effect, /^\^4\./)
        assert.isUndefined(manifest.dependencies?.effect)
        assert.notInclude(JSON.stringify(manifest), "workspace:")
        for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
          assert.match(String(range), /^\^/, `${name} takes a caret range`)
        }
      })
    )

    it.effect("publint finds nothing, not even a suggestion", () =>
      Effect.gen(function* () {
        const report = yield* Process.run(bin("publint"), ["run", tarball.path, "--strict"])
        assert.include(report, "All good!")
      })
    )

    // ESM only, as effect itself is: a CommonJS or node10 resolution would find nothing usable in effect either.
    it.effect("arethetypeswrong finds no problem for ESM consumers", () =>
      Effect.asVoid(Process.run(bin("attw"), [tarball.path, "--profile", "esm-only"]))
    )
  })
}
