/**
 * The library's main job, shown to a person: a verified TLS connection with a client certificate
 * and compression inside the tunnel, prepared statements, a streamed result, and the typed error
 * an account that requires TLS gets without it.
 *
 * It starts a throwaway MariaDB (packages/testing) with a fresh test CA and removes it afterwards,
 * or, when MYSQL_URL is set, uses that server with the URL's account and ssl-mode.
 *
 *   node packages/client/demo/demo.ts
 *   MYSQL_URL='mysql://app:secret@db:3306/test?ssl-mode=VERIFY_IDENTITY&ssl-ca=/path/ca.pem' node packages/client/demo/demo.ts
 */
import { MariaDbServer, TestAccounts, TestPki } from "@effect-mysql/testing"
import { NodeTransport } from "@effect-mysql/transport/node"
import { Console, Effect, type Scope, Stream } from "effect"
import type { ConnectionOptions } from "../src/ConnectionOptions.ts"
import { MysqlClient, MysqlConnection } from "../src/index.ts"

const line = (label: string, value: unknown) => Console.log(`  ${label.padEnd(22)} ${String(value)}`)

const table = (rows: ReadonlyArray<Record<string, unknown>>) => {
  const columns = Object.keys(rows[0] ?? {})
  const cell = (value: unknown) => (value instanceof Date ? value.toISOString().slice(0, 10) : String(value))
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((row) => cell(row[c]).length)))
  const format = (values: ReadonlyArray<string>) => `  │ ${values.map((v, i) => v.padEnd(widths[i]!)).join(" │ ")} │`
  return [
    format(columns),
    `  ├${widths.map((w) => "─".repeat(w + 2)).join("┼")}┤`,
    ...rows.map((row) => format(columns.map((c) => cell(row[c]))))
  ].join("\n")
}

interface Target {
  /** The connection the demo makes. */
  readonly options: ConnectionOptions
  /** A connection the server refuses, to show the typed error. */
  readonly refused: ConnectionOptions
  readonly refusedBecause: string
}

/** A throwaway MariaDB with a fresh CA: x509_user with a client certificate, tls_only without TLS. */
const throwaway: Effect.Effect<Target, unknown, Scope.Scope> = Effect.gen(function* () {
  yield* Console.log("Starting a throwaway MariaDB with a fresh test certificate authority…")
  const pki = yield* TestPki.generate
  const server = yield* MariaDbServer.start({ pki })
  yield* Console.log(`  MariaDB ${server.version} on ${server.host}:${server.port}\n`)
  const endpoint = { host: server.host, port: server.port, database: server.database }
  const { user, password } = TestAccounts.x509
  const tlsOnly = TestAccounts.tlsOnly
  yield* Console.log(`Connecting as ${user} (REQUIRE X509) with ssl-mode verify-identity and a client certificate…`)
  return {
    options: {
      ...endpoint,
      user,
      password,
      ssl: { mode: "verify-identity", ca: pki.ca.pem, cert: pki.client.cert.pem, key: pki.client.key.pem },
      compression: { algorithms: ["zstd", "zlib"] }
    },
    refused: { ...endpoint, user: tlsOnly.user, password: tlsOnly.password, ssl: { mode: "disabled" } },
    refusedBecause: `${tlsOnly.user} (REQUIRE SSL) tries ssl-mode disabled`
  }
})

/** The server of MYSQL_URL, as the URL says; the refused connection has a wrong password. */
const fromUrl = (url: string): Effect.Effect<Target, unknown> =>
  Effect.gen(function* () {
    const options = yield* MysqlClient.optionsFromUrl(url)
    yield* Console.log(`Connecting to the server of MYSQL_URL as ${options.user}…`)
    return {
      options: { compression: { algorithms: ["zstd", "zlib", "uncompressed"] }, ...options },
      refused: { ...options, password: "not-the-password" },
      refusedBecause: `${options.user} tries a wrong password`
    }
  })

const program = Effect.gen(function* () {
  const url = process.env.MYSQL_URL
  const target = url === undefined || url === "" ? yield* throwaway : yield* fromUrl(url)
  const conn = yield* MysqlConnection.connect(target.options)
  const status = yield* conn.query<{ Variable_name: string; Value: string }>(
    "SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_cipher', 'Ssl_version', 'Compression')"
  )
  const reported = Object.fromEntries(status.rows.map((row) => [row.Variable_name, row.Value]))
  const tls = conn.info.tls
  yield* line("server", `${conn.info.flavor} ${conn.info.serverVersion}, connection ${conn.info.connectionId}`)
  yield* line("TLS (client side)", `${tls?.version} ${tls?.cipher}`)
  yield* line("TLS (server says)", `${reported.Ssl_version} ${reported.Ssl_cipher}`)
  const verification = tls?.verification
  yield* line(
    "verified",
    verification === undefined
      ? "nothing (not encrypted)"
      : `${verification.mode}: chain ${verification.chain ? "✓" : "not checked"}, host name ${verification.hostname === undefined ? "not checked" : `${verification.hostname} ✓`}`
  )
  yield* line("server certificate", `${tls?.peerCertificate?.subject} (issued by ${tls?.peerCertificate?.issuer})`)
  yield* line("compression", `${conn.info.compression?.algorithm ?? "none"} (server says ${reported.Compression})`)

  yield* Console.log("\nCreating a table and inserting rows with a prepared statement…")
  yield* conn.query(
    "CREATE TABLE demo_planets (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(32), mass_earths DECIMAL(10,3), discovered DATE)"
  )
  yield* Effect.addFinalizer(() => Effect.ignore(conn.query("DROP TABLE IF EXISTS demo_planets")))
  const planets: ReadonlyArray<readonly [string, string, Date | null]> = [
    ["Mercury", "0.055", null],
    ["Venus", "0.815", null],
    ["Earth", "1.000", null],
    ["Uranus", "14.536", new Date(Date.UTC(1781, 2, 13))],
    ["Neptune", "17.147", new Date(Date.UTC(1846, 8, 23))]
  ]
  for (const planet of planets) {
    yield* conn.execute("INSERT INTO demo_planets (name, mass_earths, discovered) VALUES (?, ?, ?)", planet)
  }

  yield* Console.log("Streaming them back (rows are read from the socket as the stream is pulled):\n")
  const rows = yield* Stream.runCollect(
    conn.stream("SELECT id, name, mass_earths, discovered FROM demo_planets WHERE id > ? ORDER BY id", [0])
  )
  yield* Console.log(table(rows))

  yield* Console.log(`\nNow ${target.refusedBecause}:`)
  const error = yield* Effect.flip(MysqlConnection.connect(target.refused))
  yield* line("error", error._tag)
  yield* Console.log(`  ${error.message}`)
  yield* Console.log(
    url === undefined || url === ""
      ? "\nDone: the table is dropped, the server stopped and its directory removed."
      : "\nDone: the table is dropped."
  )
}).pipe(Effect.scoped, Effect.provide(NodeTransport.layer))

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
