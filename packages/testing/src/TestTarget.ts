/**
 * The server an integration run talks to: by default a throwaway MariaDB started for the run, or,
 * when `MYSQL_TEST_URL` is set, an external server (say a MySQL 8 of the user's) on which an
 * administrator has run `accountsSql()` and whose TLS files are given by `MYSQL_TEST_SSL_CA`,
 * `MYSQL_TEST_SSL_CERT` and `MYSQL_TEST_SSL_KEY` (paths; a client certificate the server trusts).
 */
import * as Fs from "node:fs/promises"
import { Effect, type Scope } from "effect"
import { HarnessError } from "./HarnessError.ts"
import * as MariaDbServer from "./MariaDbServer.ts"
import * as TestPki from "./TestPki.ts"

// Integration tests read the run's server with vitest's `inject("mysqlTarget")`.
declare module "vitest" {
  export interface ProvidedContext {
    mysqlTarget: TestTarget
  }
}

export interface TestTarget {
  readonly host: string
  readonly port: number
  readonly socketPath: string | undefined
  readonly database: string
  /** The CA that signed the server's certificate, and a client certificate for REQUIRE X509. */
  readonly tls: { readonly ca: TestPki.PemFile; readonly cert: TestPki.PemFile; readonly key: TestPki.PemFile }
  /** The whole test PKI and the server directory, only when the harness started the server. */
  readonly pki: TestPki.TestPki | undefined
  readonly server: MariaDbServer.MariaDbServerInfo | undefined
}

const readEnvFile = (name: string) =>
  Effect.gen(function* () {
    const path = process.env[name]
    if (path === undefined) return yield* new HarnessError({ message: `MYSQL_TEST_URL is set, so ${name} must be too` })
    const pem = yield* Effect.tryPromise({
      try: () => Fs.readFile(path, "utf8"),
      catch: (cause) => new HarnessError({ message: `${name}: cannot read ${path}`, cause })
    })
    return { path, pem } satisfies TestPki.PemFile
  })

const external = (url: string) =>
  Effect.gen(function* () {
    const parsed = yield* Effect.try({
      try: () => new URL(url),
      catch: (cause) => new HarnessError({ message: `MYSQL_TEST_URL is not a URL: ${url}`, cause })
    })
    return {
      host: parsed.hostname,
      port: Number(parsed.port || 3306),
      socketPath: process.env.MYSQL_TEST_SOCKET,
      database: decodeURIComponent(parsed.pathname.slice(1)) || "test",
      tls: {
        ca: yield* readEnvFile("MYSQL_TEST_SSL_CA"),
        cert: yield* readEnvFile("MYSQL_TEST_SSL_CERT"),
        key: yield* readEnvFile("MYSQL_TEST_SSL_KEY")
      },
      pki: undefined,
      server: undefined
    } satisfies TestTarget
  })

const harness = Effect.gen(function* () {
  const pki = yield* TestPki.generate
  const server = yield* MariaDbServer.start({ pki })
  return {
    host: server.host,
    port: server.port,
    socketPath: server.socketPath,
    database: server.database,
    tls: { ca: pki.ca, cert: pki.client.cert, key: pki.client.key },
    pki,
    server: MariaDbServer.info(server)
  } satisfies TestTarget
})

/** The run's server, for as long as the scope is open. */
export const acquire: Effect.Effect<TestTarget, HarnessError, Scope.Scope> = Effect.gen(function* () {
  const url = process.env.MYSQL_TEST_URL
  return url === undefined || url === "" ? yield* harness : yield* external(url)
})
