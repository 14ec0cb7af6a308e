// The programs of docs/examples, run as a user runs them: each in a child process of the runtime
// running the tests (Node, Deno or Bun), configured by MYSQL_* variables, against the run's server.
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Process, TestAccounts } from "@effect-mysql/testing"
import { Effect } from "effect"
import { connect, optionsFor, target } from "./support.ts"

const examples = Path.resolve(import.meta.dirname, "../../../docs/examples")

// Our packages resolve to their sources here, as for the tests themselves.
const runtimeArgs = [...("Deno" in globalThis ? ["run", "-A"] : []), "--conditions=@effect-mysql/source"]

// The examples read MYSQL_* variables: none of the test process's own may reach them.
const unset = Object.fromEntries(
  Object.keys(process.env)
    .filter((name) => name.startsWith("MYSQL_"))
    .map((name) => [name, undefined])
)

const server = {
  MYSQL_HOST: target.host,
  MYSQL_PORT: String(target.port),
  MYSQL_USER: TestAccounts.plain.user,
  MYSQL_PASSWORD: TestAccounts.plain.password,
  MYSQL_DATABASE: target.database,
  MYSQL_SSL_CA: target.tls.ca.path
}

/** The example's output; when it fails, what it printed fails the test. (`it.live`: real time.) */
const run = (file: string, variables: Record<string, string> = server) =>
  Process.run(process.execPath, [...runtimeArgs, Path.join(examples, file)], {
    env: { ...unset, NO_COLOR: "1", ...variables }
  }).pipe(Effect.timeout("30 seconds"))

const tlsVersion = /TLSv1\.[23]/

describe("docs/examples", () => {
  it.live("first-program.ts: verify-identity TLS, a prepared statement, a stream", () =>
    Effect.gen(function* () {
      const out = yield* run("first-program.ts")
      assert.match(out, new RegExp(`^connected to (mariadb|mysql) \\S+ with ${tlsVersion.source}\n`))
      assert.include(out, "user 42 is grace\n1: ada\n7: alan\n42: grace\n")
    })
  )

  it.live("sql-client.ts: the SqlClient layer and the sql template", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* run("sql-client.ts"), "42: grace\n")
    })
  )

  it.live("from-sql-mysql2.ts: a sql-mysql2 program with its config and migrator, the import changed", () =>
    Effect.gen(function* () {
      const { user, password } = TestAccounts.plain
      const url = `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${target.host}:${target.port}/${target.database}`
      assert.strictEqual(yield* run("from-sql-mysql2.ts", { DATABASE_URL: url }), "2: grace\n")
    })
  )

  it.live("getting-started.ts: query, execute, stream, several statements", () =>
    Effect.gen(function* () {
      const out = yield* run("getting-started.ts")
      assert.match(out, /^server \S+\n/)
      assert.include(out, "inserted 1 row with id 1\nuser 1 is ada\nstreamed grace\nstreamed alan\na = 1, b = 2\n")
    })
  )

  it.live("local-infile.ts: an offered file is loaded, another refused", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* run("local-infile.ts"), "loaded 3 rows from import.csv\n/etc/passwd: refused\n")
    })
  )

  it.live("transactions.ts: a savepoint undone, the rest committed, a read-only transaction", () =>
    Effect.gen(function* () {
      const out = yield* run("transactions.ts")
      assert.match(out, /^savepoint rolled back: duplicate in \S*item_key\n/)
      assert.include(out, "committed: tea\nread-only transaction counted 1 order\n")
    })
  )

  it.live("streaming.ts: a streamed result, and a stream ended early", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* run("streaming.ts"), "streamed 1000 events, total 5500\nfirst three: 1, 2, 3\n")
    })
  )

  it.live("client-certificate.ts: a REQUIRE X509 account with a client certificate", () =>
    Effect.gen(function* () {
      const out = yield* run("client-certificate.ts", {
        ...server,
        MYSQL_USER: TestAccounts.x509.user,
        MYSQL_PASSWORD: TestAccounts.x509.password,
        MYSQL_SSL_CERT: target.tls.cert.path,
        MYSQL_SSL_KEY: target.tls.key.path
      })
      assert.match(out, new RegExp(`^logged in as x509_user@% with a client certificate, ${tlsVersion.source}\n$`))
    })
  )

  it.live("verify-ca.ts: the chain checked, not the host name", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* run("verify-ca.ts"), "verify-ca: chain checked true, host name not checked\n")
    })
  )

  it.live("config.ts: from MYSQL_* variables, and from MYSQL_URL", () =>
    Effect.gen(function* () {
      const expected = new RegExp(`: plain@% with ${tlsVersion.source}\n$`)
      assert.match(yield* run("config.ts", { ...server, MYSQL_SSL_MODE: "VERIFY_IDENTITY" }), expected)
      const url =
        `mysql://${server.MYSQL_USER}:${server.MYSQL_PASSWORD}@${target.host}:${target.port}/${target.database}` +
        `?ssl-mode=VERIFY_IDENTITY&ssl-ca=${encodeURIComponent(target.tls.ca.path)}`
      assert.match(yield* run("config.ts", { MYSQL_URL: url }), expected)
    })
  )

  it.live("compression.ts: compression inside TLS", () =>
    Effect.gen(function* () {
      const out = yield* run("compression.ts")
      assert.match(out, /^compression: (zlib|zstd) \(the server says ON\)\nreceived 1300000 characters\n$/)
    })
  )

  it.live("pool.ts: five borrowers on at most two connections", () =>
    Effect.gen(function* () {
      const out = yield* run("pool.ts")
      assert.match(out, /^answers 10, 20, 30, 40, 50\non [12] connections \(at most 2\), 0 still borrowed\n$/)
    })
  )

  it.effect("they leave no tables behind", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const tables = yield* conn.query("SHOW TABLES LIKE 'example\\_%'")
      assert.deepStrictEqual(tables.rows, [])
    })
  )
})
