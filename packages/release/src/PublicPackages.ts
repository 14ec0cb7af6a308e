/**
 * The packages a user installs: every `packages/<name>` whose package.json is not private, with
 * the import specifiers its `exports` offer.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"

/** The repository's root directory. */
export const root = Path.resolve(import.meta.dirname, "../../..")

export interface PublicPackage {
  readonly name: string
  readonly version: string
  readonly dir: string
  /** What a user imports: `@effect-mysql/transport`, `@effect-mysql/transport/node`, … */
  readonly entryPoints: ReadonlyArray<string>
}

interface Manifest {
  readonly name: string
  readonly version: string
  readonly private?: boolean
  readonly exports: Record<string, unknown>
}

const read = (dir: string): PublicPackage | undefined => {
  const manifest: Manifest = JSON.parse(Fs.readFileSync(Path.join(dir, "package.json"), "utf8"))
  if (manifest.private === true) return undefined
  const entryPoints = Object.keys(manifest.exports)
    .filter((subpath) => subpath !== "./package.json")
    .map((subpath) => manifest.name + subpath.slice(1))
  return { name: manifest.name, version: manifest.version, dir, entryPoints }
}

export const list = (): ReadonlyArray<PublicPackage> => {
  const packages = Path.join(root, "packages")
  return Fs.readdirSync(packages)
    .map((name) => read(Path.join(packages, name)))
    .filter((pkg) => pkg !== undefined)
}
