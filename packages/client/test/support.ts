// What the client's integration tests share: the run's server, the accounts, and the transport
// layer of the runtime the tests run on.
import {
  GaleraCluster,
  MariaDbServer,
  type TestAccountName,
  TestAccounts,
  TestPki,
  type TestTarget
} from "@effect-mysql/testing"
import { Context, Effect, Layer, Logger, References, Tracer } from "effect"
import { inject } from "vitest"
import type { ConnectionOptions } from "../src/ConnectionOptions.ts"
import * as MysqlClient from "../src/MysqlClient.ts"
import type { MysqlClientOptions } from "../src/MysqlClientOptions.ts"
import * as MysqlConnection from "../src/MysqlConnection.ts"
import { TransportLive } from "./fakeSupport.ts"

export const target: TestTarget.TestTarget = inject("mysqlTarget")

export { TransportLive }

/** Options for `account` over TCP to the run's server. */
export const optionsFor = (account: TestAccountName, extra: Partial<ConnectionOptions> = {}): ConnectionOptions => ({
  host: target.host,
  port: target.port,
  user: TestAccounts[account].user,
  password: TestAccounts[account].password,
  database: target.database,
  ...extra
})

/**
 * A server of the test's own, for what the run's server must not see (a restart, a kill, server
 * flags such as `--max-allowed-packet`), with root's options for it over verify-identity TLS;
 * `extra` overrides them.
 */
export const dedicatedServer = (args: ReadonlyArray<string> = [], extra: Partial<ConnectionOptions> = {}) =>
  Effect.gen(function* () {
    const pki = target.pki ?? (yield* TestPki.generate)
    const server = yield* MariaDbServer.start({ pki, args })
    const options: ConnectionOptions = {
      host: server.host,
      port: server.port,
      user: TestAccounts.root.user,
      password: TestAccounts.root.password,
      database: server.database,
      ssl: { mode: "verify-identity", ca: pki.ca.pem },
      ...extra
    }
    return { server, options }
  })

export const verifyIdentity = { mode: "verify-identity", ca: target.tls.ca.pem } as const

/** A three-node Galera cluster of the test file's own, and the CA its certificates chain to. */
export class Cluster extends Context.Service<
  Cluster,
  { readonly cluster: GaleraCluster.GaleraCluster; readonly ca: string }
>()("test/GaleraCluster") {}

export const ClusterLive = Layer.effect(
  Cluster,
  Effect.orDie(
    Effect.gen(function* () {
      const pki = yield* TestPki.generate
      return { cluster: yield* GaleraCluster.start({ pki }), ca: pki.ca.pem }
    })
  )
)

/** A connection for the test's scope, over the runtime's transport. */
export const connect = (options: ConnectionOptions) =>
  MysqlConnection.connect(options).pipe(Effect.provide(TransportLive))

/** A `MysqlClient` layer for `account` over the runtime's transport. */
export const clientLayer = (account: TestAccountName, extra: Partial<MysqlClientOptions> = {}) =>
  MysqlClient.layer({ ...optionsFor(account), ...extra }).pipe(Layer.provide(TransportLive))

/** Statements of the test's account still running on the server, as the process list shows them. */
export const running = (observer: MysqlConnection.MysqlConnection, text: string) =>
  Effect.map(
    observer.execute<{ n: bigint }>(
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO = ? AND COMMAND = 'Query'",
      [text]
    ),
    (result) => Number(result.rows[0]!.n)
  )

/** A logger that keeps each line with its level and annotations, as text. */
export const recordingLogger = () => {
  const lines: Array<{ readonly level: string; readonly text: string }> = []
  const logger = Logger.make((options) => {
    const annotations = options.fiber.getRef(References.CurrentLogAnnotations)
    lines.push({ level: options.logLevel, text: JSON.stringify([options.message, annotations]) })
  })
  return { lines, layer: Logger.layer([logger]) }
}

/** A tracer that keeps every span it makes. */
export const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return { spans, tracer }
}
