// The README and docs/ show the programs of docs/examples as they are, so what a reader copies is
// what `pnpm check` compiles and the integration suite runs. A TypeScript block right after a line
// that links to an example is that whole file; when the line says "from", a run of its lines
// (indentation aside).
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
  readonly page: string
  readonly example: string
  readonly excerpt: boolean
  readonly code: string
}

const linked = /^(.*\]\(((?:\.\.\/)*(?:docs\/)?examples\/[\w-]+\.ts)\).*)\n\n```ts\n([\s\S]*?)```$/gm

const shownIn = (page: string): Array<Shown> =>
  Array.from(
    Fs.readFileSync(Path.join(root, page), "utf8").matchAll(linked),
    ([, line = "", link = "", code = ""]) => ({
      page,
      example: Path.relative(root, Path.resolve(root, Path.dirname(page), link)),
      excerpt: /\bfrom\b/i.test(line),
      code
    })
  )

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
    const readme = shown.filter((block) => block.page === "README.md")
    assert.deepStrictEqual(
      readme.map((block) => [block.example, block.excerpt]),
      [
        ["docs/examples/first-program.ts", false],
        ["docs/examples/sql-client.ts", false]
      ]
    )
  })

  for (const block of shown) {
    it(`${block.page}: ${block.excerpt ? "an excerpt of" : "the whole of"} ${block.example}`, () => {
      const file = Fs.readFileSync(Path.join(root, block.example), "utf8")
      if (block.excerpt) assert.isTrue(isExcerpt(block.code, file), `not a run of lines of ${block.example}`)
      else assert.strictEqual(block.code, file)
    })
  }
})
