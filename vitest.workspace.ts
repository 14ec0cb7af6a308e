// The vitest configuration itself (vitest 5 has no workspace files; run with --config).
// Every package contributes two projects, told apart by file name:
//   <pkg>:unit         test/**/*.test.ts, pure and in-process (golden bytes, fake servers)
//   <pkg>:integration  test/**/*.integration.test.ts, against a real MariaDB started once per run
// and one more project holds the release checks:
//   release            packages/release/test: the packages built, packed, linted and installed into
//                      fresh projects; it drives Node, Deno and Bun itself, so the test runner runs
//                      it once, under Node, after the runtimes' runs
import { defineConfig } from "vitest/config"

const packages = ["protocol", "transport", "compression", "client", "testing"]

const integrationFiles = "test/**/*.integration.test.ts"
const serverSetup = "../testing/src/vitest/globalSetup.ts"

// Our packages resolve to their TypeScript sources here, not to the dist/ a user installs
// (docs/development.md, "Sources and builds"); vite's default server conditions follow ours.
const resolve = { conditions: ["@effect-mysql/source", "module", "node", "development|production"] }

export default defineConfig({
  test: {
    projects: [
      ...packages.flatMap((name) => [
        {
          resolve,
          ssr: { resolve },
          test: {
            name: `${name}:unit`,
            root: `packages/${name}`,
            include: ["test/**/*.test.ts"],
            exclude: [integrationFiles]
          }
        },
        {
          resolve,
          ssr: { resolve },
          test: {
            name: `${name}:integration`,
            root: `packages/${name}`,
            include: [integrationFiles],
            globalSetup: [serverSetup],
            testTimeout: 60_000,
            hookTimeout: 60_000
          }
        }
      ]),
      {
        resolve,
        ssr: { resolve },
        test: {
          name: "release",
          root: "packages/release",
          include: ["test/**/*.test.ts"],
          globalSetup: [serverSetup, "src/vitest/packSetup.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000
        }
      }
    ]
  }
})
