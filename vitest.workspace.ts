// The vitest configuration itself (vitest 5 has no workspace files; run with --config).
// Every package contributes two projects, told apart by file name:
//   <pkg>:unit         test/**/*.test.ts, pure and in-process (golden bytes, fake servers)
//   <pkg>:integration  test/**/*.integration.test.ts, against a real MariaDB started once per run
import { defineConfig } from "vitest/config"

const packages = ["protocol", "transport", "compression", "client", "testing"]

const integrationFiles = "test/**/*.integration.test.ts"

// Our packages resolve to their TypeScript sources here, not to the dist/ a user installs
// (docs/development.md, "Sources and builds"); vite's default server conditions follow ours.
const resolve = { conditions: ["@effect-mysql/source", "module", "node", "development|production"] }

export default defineConfig({
  test: {
    projects: packages.flatMap((name) => [
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
          globalSetup: ["../testing/src/vitest/globalSetup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000
        }
      }
    ])
  }
})
