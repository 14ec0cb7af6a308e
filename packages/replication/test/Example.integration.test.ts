// docs/examples/change-data-capture.ts run as a user runs it, in a child process of the runtime
// running the tests: twice, the second run going on from the position the first one stored.
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import { assert, layer } from "@effect/vitest"
import { Process, TestAccounts } from "@effect-mysql/testing"
import { Effect } from "effect"
import { BinlogServer, BinlogServerLive, connect } from "./support.ts"

const example = Path.resolve(import.meta.dirname, "../../../docs/examples/change-data-capture.ts")

// Our packages resolve to their sources here, as for the tests themselves.
const runtimeArgs = [...("Deno" in globalThis ? ["run", "-A"] : []), "--conditions=@effect-mysql/source"]

layer(BinlogServerLive, { timeout: 120_000, excludeTestServices: true })("docs/examples", (it) => {
  it.effect("change-data-capture.ts: prints the changes, stores each commit's position, resumes from it", () =>
    Effect.gen(function* () {
      const { server, root, pki } = yield* BinlogServer
      const dir = yield* Effect.promise(() => Fs.mkdtemp(Path.join(Os.tmpdir(), "effect-mysql-cdc-")))
      yield* Effect.addFinalizer(() => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true })))
      const positionFile = Path.join(dir, "position.json")
      yield* Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* connect(root)
          yield* conn.query("CREATE OR REPLACE TABLE orders (id INT PRIMARY KEY, total DECIMAL(8,2))")
          const status = (yield* conn.query<{ File: string; Position: number }>("SHOW MASTER STATUS")).rows[0]!
          // As if an earlier run had stopped here.
          yield* Effect.promise(() =>
            Fs.writeFile(positionFile, JSON.stringify({ file: status.File, position: Number(status.Position) }))
          )
          yield* conn.query("INSERT INTO orders VALUES (1, 9.99)")
          yield* conn.query("UPDATE orders SET total = 19.99 WHERE id = 1")
          yield* conn.query("DELETE FROM orders WHERE id = 1")
        })
      )
      const env = (maxCommits: number) => ({
        NO_COLOR: "1",
        MYSQL_HOST: server.host,
        MYSQL_PORT: String(server.port),
        MYSQL_USER: TestAccounts.replicaTls.user,
        MYSQL_PASSWORD: TestAccounts.replicaTls.password,
        MYSQL_SSL_CA: pki.ca.path,
        CDC_POSITION_FILE: positionFile,
        CDC_MAX_COMMITS: String(maxCommits)
      })
      const run = (maxCommits: number) =>
        Process.run(process.execPath, [...runtimeArgs, example], { env: env(maxCommits) }).pipe(
          Effect.timeout("30 seconds")
        )
      assert.strictEqual(yield* run(2), 'orders: + [{"id":1,"total":"9.99"}]\norders: ~ [{"id":1,"total":"19.99"}]\n')
      assert.strictEqual(yield* run(1), 'orders: - [{"id":1,"total":"19.99"}]\n')
    })
  )
})
