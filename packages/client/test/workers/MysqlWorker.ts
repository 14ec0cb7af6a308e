// A Worker that runs the client over WorkersTransport: each request posts connection options and
// gets back what the server answered over them, or the typed error the connection failed with.
// The Workers test bundles it and runs it under workerd.

import { Endpoint, Transport } from "@effect-mysql/transport"
import { WorkersTransport } from "@effect-mysql/transport/workers"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { type ConnectionOptions, MysqlClient, MysqlConnection } from "../../src/index.ts"

export interface WorkerRequest {
  /**
   * `connection`: one MysqlConnection; `sql`: the SqlClient of MysqlClient.layer, with its pool;
   * `transport`: the bare transport connection, reading the greeting.
   */
  readonly via: "connection" | "sql" | "transport"
  readonly options: ConnectionOptions.ConnectionOptions
}

export interface WorkerReply {
  readonly user?: string
  readonly tlsVersion?: string
  readonly compression?: string
  readonly sum?: number
  readonly tls?: unknown
  readonly remote?: { readonly address: string | undefined; readonly port: number | undefined }
  readonly greeting?: string
  readonly error?: ErrorReply
}

export interface ErrorReply {
  readonly _tag: string
  readonly reason?: string
  readonly message: string
}

const status = (name: string) =>
  `(SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = '${name}')`

const session = `SELECT CURRENT_USER() AS user, ${status("Ssl_version")} AS tlsVersion, ${status("Compression")} AS compression`

interface Session {
  readonly user: string
  readonly tlsVersion: string
  readonly compression: string
}

const overConnection = (options: ConnectionOptions.ConnectionOptions) =>
  Effect.gen(function* () {
    const connection = yield* MysqlConnection.connect(options)
    const about = yield* connection.query<Session>(session)
    // A statement with parameters goes as a prepared statement over the binary protocol.
    const sum = yield* connection.execute<{ sum: number }>("SELECT ? + ? AS sum", [40, 2])
    return { ...about.rows[0], sum: Number(sum.rows[0]?.sum), tls: connection.info.tls }
  }).pipe(Effect.scoped)

const overSqlClient = (options: ConnectionOptions.ConnectionOptions) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [about] = yield* sql.unsafe<Session>(session)
    const [sum] = yield* sql<{ sum: number }>`SELECT ${40} + ${2} AS sum`
    return { ...about, sum: Number(sum?.sum) }
  }).pipe(Effect.provide(MysqlClient.layer(options)))

const overTransport = (options: ConnectionOptions.ConnectionOptions) =>
  Effect.gen(function* () {
    const connection = yield* (yield* Transport).connect(Endpoint.tcp(options.host ?? "", options.port ?? 3306))
    const greeting = yield* connection.read()
    const info = yield* connection.info
    // The payload of HandshakeV10 begins with the protocol version, then the server version.
    const version = new TextDecoder().decode(greeting.subarray(5, greeting.indexOf(0, 5)))
    return { remote: { address: info.remoteAddress, port: info.remotePort }, greeting: version }
  }).pipe(Effect.scoped)

/** The error as plain data, and its cause when SqlClient wrapped ours in a SqlError. */
const describe = (error: unknown): ErrorReply => {
  const { _tag, reason, message, cause } = error as {
    _tag: string
    reason?: unknown
    message: string
    cause?: { _tag?: unknown }
  }
  if (_tag === "SqlError" && typeof cause?._tag === "string") return describe(cause)
  return { _tag, ...(typeof reason === "string" ? { reason } : {}), message }
}

export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method !== "POST") return new Response(null, { status: 204 })
    const { via, options } = (await request.json()) as WorkerRequest
    const run: Effect.Effect<WorkerReply, unknown, Transport> =
      via === "sql" ? overSqlClient(options) : via === "transport" ? overTransport(options) : overConnection(options)
    const reply: WorkerReply = await Effect.runPromise(
      run.pipe(
        Effect.catch((error) => Effect.succeed({ error: describe(error) })),
        Effect.provide(WorkersTransport.layer)
      )
    )
    return Response.json(reply)
  }
}
