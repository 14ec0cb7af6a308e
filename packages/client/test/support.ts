// What the client's integration tests share: the run's server, the accounts, and the transport
// layer of the runtime the tests run on.
import { type TestAccountName, TestAccounts, type TestTarget } from "@effect-mysql/testing"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Effect, Layer } from "effect"
import { inject } from "vitest"
import type { ConnectionOptions } from "../src/ConnectionOptions.ts"
import * as MysqlClient from "../src/MysqlClient.ts"
import type { MysqlClientOptions } from "../src/MysqlClientOptions.ts"
import * as MysqlConnection from "../src/MysqlConnection.ts"

export const target: TestTarget.TestTarget = inject("mysqlTarget")

/** The transport of the runtime the tests run on: one suite covers Node, Deno and Bun. */
export const TransportLive = RuntimeTransport.layer

/** Options for `account` over TCP to the run's server. */
export const optionsFor = (account: TestAccountName, extra: Partial<ConnectionOptions> = {}): ConnectionOptions => ({
  host: target.host,
  port: target.port,
  user: TestAccounts[account].user,
  password: TestAccounts[account].password,
  database: target.database,
  ...extra
})

export const verifyIdentity = { mode: "verify-identity", ca: target.tls.ca.pem } as const

/** A connection for the test's scope, over the runtime's transport. */
export const connect = (options: ConnectionOptions) =>
  MysqlConnection.connect(options).pipe(Effect.provide(TransportLive))

/** A `MysqlClient` layer for `account` over the runtime's transport. */
export const clientLayer = (account: TestAccountName, extra: Partial<MysqlClientOptions> = {}) =>
  MysqlClient.layer({ ...optionsFor(account), ...extra }).pipe(Layer.provide(TransportLive))
