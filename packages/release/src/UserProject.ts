/**
 * Fresh projects outside the repository, as a user starts one: a directory of its own whose
 * `.npmrc` points npm, Deno and Bun at the local registry, with the files a setup needs.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Process, TempDirectory } from "@effect-mysql/testing"
import { Effect } from "effect"
import type { LocalRegistry } from "./LocalRegistry.ts"

/**
 * The environment of a command run in a user's project: this process's, without the `npm_*` and
 * `pnpm_*` settings that pnpm hands to its scripts (a registry among them, which would override
 * the project's `.npmrc`), plus `extra`.
 */
export const environment = (extra: Readonly<Record<string, string>> = {}): Record<string, string | undefined> => ({
  ...Object.fromEntries(
    Object.keys(process.env)
      .filter((name) => /^p?npm_/i.test(name))
      .map((name) => [name, undefined])
  ),
  ...extra
})

/** Runs a program in the project `dir` as its user would: there, in `environment(extra)`. */
export const run = (
  dir: string,
  file: string,
  args: ReadonlyArray<string>,
  extra: Readonly<Record<string, string>> = {}
) => Process.run(file, args, { cwd: dir, env: environment(extra) })

/** A project holding `files` (path → content); removed when the scope closes. */
export const make = Effect.fnUntraced(function* (registry: LocalRegistry, files: Readonly<Record<string, string>>) {
  const dir = yield* TempDirectory.make("effect-mysql-user-")
  const all = { ".npmrc": `registry=${registry.url}\ncache=${Path.join(registry.cacheDir, "npm")}\n`, ...files }
  for (const [name, content] of Object.entries(all)) {
    Fs.mkdirSync(Path.dirname(Path.join(dir, name)), { recursive: true })
    Fs.writeFileSync(Path.join(dir, name), content)
  }
  return dir
})

/** Every installed copy of the npm package `name` under `dir`, nested ones included. */
export const copiesOf = (dir: string, name: string): ReadonlyArray<string> => {
  const found: Array<string> = []
  const visit = (modules: string) => {
    if (!Fs.existsSync(modules)) return
    for (const entry of Fs.readdirSync(modules)) {
      const path = Path.join(modules, entry)
      if (entry.startsWith("@")) {
        for (const scoped of Fs.readdirSync(path)) visitPackage(`${entry}/${scoped}`, Path.join(path, scoped))
      } else if (!entry.startsWith(".")) visitPackage(entry, path)
    }
  }
  const visitPackage = (packageName: string, path: string) => {
    if (packageName === name) found.push(path)
    visit(Path.join(path, "node_modules"))
  }
  visit(Path.join(dir, "node_modules"))
  return found
}
