// The pending changesets are ones the release tool can read: `changeset status` parses each file's
// front matter (the packages and their bumps) and fails on one it cannot, which would otherwise
// surface only at release time.
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Process } from "@effect-mysql/testing"
import { Effect } from "effect"
import * as PublicPackages from "../src/PublicPackages.ts"

const changeset = Path.join(PublicPackages.root, "node_modules/.bin/changeset")

describe("changesets", () => {
  it.live("every pending changeset parses", () =>
    Effect.gen(function* () {
      // A file it cannot parse makes it exit with 1, and the run fail with its output.
      const out = yield* Process.run(changeset, ["status"], { cwd: PublicPackages.root })
      assert.notInclude(out, "Error")
    })
  )
})
