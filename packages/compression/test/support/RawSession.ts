// A bare MySQL session for the integration tests, built from the protocol package's codecs and
// node:net/node:tls directly (the client package is not involved): greeting, SSL Request and TLS
// when asked, handshake response with the negotiated compression flag, then COM_QUERY over the
// compressed connection.

import * as Net from "node:net"
import * as Tls from "node:tls"
import {
  Capability,
  encodePacket,
  HandshakeResponse41,
  HandshakeV10,
  MysqlNativePassword,
  type Packet,
  PacketDecoder,
  SslRequest,
  sslRequestFor
} from "@effect-mysql/protocol"
import { Effect, Result, Schema } from "effect"
import * as CompressedConnection from "../../src/CompressedConnection.ts"
import type { CompressionCodec } from "../../src/CompressionCodec.ts"
import { negotiate } from "../../src/Negotiation.ts"

declare module "vitest" {
  export interface ProvidedContext {
    mysqlTarget: {
      readonly host: string
      readonly port: number
      readonly database: string
      readonly tls: { readonly ca: { readonly pem: string } }
    }
  }
}

export class SocketClosed extends Schema.TaggedError<SocketClosed>()("SocketClosed", { message: Schema.String }) {}

interface Socketish {
  readonly socket: Net.Socket
  readonly read: () => Effect.Effect<Uint8Array, SocketClosed>
  readonly write: (bytes: Uint8Array) => Effect.Effect<void, SocketClosed>
}

const socketConnection = (socket: Net.Socket): Socketish => {
  const chunks: Array<Uint8Array> = []
  let waiting: ((chunk: Uint8Array | SocketClosed) => void) | undefined
  let ended: SocketClosed | undefined
  const deliver = (item: Uint8Array | SocketClosed) => {
    const w = waiting
    waiting = undefined
    if (w !== undefined) w(item)
    else if (item instanceof SocketClosed) ended = item
    else chunks.push(item)
  }
  socket.on("data", (d: Uint8Array) => deliver(d))
  socket.on("close", () => deliver(new SocketClosed({ message: "socket closed" })))
  socket.on("error", (e) => deliver(new SocketClosed({ message: e.message })))
  return {
    socket,
    read: () =>
      Effect.callback<Uint8Array, SocketClosed>((resume) => {
        const chunk = chunks.shift()
        if (chunk !== undefined) return resume(Effect.succeed(chunk))
        if (ended !== undefined) return resume(Effect.fail(ended))
        waiting = (item) => resume(item instanceof SocketClosed ? Effect.fail(item) : Effect.succeed(item))
      }),
    write: (bytes) =>
      Effect.callback<void, SocketClosed>((resume) => {
        socket.write(bytes, (e) => resume(e ? Effect.fail(new SocketClosed({ message: e.message })) : Effect.void))
      })
  }
}

type ByteConnection = CompressedConnection.ByteConnection<unknown>

/** Reads whole MySQL packets from a byte connection. */
class PacketReader {
  private readonly queue: Array<Packet> = []
  readonly framing = new PacketDecoder({ checkSequence: false, maxPayloadLength: 64 * 1024 * 1024 })
  next(connection: ByteConnection): Effect.Effect<Packet, unknown> {
    const self = this
    return Effect.gen(function* () {
      while (self.queue.length === 0) {
        const out = self.framing.push(yield* connection.read())
        if (Result.isFailure(out)) return yield* out.failure
        self.queue.push(...out.success)
      }
      return self.queue.shift()!
    })
  }
}

const ok = <A, E>(r: Result.Result<A, E>): A => {
  if (Result.isFailure(r)) throw r.failure
  return r.success
}

const lenenc = (payload: Uint8Array, at: number): { value: number | null; next: number } => {
  const b = payload[at]
  if (b < 0xfb) return { value: b, next: at + 1 }
  if (b === 0xfb) return { value: null, next: at + 1 }
  if (b === 0xfc) return { value: payload[at + 1] | (payload[at + 2] << 8), next: at + 3 }
  if (b === 0xfd) return { value: payload[at + 1] | (payload[at + 2] << 8) | (payload[at + 3] << 16), next: at + 4 }
  const view = new DataView(payload.buffer, payload.byteOffset + at + 1, 8)
  return { value: Number(view.getBigUint64(0, true)), next: at + 9 }
}

/** A text-protocol row: each column's bytes, or null. */
const textRow = (payload: Uint8Array): Array<Uint8Array | null> => {
  const out: Array<Uint8Array | null> = []
  let at = 0
  while (at < payload.length) {
    const { value, next } = lenenc(payload, at)
    if (value === null) {
      out.push(null)
      at = next
    } else {
      out.push(payload.subarray(next, next + value))
      at = next + value
    }
  }
  return out
}

const isEof = (payload: Uint8Array) => payload[0] === 0xfe && payload.length < 9

export interface Session {
  readonly compression: string
  /** Runs `sql`; the rows of its result set (empty for a statement without one). */
  readonly query: (sql: string | Uint8Array) => Effect.Effect<Array<Array<Uint8Array | null>>, unknown>
  readonly close: Effect.Effect<void>
}

export interface ConnectOptions {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly database: string
  readonly ca?: string
  readonly codec: CompressionCodec
}

const text = new TextEncoder()

/** Logs in (over TLS when `ca` is given) and switches to the compressed protocol with `codec`. */
export const connect = (options: ConnectOptions): Effect.Effect<Session, unknown> =>
  Effect.gen(function* () {
    const raw = yield* Effect.callback<Net.Socket, SocketClosed>((resume) => {
      const socket = Net.connect(options.port, options.host)
      socket.once("connect", () => resume(Effect.succeed(socket)))
      socket.once("error", (e) => resume(Effect.fail(new SocketClosed({ message: e.message }))))
    })
    let connection = socketConnection(raw)
    let reader = new PacketReader()
    const greeting = ok(HandshakeV10.decode((yield* reader.next(connection)).payload))
    const negotiation = ok(negotiate(greeting.capabilities, { algorithms: [options.codec.algorithm], required: true }))
    const capabilities =
      (Capability.CLIENT_MYSQL |
        Capability.CLIENT_PROTOCOL_41 |
        Capability.CLIENT_SECURE_CONNECTION |
        Capability.CLIENT_PLUGIN_AUTH |
        Capability.CLIENT_TRANSACTIONS |
        Capability.CLIENT_CONNECT_WITH_DB |
        negotiation.clientFlags |
        (options.ca === undefined ? 0 : Capability.CLIENT_SSL)) >>>
      0
    const response = {
      capabilities,
      maxPacketSize: 64 * 1024 * 1024,
      characterSet: 45,
      username: options.user,
      authResponse: yield* MysqlNativePassword.scramble(options.password, greeting.authPluginData),
      database: options.database,
      authPluginName: MysqlNativePassword.pluginName
    }
    let sequenceId = 1
    if (options.ca !== undefined) {
      yield* connection.write(encodePacket(ok(SslRequest.encode(sslRequestFor(response))), sequenceId++).bytes)
      raw.removeAllListeners("data")
      const ca = options.ca
      const secure = yield* Effect.callback<Tls.TLSSocket, SocketClosed>((resume) => {
        const socket = Tls.connect({ socket: raw, ca, host: options.host })
        socket.once("secureConnect", () => resume(Effect.succeed(socket)))
        socket.once("error", (e) => resume(Effect.fail(new SocketClosed({ message: e.message }))))
      })
      connection = socketConnection(secure)
      reader = new PacketReader()
    }
    yield* connection.write(encodePacket(ok(HandshakeResponse41.encode(response)), sequenceId).bytes)
    const reply = (yield* reader.next(connection)).payload
    if (reply[0] !== 0x00) throw new Error(`login refused: ${new TextDecoder().decode(reply.subarray(9))}`)

    const compressed = CompressedConnection.wrap(connection, options.codec)
    reader = new PacketReader()
    const session = reader
    const query = (sql: string | Uint8Array) =>
      Effect.gen(function* () {
        const statement = typeof sql === "string" ? text.encode(sql) : sql
        const payload = new Uint8Array(statement.length + 1)
        payload[0] = 0x03
        payload.set(statement, 1)
        yield* compressed.write(encodePacket(payload, 0).bytes)
        const first = (yield* session.next(compressed)).payload
        if (first[0] === 0x00) return []
        if (first[0] === 0xff) throw new Error(`query failed: ${new TextDecoder().decode(first.subarray(9))}`)
        const columns = lenenc(first, 0).value!
        for (let i = 0; i < columns; i++) yield* session.next(compressed)
        if (!isEof((yield* session.next(compressed)).payload)) throw new Error("expected EOF after columns")
        const rows: Array<Array<Uint8Array | null>> = []
        while (true) {
          const row = (yield* session.next(compressed)).payload
          if (isEof(row)) return rows
          if (row[0] === 0xff) throw new Error(`row failed: ${new TextDecoder().decode(row.subarray(9))}`)
          rows.push(textRow(row))
        }
      })
    return {
      compression: negotiation.algorithm,
      query,
      close: Effect.sync(() => void connection.socket.destroy())
    }
  })
