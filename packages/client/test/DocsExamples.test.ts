// The README and docs/ show the programs of docs/examples as they are, so what a reader copies is
// what `pnpm check` compiles and the integration suite runs. A TypeScript block whose preceding
// paragraph links to an example is that whole file, or, where the paragraph says "from [the
// example](…)", a run of its lines (indentation aside).
import * as Fs from "node:fs"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"

const root = Path.resolve(import.meta.dirname, "../../..")

const pages = [
  "README.md",
  ...Fs.readdirSync(Path.join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`)
]

interface Shown {
  /** The page and the line the block starts on. */
  readonly where: string
  readonly example: string
  readonly excerpt: boolean
  readonly code: string
}

const block = /((?:^.+\n)+)\n```ts\n([\s\S]*?)^```$/gm
const link = /\]\(((?:\.\.\/)*(?:docs\/)?examples\/[\w-]+\.ts)\)/
const excerptLink = new RegExp(`from\\s+\\[[^\\]]*${link.source}`, "i")

/** The blocks of `page` whose preceding paragraph links to an example. */
const shownIn = (page: string): Array<Shown> => {
  const text = Fs.readFileSync(Path.join(root, page), "utf8")
  return Array.from(text.matchAll(block)).flatMap((match) => {
    const [, paragraph = "", code = ""] = match
    const target = link.exec(paragraph)?.[1]
    if (target === undefined) return []
    const example = Path.relative(root, Path.resolve(root, Path.dirname(page), target))
    const line = text.slice(0, match.index + paragraph.length).split("\n").length + 1
    return [{ where: `${page}:${line}`, example, excerpt: excerptLink.test(paragraph), code }]
  })
}

const shown = pages.flatMap(shownIn)

const dedent = (lines: ReadonlyArray<string>): string => {
  const indents = lines.filter((line) => line.trim() !== "").map((line) => line.length - line.trimStart().length)
  const indent = Math.min(...indents)
  return lines.map((line) => line.slice(indent)).join("\n")
}

const isExcerpt = (code: string, file: string): boolean => {
  const lines = code.trimEnd().split("\n")
  const fileLines = file.split("\n")
  const wanted = dedent(lines)
  for (let start = 0; start + lines.length <= fileLines.length; start++) {
    if (dedent(fileLines.slice(start, start + lines.length)) === wanted) return true
  }
  return false
}

describe("docs show docs/examples as they are", () => {
  it("the README shows the first program and the SqlClient program whole", () => {
    const readme = shown.filter((block) => block.where.startsWith("README.md:"))
    assert.deepStrictEqual(
      readme.map((block) => [block.example, block.excerpt]),
      [
        ["docs/examples/first-program.ts", false],
        ["docs/examples/sql-client.ts", false]
      ]
    )
  })

  for (const block of shown) {
    it(`${block.where}: ${block.excerpt ? "an excerpt of" : "the whole of"} ${block.example}`, () => {
      const file = Fs.readFileSync(Path.join(root, block.example), "utf8")
      if (block.excerpt) assert.isTrue(isExcerpt(block.code, file), `not a run of lines of ${block.example}`)
      else assert.strictEqual(block.code, file)
    })
  }
})
