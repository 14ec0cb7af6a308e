// The dump tool's options for the client's: what each ssl-mode becomes for MariaDB's tools and for
// MySQL's, where the PEM files go, and what a tool cannot do as the client does.
import { assert, describe, it } from "@effect/vitest"
import { Redacted, Result } from "effect"
import { type DumpTool, dumpProblem, toolArguments } from "../src/internal/SchemaDump.ts"
import type { MysqlClientOptions } from "../src/MysqlClientOptions.ts"

const mariadb: DumpTool = { command: "mariadb-dump", flavor: "mariadb" }
const mysql: DumpTool = { command: "mysqldump", flavor: "mysql" }
const ca = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
const cert = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n"
const key = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n"
const base: MysqlClientOptions = { host: "db.example", port: 3307, user: "app", database: "shop" }

/** The TLS options the tool gets (after the endpoint and account), with its files, in directory /d. */
const tlsOf = (tool: DumpTool, options: MysqlClientOptions, clientTls = true) => {
  const planned = toolArguments(tool, { ...base, ...options }, clientTls)
  if (Result.isFailure(planned)) return assert.fail(planned.failure)
  const args = planned.success.args("/d")
  return { args: args.slice(args.indexOf("--compact") + 1), files: planned.success.files }
}

describe("the dump tool's TLS options", () => {
  it("preferred: what the client's own connection did", () => {
    assert.deepStrictEqual(tlsOf(mariadb, {}, true).args, ["--ssl", "--skip-ssl-verify-server-cert"])
    assert.deepStrictEqual(tlsOf(mariadb, {}, false).args, ["--skip-ssl"])
    assert.deepStrictEqual(tlsOf(mysql, {}, true).args, ["--ssl-mode=REQUIRED"])
    assert.deepStrictEqual(tlsOf(mysql, {}, false).args, ["--ssl-mode=DISABLED"])
    assert.deepStrictEqual(tlsOf(mysql, { ssl: { mode: "disabled" } }).args, ["--ssl-mode=DISABLED"])
  })

  it("verified modes: the CA, the client certificate and the CRL as files; versions and ciphers", () => {
    const ssl = { mode: "verify-identity", ca, cert, key: Redacted.make(key), minVersion: "TLSv1.3" } as const
    const { args, files } = tlsOf(mariadb, { ssl })
    assert.deepStrictEqual(args, [
      "--ssl",
      "--ssl-verify-server-cert",
      "--ssl-ca=/d/ssl-ca.pem",
      "--ssl-cert=/d/ssl-cert.pem",
      "--ssl-key=/d/ssl-key.pem",
      "--tls-version=TLSv1.3"
    ])
    assert.deepStrictEqual(files, { "--ssl-ca": ca, "--ssl-cert": cert, "--ssl-key": key })
    assert.deepStrictEqual(
      tlsOf(mysql, { ssl: { mode: "verify-ca", ca, ciphers: "ECDHE-RSA-AES128-GCM-SHA256" } }).args,
      ["--ssl-mode=VERIFY_CA", "--ssl-ca=/d/ssl-ca.pem", "--ssl-cipher=ECDHE-RSA-AES128-GCM-SHA256"]
    )
    // MariaDB's tools check the host name with the chain: verify-ca is checked as verify-identity.
    assert.deepStrictEqual(tlsOf(mariadb, { ssl: { mode: "verify-ca", ca } }).args.slice(0, 2), [
      "--ssl",
      "--ssl-verify-server-cert"
    ])
    assert.deepStrictEqual(tlsOf(mysql, { ssl: { mode: "required" } }).args, ["--ssl-mode=REQUIRED"])
  })

  it("a Unix socket: no TLS options, as the client sends none over one", () => {
    const planned = toolArguments(mariadb, { ...base, socketPath: "/run/mysqld.sock", ssl: { ca } }, false)
    assert.deepStrictEqual(
      Result.map(planned, (tool) => tool.args("/d")),
      Result.succeed(["--no-defaults", "--socket=/run/mysqld.sock", "--user=app", "--skip-comments", "--compact"])
    )
  })

  it("refuses what the tool cannot do as the client does", () => {
    const problem = (tool: DumpTool, options: MysqlClientOptions) => dumpProblem(tool, { ...base, ...options }, true)
    const fingerprint = "AB".repeat(32)
    assert.include(
      problem(mysql, { ssl: { mode: "required", fingerprints: [fingerprint] } }),
      "pin certificate fingerprints"
    )
    assert.include(problem(mysql, { ssl: { ca, cert, key, passphrase: "secret" } }), "ssl.passphrase")
    assert.include(problem(mysql, { ssl: { ca, servername: "other.example" } }), "ssl.servername")
    assert.include(problem(mariadb, { ssl: { mode: "required" } }), "ssl-mode required")
    assert.include(problem(mariadb, { ssl: { ca, ciphersuites: "TLS_AES_256_GCM_SHA384" } }), "ssl.ciphersuites")
    assert.include(problem(mysql, { hosts: ["a:3306", "b:3306"] }), "host list")
    assert.include(problem(mysql, { ssl: { mode: "verify-ca" } }), "ssl.mode verify-ca needs ssl.ca")
    assert.isUndefined(problem(mysql, { ssl: { ca, ciphersuites: "TLS_AES_256_GCM_SHA384" } }))
  })
})
