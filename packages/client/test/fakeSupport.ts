// What the client's fake-server tests share: the test PKI (for the fake server's certificate), the
// transport layer of the runtime the tests run on, and checks on what the fake server received.
// Unlike support.ts it needs no real server, so the fake-server tier can load it.
import type { FakeServer } from "@effect-mysql/fake-server"
import type { TestPki } from "@effect-mysql/testing"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Effect, Layer, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import type { ConnectionOptions } from "../src/ConnectionOptions.ts"
import * as MysqlClient from "../src/MysqlClient.ts"
import * as MysqlConnection from "../src/MysqlConnection.ts"

/** The transport of the runtime the tests run on: one suite covers Node, Deno and Bun. */
export const TransportLive = RuntimeTransport.layer

/** `body` given the SqlClient and the MysqlClient of a client made with `options`, closed after it. */
export const withClient = <A, E>(
  options: MysqlClient.MysqlClientOptions,
  body: (sql: SqlClient.SqlClient, client: MysqlClient.MysqlClient) => Effect.Effect<A, E, Scope.Scope>
) =>
  Effect.gen(function* () {
    return yield* body(yield* SqlClient.SqlClient, yield* MysqlClient.MysqlClient)
  }).pipe(Effect.provide(MysqlClient.layer(options).pipe(Layer.provide(TransportLive))))

/** What a failed command or connect may fail with under faults: anything else is a defect. */
export const typedErrorTags: ReadonlySet<string> = new Set([
  "ServerError",
  "AuthenticationError",
  "TlsError",
  "TransportError",
  "TimeoutError",
  "ProtocolError",
  "StatementTimeoutError",
  "PoolTimeoutError"
])

/** A connection for the test's scope, over the runtime's transport. */
export const connect = (options: ConnectionOptions) =>
  MysqlConnection.connect(options).pipe(Effect.provide(TransportLive))

/** The error of a connection attempt that must fail; its socket is closed before this returns. */
export const refused = (options: ConnectionOptions) => Effect.flip(Effect.scoped(connect(options)))

/** Options for `user` on the fake server over TCP. */
export const optionsFor = (
  server: FakeServer.FakeServer,
  user: string,
  password: string,
  extra: Partial<ConnectionOptions> = {}
): ConnectionOptions => ({ host: server.host, port: server.port, user, password, ...extra })

/** The fake server's TLS credentials: the test PKI's good server certificate. */
export const tlsOf = (pki: TestPki.TestPki) => ({ cert: pki.servers.good.cert.pem, key: pki.servers.good.key.pem })

/** Does `haystack` contain `needle` anywhere? */
export const containsBytes = (haystack: Uint8Array, needle: Uint8Array): boolean => {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}

/** Every payload the server received on `connection`, for searching. */
export const receivedPayloads = (connection: FakeServer.FakeConnection): ReadonlyArray<Uint8Array> =>
  connection.received.map((packet) => packet.payload)

/** Whether the password's bytes appear in anything the server received. */
export const sawPassword = (connection: FakeServer.FakeConnection, password: string): boolean => {
  const bytes = new TextEncoder().encode(password)
  return receivedPayloads(connection).some((payload) => containsBytes(payload, bytes))
}
