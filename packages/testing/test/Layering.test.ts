// The dependency direction of ../../../shared/DESIGN.md, enforced: every import in every package's
// src/ must be one that package is allowed, and protocol stays free of IO.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"

const packagesDir = Path.resolve(import.meta.dirname, "../..")

interface Rule {
  readonly workspace: ReadonlyArray<string>
  readonly external: RegExp
  /** Globals that mean IO or a particular runtime. */
  readonly forbiddenGlobals?: RegExp
}

const rules: Record<string, Rule> = {
  protocol: {
    workspace: [],
    external: /^(effect(\/.*)?|@noble\/(curves|hashes)(\/.*)?)$/,
    forbiddenGlobals: /\b(Buffer|process|Deno|Bun|setTimeout|setInterval|require)\s*[.(]/
  },
  transport: { workspace: [], external: /^(effect(\/.*)?|node:[a-z_/]+)$/ },
  compression: {
    workspace: ["protocol", "transport"],
    external: /^(effect(\/.*)?|node:zlib)$/
  },
  client: {
    workspace: ["protocol", "transport", "compression"],
    external: /^(effect(\/.*)?|node:[a-z_/]+)$/
  },
  testing: {
    workspace: ["protocol", "transport", "compression", "client"],
    external: /^(effect(\/.*)?|node:[a-z_/]+|vitest(\/.*)?|@effect\/vitest|mysql2(\/.*)?)$/
  },
  release: {
    workspace: ["testing"],
    external: /^(effect(\/.*)?|node:[a-z_/]+|vitest(\/.*)?)$/
  },
  bench: {
    workspace: ["protocol", "transport", "compression", "client", "testing"],
    external: /^(effect(\/.*)?|node:[a-z_/]+|mysql2(\/.*)?|mariadb(\/.*)?)$/
  }
}

const sourceFiles = (dir: string): Array<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return /\.tsx?$/.test(entry.name) ? [path] : []
  })

const importPattern =
  /(?:^|\s)(?:import|export)\s(?:[^"'`;]*?\sfrom\s)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g

const importsOf = (source: string) => Array.from(source.matchAll(importPattern), (m) => m[1] ?? m[2] ?? "")

const stripComments = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "")

const violations = (name: string, rule: Rule): Array<string> => {
  const root = Path.join(packagesDir, name)
  const found: Array<string> = []
  for (const file of sourceFiles(Path.join(root, "src"))) {
    const source = stripComments(Fs.readFileSync(file, "utf8"))
    const where = Path.relative(packagesDir, file)
    for (const specifier of importsOf(source)) {
      if (specifier.startsWith(".")) {
        const target = Path.resolve(Path.dirname(file), specifier)
        if (!target.startsWith(Path.join(root, "src") + Path.sep))
          found.push(`${where}: ${specifier} leaves ${name}/src`)
      } else if (specifier.startsWith("@effect-mysql/")) {
        const dependency = specifier.slice("@effect-mysql/".length).split("/")[0]!
        if (!rule.workspace.includes(dependency)) found.push(`${where}: ${name} may not import ${specifier}`)
      } else if (!rule.external.test(specifier)) {
        found.push(`${where}: ${name} may not import ${specifier}`)
      }
    }
    const global = rule.forbiddenGlobals?.exec(source)
    if (global) found.push(`${where}: ${name} may not use ${global[1]}`)
  }
  const manifest = JSON.parse(Fs.readFileSync(Path.join(root, "package.json"), "utf8"))
  for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    if (!dependency.startsWith("@effect-mysql/")) continue
    if (!rule.workspace.includes(dependency.slice("@effect-mysql/".length)))
      found.push(`${name}/package.json: may not depend on ${dependency}`)
  }
  return found
}

describe("layering", () => {
  it("knows every package", () => {
    const packages = Fs.readdirSync(packagesDir).filter((name) => Fs.existsSync(Path.join(packagesDir, name, "src")))
    assert.deepStrictEqual(packages.filter((name) => !(name in rules)).sort(), [])
  })

  for (const [name, rule] of Object.entries(rules)) {
    it(`${name} imports only what it may`, () => {
      assert.deepStrictEqual(violations(name, rule), [])
    })
  }

  it("catches an upward import and IO in protocol", () => {
    const dir = Fs.mkdtempSync(Path.join(packagesDir, "testing", ".layering-"))
    try {
      Fs.mkdirSync(Path.join(dir, "src"))
      Fs.writeFileSync(
        Path.join(dir, "package.json"),
        JSON.stringify({ dependencies: { "@effect-mysql/client": "*" } })
      )
      Fs.writeFileSync(
        Path.join(dir, "src", "Bad.ts"),
        'import { Socket } from "node:net"\nimport type { X } from "@effect-mysql/client"\nexport const b = Buffer.from([])\n'
      )
      const name = Path.relative(packagesDir, dir)
      assert.deepStrictEqual(violations(name, rules.protocol!), [
        `${name}/src/Bad.ts: ${name} may not import node:net`,
        `${name}/src/Bad.ts: ${name} may not import @effect-mysql/client`,
        `${name}/src/Bad.ts: ${name} may not use Buffer`,
        `${name}/package.json: may not depend on @effect-mysql/client`
      ])
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
