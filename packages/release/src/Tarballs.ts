/**
 * What `pnpm publish` would upload: a clean build of every public package, packed by pnpm (which
 * turns `workspace:^` ranges into the versions being released).
 */
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { Process } from "@effect-mysql/testing"
import { Effect } from "effect"
import * as PublicPackages from "./PublicPackages.ts"

export interface Tarball {
  readonly name: string
  readonly version: string
  readonly path: string
  /** The paths inside the package, as packed. */
  readonly files: ReadonlyArray<string>
  readonly packedBytes: number
  readonly unpackedBytes: number
}

const bin = (name: string) => Path.join(PublicPackages.root, "node_modules/.bin", name)

/** Removes every dist/ first, so that no output of a deleted module is shipped. */
const build = Effect.gen(function* () {
  for (const pkg of PublicPackages.list()) {
    yield* Effect.promise(() => Fs.rm(Path.join(pkg.dir, "dist"), { recursive: true, force: true }))
  }
  yield* Process.run(bin("tsc"), ["-b", "tsconfig.build.json"], { cwd: PublicPackages.root })
})

const sizeOf = (path: string) => Effect.promise(() => Fs.stat(path).then((stats) => stats.size))

const pack = Effect.fnUntraced(function* (pkg: PublicPackages.PublicPackage, dir: string) {
  const report: { filename: string; files: Array<{ path: string }> } = JSON.parse(
    yield* Process.run(bin("pnpm"), ["pack", "--json", "--pack-destination", dir], { cwd: pkg.dir })
  )
  const files = report.files.map((file) => file.path)
  const sizes = yield* Effect.forEach(files, (file) => sizeOf(Path.join(pkg.dir, file)))
  return {
    name: pkg.name,
    version: pkg.version,
    path: report.filename,
    files,
    packedBytes: yield* sizeOf(report.filename),
    unpackedBytes: sizes.reduce((total, size) => total + size, 0)
  } satisfies Tarball
})

/** Builds every public package and packs each into `dir`. */
export const buildAndPack = (dir: string) =>
  Effect.andThen(
    build,
    Effect.forEach(PublicPackages.list(), (pkg) => pack(pkg, dir))
  )
