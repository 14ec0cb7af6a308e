// The harness proven with the `mariadb` CLI alone, independent of our client.
import * as Fs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { inject } from "vitest"
import { type HarnessError, MariaDbServer, TestAccounts } from "../src/index.ts"
import { run } from "../src/Process.ts"

const target = inject("mysqlTarget")

interface Login {
  readonly account: keyof typeof TestAccounts
  readonly port?: number
  readonly tls: "off" | "verified" | "unverified"
  readonly clientCertificate?: boolean
  readonly ca?: string
}

// The 10.11 CLI uses TLS by default: plaintext has to be asked for with --skip-ssl.
const mariadb = (login: Login, sql: string) => {
  const { user, password } = TestAccounts[login.account]
  const tls =
    login.tls === "off"
      ? ["--skip-ssl"]
      : login.tls === "verified"
        ? ["--ssl", `--ssl-ca=${login.ca ?? target.tls.ca.path}`, "--ssl-verify-server-cert"]
        : ["--ssl", "--disable-ssl-verify-server-cert"]
  const certificate = login.clientCertificate
    ? [`--ssl-cert=${target.tls.cert.path}`, `--ssl-key=${target.tls.key.path}`]
    : []
  return run("mariadb", [
    "--no-defaults",
    "--batch",
    "--skip-column-names",
    `--host=${target.host}`,
    `--port=${login.port ?? target.port}`,
    `--user=${user}`,
    `--password=${password}`,
    ...tls,
    ...certificate,
    `--execute=${sql}`,
    target.database
  ]).pipe(Effect.map((out) => out.trim()))
}

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const failure = <A>(effect: Effect.Effect<A, HarnessError>) =>
  Effect.flip(effect).pipe(Effect.map((error) => error.message))

describe("MariaDbServer", () => {
  it.effect("speaks TLS verified against the test CA, and the server reports a cipher", () =>
    Effect.gen(function* () {
      const out = yield* mariadb({ account: "plain", tls: "verified" }, "SHOW SESSION STATUS LIKE 'Ssl_cipher'")
      const [name, cipher] = out.split("\t")
      assert.strictEqual(name, "Ssl_cipher")
      assert.isAbove(cipher?.length ?? 0, 0)
    })
  )

  it.effect("logs in the plain, nopw and ed25519 accounts over plaintext", () =>
    Effect.gen(function* () {
      for (const account of ["plain", "nopw", "ed25519"] as const) {
        const out = yield* mariadb({ account, tls: "off" }, "SELECT CURRENT_USER()")
        assert.strictEqual(out, `${TestAccounts[account].user}@%`)
      }
    })
  )

  it.effect("refuses tls_only over plaintext with errno 1045, and admits it over TLS", () =>
    Effect.gen(function* () {
      const message = yield* failure(mariadb({ account: "tlsOnly", tls: "off" }, "SELECT 1"))
      assert.include(message, "ERROR 1045 (28000)")
      assert.strictEqual(yield* mariadb({ account: "tlsOnly", tls: "verified" }, "SELECT 1"), "1")
    })
  )

  it.effect("admits x509_user only with the client certificate", () =>
    Effect.gen(function* () {
      const message = yield* failure(mariadb({ account: "x509", tls: "verified" }, "SELECT 1"))
      assert.include(message, "ERROR 1045 (28000)")
      const subject = yield* mariadb(
        { account: "x509", tls: "verified", clientCertificate: true },
        "SHOW SESSION STATUS LIKE 'Ssl_version'"
      )
      assert.match(subject, /^Ssl_version\tTLSv1\.[23]$/)
    })
  )

  it.effect("stops a server by its pid and removes its directory when the scope closes", () =>
    Effect.gen(function* () {
      const pki = target.pki
      if (pki === undefined) return yield* Effect.die("the harness PKI is needed to start a second server")
      const second = yield* MariaDbServer.start({ pki }).pipe(Effect.scoped)
      assert.notStrictEqual(second.port, target.port)
      assert.isFalse(isRunning(second.pid))
      assert.isFalse(Fs.existsSync(second.dir))
      assert.strictEqual(yield* mariadb({ account: "plain", tls: "off" }, "SELECT 1"), "1")
    })
  )

  it.effect(
    "kill is a crash and restart comes back on the same port and data directory, committed rows kept",
    () =>
      Effect.gen(function* () {
        const pki = target.pki
        if (pki === undefined) return yield* Effect.die("the harness PKI is needed to start a second server")
        const server = yield* MariaDbServer.start({ pki })
        const at = { account: "root", tls: "off", port: server.port } as const
        yield* mariadb(at, "CREATE TABLE test.kept (n INT) ENGINE=InnoDB; INSERT INTO test.kept VALUES (1), (2)")
        const first = server.pid
        yield* server.kill
        assert.isFalse(isRunning(first))
        yield* failure(mariadb(at, "SELECT 1"))
        yield* server.restart
        assert.notStrictEqual(server.pid, first)
        assert.isTrue(isRunning(server.pid))
        // The init file ran again (idempotent): the accounts still log in, the rows are there.
        assert.strictEqual(yield* mariadb({ ...at, account: "plain" }, "SELECT COUNT(*) FROM test.kept"), "2")
        // A restart of a running server stops it first.
        yield* server.restart
        assert.strictEqual(yield* mariadb(at, "SELECT SUM(n) FROM test.kept"), "3")
      }).pipe(Effect.scoped),
    60_000
  )

  it.effect("runs two servers side by side, each with the certificate a test asks for", () =>
    Effect.gen(function* () {
      const pki = target.pki
      if (pki === undefined) return yield* Effect.die("the harness PKI is needed to start a second server")
      const server = yield* MariaDbServer.start({ pki, serverCertificate: "wrongName" })
      // Both servers answer at once.
      assert.strictEqual(yield* mariadb({ account: "plain", tls: "off", port: server.port }, "SELECT 2"), "2")
      assert.strictEqual(yield* mariadb({ account: "plain", tls: "off" }, "SELECT 1"), "1")
      const refused = yield* failure(mariadb({ account: "plain", tls: "verified", port: server.port }, "SELECT 1"))
      assert.match(refused, /certificate|hostname|TLS/i)
      assert.strictEqual(yield* mariadb({ account: "plain", tls: "unverified", port: server.port }, "SELECT 3"), "3")
    }).pipe(Effect.scoped)
  )
})
