// The dependency direction of ../../../shared/DESIGN.md, enforced: every import in every package's
// src/ must be one that package is allowed, protocol stays free of IO, no package reaches another
// through any kind of dependency and back, and the golden tier's tests open no sockets.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"

const packagesDir = Path.resolve(import.meta.dirname, "../..")
const examplesDir = Path.resolve(packagesDir, "../docs/examples")

interface Rule {
  /** The packages of ours its src/ may import and its package.json may depend on. */
  readonly workspace: ReadonlyArray<string>
  /** More packages of ours that only its tests use (devDependencies). */
  readonly dev?: ReadonlyArray<string>
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
  // cloudflare:sockets only inside the Workers layer, loaded on its first connect.
  transport: {
    workspace: [],
    dev: ["protocol", "testing"],
    external: /^(effect(\/.*)?|node:[a-z0-9_/]+|cloudflare:sockets)$/
  },
  // Its tests show that the transport's connection fits the connection it wraps.
  compression: { workspace: ["protocol"], dev: ["transport"], external: /^(effect(\/.*)?|node:zlib)$/ },
  client: {
    workspace: ["protocol", "transport", "compression"],
    dev: ["testing", "fake-server"],
    external: /^(effect(\/.*)?|node:[a-z0-9_/]+)$/
  },
  // The binlog change stream, over a client connection; it names no runtime (the transport does).
  replication: {
    workspace: ["protocol", "transport", "compression", "client"],
    dev: ["testing", "fake-server"],
    external: /^effect(\/.*)?$/
  },
  // SSH tunnels: a Transport over another Transport, through ssh2.
  ssh: {
    workspace: ["transport"],
    dev: ["client", "testing"],
    external: /^(effect(\/.*)?|ssh2|node:[a-z0-9_/]+)$/
  },
  // The test kit: what every package's tests may use, so it depends on none of them.
  testing: { workspace: [], external: /^(effect(\/.*)?|node:[a-z0-9_/]+|vitest(\/.*)?|rolldown|workerd)$/ },
  "fake-server": {
    workspace: ["protocol", "compression", "testing"],
    external: /^(effect(\/.*)?|node:[a-z0-9_/]+)$/
  },
  release: {
    workspace: ["testing"],
    external: /^(effect(\/.*)?|node:[a-z0-9_/]+|vitest(\/.*)?)$/
  },
  bench: {
    workspace: ["protocol", "transport", "compression", "client", "replication", "ssh", "testing"],
    external: /^(effect(\/.*)?|node:[a-z0-9_/]+|mysql2(\/.*)?|mariadb(\/.*)?|@vlasky\/zongji|ssh2)$/
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

const importsOfFile = (file: string) => importsOf(stripComments(Fs.readFileSync(file, "utf8")))

const manifestOf = (dir: string) => JSON.parse(Fs.readFileSync(Path.join(dir, "package.json"), "utf8"))

const ours = (dependencies: object | undefined) =>
  Object.keys(dependencies ?? {})
    .filter((name) => name.startsWith("@effect-mysql/"))
    .map((name) => name.slice("@effect-mysql/".length))

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
  const manifest = manifestOf(root)
  for (const dependency of ours({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    if (!rule.workspace.includes(dependency))
      found.push(`${name}/package.json: may not depend on @effect-mysql/${dependency}`)
  }
  for (const dependency of ours(manifest.devDependencies)) {
    if (!rule.workspace.includes(dependency) && !rule.dev?.includes(dependency))
      found.push(`${name}/package.json: may not have @effect-mysql/${dependency} as a devDependency`)
  }
  return found
}

/** Each package of ours (by short name) and the packages of ours it depends on in any way. */
type Graph = Record<string, ReadonlyArray<string>>

const workspaceGraph = (): Graph =>
  Object.fromEntries(
    [...Object.keys(rules).map((name) => Path.join(packagesDir, name)), examplesDir].map((dir) => {
      const manifest = manifestOf(dir)
      const all = { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.devDependencies }
      return [manifest.name.slice("@effect-mysql/".length), ours(all)]
    })
  )

/** A path that leads from a package back to itself (`a → b → a`), or undefined when there is none. */
const cycleIn = (graph: Graph): string | undefined => {
  const done = new Set<string>()
  const visit = (name: string, path: ReadonlyArray<string>): string | undefined => {
    if (path.includes(name)) return [...path.slice(path.indexOf(name)), name].join(" → ")
    if (done.has(name)) return undefined
    for (const next of graph[name] ?? []) {
      const cycle = visit(next, [...path, name])
      if (cycle !== undefined) return cycle
    }
    done.add(name)
    return undefined
  }
  for (const name of Object.keys(graph)) {
    const cycle = visit(name, [])
    if (cycle !== undefined) return cycle
  }
  return undefined
}

// The golden tier (vitest.workspace.ts) is every test file not named *.fake.test.ts or
// *.integration.test.ts; it runs anywhere in process, so it may not reach for a socket or a server.
const socketsAndServers = /^(node:(net|tls|dgram|http|https|http2)|@effect-mysql\/(testing|fake-server)(\/.*)?)$/

const goldenViolations = (name: string): Array<string> => {
  const test = Path.join(packagesDir, name, "test")
  if (!Fs.existsSync(test)) return []
  return sourceFiles(test)
    .filter((file) => /\.test\.ts$/.test(file) && !/\.(fake|integration)\.test\.ts$/.test(file))
    .flatMap((file) =>
      importsOfFile(file)
        .filter((specifier) => socketsAndServers.test(specifier))
        .map((specifier) => `${Path.relative(packagesDir, file)}: a golden test may not import ${specifier}`)
    )
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

  it("no package depends on itself through dependencies, peer or dev dependencies", () => {
    assert.strictEqual(cycleIn(workspaceGraph()), undefined)
  })

  it("finds a cycle that goes through a devDependency", () => {
    const graph = { transport: ["testing"], testing: ["compression", "protocol"], compression: ["transport"] }
    assert.strictEqual(cycleIn(graph), "transport → testing → compression → transport")
    assert.strictEqual(cycleIn({ ...graph, compression: ["protocol"] }), undefined)
  })

  for (const name of Object.keys(rules).filter((name) => name !== "release")) {
    it(`${name}'s golden tests open no sockets`, () => {
      assert.deepStrictEqual(goldenViolations(name), [])
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

  it("catches a devDependency on the fake server in the test kit, and a golden test with a socket", () => {
    const dir = Fs.mkdtempSync(Path.join(packagesDir, "testing", ".layering-"))
    try {
      Fs.mkdirSync(Path.join(dir, "src"))
      Fs.mkdirSync(Path.join(dir, "test"))
      Fs.writeFileSync(
        Path.join(dir, "package.json"),
        JSON.stringify({ devDependencies: { "@effect-mysql/fake-server": "*" } })
      )
      const socket = 'import * as Net from "node:net"\n'
      Fs.writeFileSync(Path.join(dir, "test", "Bytes.test.ts"), socket)
      Fs.writeFileSync(Path.join(dir, "test", "Peer.fake.test.ts"), socket)
      Fs.writeFileSync(Path.join(dir, "test", "Server.integration.test.ts"), socket)
      const name = Path.relative(packagesDir, dir)
      assert.deepStrictEqual(violations(name, rules.testing!), [
        `${name}/package.json: may not have @effect-mysql/fake-server as a devDependency`
      ])
      assert.deepStrictEqual(goldenViolations(name), [
        `${name}/test/Bytes.test.ts: a golden test may not import node:net`
      ])
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
