// The vitest configuration itself (vitest 5 has no workspace files; run with --config).
// The suite is three projects by tier, told apart by file name, over every package's test/:
//   golden       *.test.ts: pure code in process, golden bytes; no sockets and no test servers
//                (packages/testing/test/Layering.test.ts holds these files to that)
//   fake         *.fake.test.ts: against servers on loopback that MariaDB cannot stand in for:
//                the fake server, the replay server, the fault proxy, local TLS peers
//   integration  *.integration.test.ts: against a real MariaDB, started once for the run
// and one more project holds the release checks:
//   release      packages/release/test: the packages built, packed, linted and installed into
//                fresh projects; it drives Node, Deno and Bun itself, so the test runner runs
//                it once, under Node, after the runtimes' runs
// A file named *.node.<tier>.test.ts runs under Node only: what it covers does not depend on the
// runtime (the cluster-wide load tests), and running it three times would only cost time.
import { defineConfig } from "vitest/config"

const packages = "packages/{protocol,transport,compression,client,replication,ssh,testing,fake-server}"
const fakeFiles = `${packages}/test/**/*.fake.test.ts`
const integrationFiles = `${packages}/test/**/*.integration.test.ts`
const serverSetup = "packages/testing/src/vitest/globalSetup.ts"
const underNode = !("Deno" in globalThis) && !("Bun" in globalThis)
const nodeOnlyFiles = underNode ? [] : [`${packages}/test/**/*.node.*.test.ts`]

// Our packages resolve to their TypeScript sources here, not to the dist/ a user installs
// (docs/development.md, "Sources and builds"); vite's default server conditions follow ours.
const resolve = { conditions: ["@effect-mysql/source", "module", "node", "development|production"] }

export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        ssr: { resolve },
        test: {
          name: "golden",
          include: [`${packages}/test/**/*.test.ts`],
          exclude: [fakeFiles, integrationFiles, ...nodeOnlyFiles]
        }
      },
      {
        resolve,
        ssr: { resolve },
        test: { name: "fake", include: [fakeFiles], exclude: nodeOnlyFiles }
      },
      {
        resolve,
        ssr: { resolve },
        test: {
          name: "integration",
          include: [integrationFiles],
          exclude: nodeOnlyFiles,
          globalSetup: [serverSetup],
          testTimeout: 60_000,
          hookTimeout: 60_000
        }
      },
      {
        resolve,
        ssr: { resolve },
        test: {
          name: "release",
          root: "packages/release",
          include: ["test/**/*.test.ts"],
          globalSetup: ["../testing/src/vitest/globalSetup.ts", "src/vitest/packSetup.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000
        }
      }
    ]
  }
})
