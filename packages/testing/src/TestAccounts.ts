/**
 * The accounts every test server has, one per way of authenticating that the suite exercises.
 * `accountsSql` creates them; it is idempotent, so it runs at every start of a server (also a
 * restart on the same data directory) and can be run by an administrator on an external server.
 */
export const TestAccounts = {
  root: { user: "root", password: "root-secret" },
  /** mysql_native_password */
  plain: { user: "plain", password: "plain-secret" },
  /** an empty password */
  nopw: { user: "nopw", password: "" },
  /** REQUIRE SSL: refused without TLS */
  tlsOnly: { user: "tls_only", password: "tls-secret" },
  /** REQUIRE X509: refused without TLS and a client certificate signed by the test CA */
  x509: { user: "x509_user", password: "x509-secret" },
  /** MariaDB's client_ed25519 */
  ed25519: { user: "ed_user", password: "ed-secret" },
  /** A replica's account (REPLICATION SLAVE, BINLOG MONITOR) with REQUIRE SSL */
  replicaTls: { user: "replica_tls", password: "replica-secret" },
  /** A replica's account with REQUIRE X509 */
  replicaX509: { user: "replica_x509", password: "replica-x509-secret" }
} as const

export type TestAccountName = keyof typeof TestAccounts

export const TestDatabase = "test"

const quote = (value: string) => `'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`

const user = (name: string) => `${quote(name)}@'%'`

/** Gives root of a fresh data directory (no password, at several host names) the test password. */
export const rootSql = (): string => {
  const { root } = TestAccounts
  const password = quote(root.password)
  return [
    ...["localhost", "127.0.0.1", "::1"].map(
      (host) => `ALTER USER IF EXISTS 'root'@'${host}' IDENTIFIED BY ${password}`
    ),
    `CREATE OR REPLACE USER ${user(root.user)} IDENTIFIED BY ${password}`,
    `GRANT ALL PRIVILEGES ON *.* TO ${user(root.user)} WITH GRANT OPTION`,
    ""
  ].join(";\n")
}

export const accountsSql = (): string => {
  const { plain, nopw, tlsOnly, x509, ed25519, replicaTls, replicaX509 } = TestAccounts
  return [
    `CREATE DATABASE IF NOT EXISTS ${TestDatabase} CHARACTER SET utf8mb4`,
    `CREATE OR REPLACE USER ${user(plain.user)} IDENTIFIED VIA mysql_native_password USING PASSWORD(${quote(plain.password)})`,
    `CREATE OR REPLACE USER ${user(nopw.user)}`,
    `CREATE OR REPLACE USER ${user(tlsOnly.user)} IDENTIFIED BY ${quote(tlsOnly.password)} REQUIRE SSL`,
    `CREATE OR REPLACE USER ${user(x509.user)} IDENTIFIED BY ${quote(x509.password)} REQUIRE X509`,
    `CREATE OR REPLACE USER ${user(ed25519.user)} IDENTIFIED VIA ed25519 USING PASSWORD(${quote(ed25519.password)})`,
    `CREATE OR REPLACE USER ${user(replicaTls.user)} IDENTIFIED BY ${quote(replicaTls.password)} REQUIRE SSL`,
    `CREATE OR REPLACE USER ${user(replicaX509.user)} IDENTIFIED BY ${quote(replicaX509.password)} REQUIRE X509`,
    ...[plain, nopw, tlsOnly, x509, ed25519].map((a) => `GRANT ALL PRIVILEGES ON ${TestDatabase}.* TO ${user(a.user)}`),
    ...[replicaTls, replicaX509].map((a) => `GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO ${user(a.user)}`),
    ""
  ].join(";\n")
}
