/**
 * A scriptable fake MySQL/MariaDB server on 127.0.0.1, built only on the protocol package's codecs
 * (and the compression package for compressed sessions), for what the real MariaDB of the tests
 * cannot do: MySQL 8's caching_sha2_password with its fast-auth cache and RSA exchange,
 * sha256_password, mysql_clear_password, multi-factor authentication, auth switches to any plugin,
 * zstd compression, TLS offered or not. It answers a few simple statements with text and binary
 * result sets.
 *
 * A scenario is plain data (flavor, accounts, TLS, compression, the fast-auth cache) plus hooks:
 * `greeting` edits the greeting, `onSend` may replace, truncate, hold back or cut any packet the
 * server writes, `onCommand` answers commands its own way. Every connection is recorded (each
 * packet the client sent, the SSL Request, the decoded handshake response, whether TLS was up, the
 * compressed frames decoded, the commands) so that tests assert what the client sent, not only
 * what it said.
 *
 * `start` is scoped: closing the scope closes the server and every connection.
 */
import * as Net from "node:net"
import {
  CompressedConnection,
  type CompressionAlgorithm,
  type CompressionCodec,
  selectedAlgorithm,
  zlib,
  zstd
} from "@effect-mysql/compression"
import {
  CachingSha2Password,
  Capability,
  type CapabilitySet,
  type ClientCommand,
  ComStmtExecute,
  concatBytes,
  decodeCommand,
  EofPacket,
  ErrPacket,
  encodeStmtPrepareResponse,
  HandshakeResponse41,
  HandshakeV10,
  isSslRequest,
  MysqlNativePassword,
  makeCapabilitySet,
  makeColumnDefinition,
  makeHandshakeV10,
  makeOkPacket,
  OkPacket,
  type ProtocolError,
  SslRequest,
  StatusFlag
} from "@effect-mysql/protocol"
import { HarnessError, listenOnLoopback } from "@effect-mysql/testing"
import { Effect, FiberSet, Result, type Scope } from "effect"
import {
  type AuthIo,
  authenticateFactor,
  cacheKey,
  type Factor,
  generateRsaKeyPair,
  type RsaKeyPair
} from "./internal/FakeAuth.ts"
import {
  answerPayloads,
  builtInAnswer,
  type FakeAnswer,
  placeholderCount,
  type StatementHandler
} from "./internal/FakeResults.ts"
import { PacketWire, SocketBytes } from "./internal/FakeWire.ts"

export type { Factor, RsaKeyPair } from "./internal/FakeAuth.ts"
export { generateRsaKeyPair } from "./internal/FakeAuth.ts"
export type {
  FakeAnswer,
  FakeError,
  FakeOk,
  FakeResultSet,
  StatementContext,
  StatementHandler
} from "./internal/FakeResults.ts"

/** An account the fake server knows. */
export interface FakeAccount {
  readonly user: string
  readonly password: string
  /** Its (first factor's) plugin; default the scenario's `defaultPlugin`. Any name, known or not. */
  readonly plugin?: string
  /** Further factors (MySQL multi-factor authentication), asked for with AuthNextFactor. */
  readonly nextFactors?: ReadonlyArray<Factor>
}

export interface FakeServerScenario {
  /** `mysql` (default: CLIENT_MYSQL set, version 8.4.3) or `mariadb` (CLIENT_MYSQL cleared, 5.5.5- prefix). */
  readonly flavor?: "mysql" | "mariadb"
  readonly serverVersion?: string
  /** The plugin the greeting names; default caching_sha2_password (mysql) or mysql_native_password (mariadb). */
  readonly defaultPlugin?: string
  readonly accounts: ReadonlyArray<FakeAccount>
  /** Offer TLS (CLIENT_SSL) with this certificate and key; without it the server has no TLS. */
  readonly tls?: { readonly cert: string; readonly key: string }
  /** Compression offered (CLIENT_COMPRESS, CLIENT_ZSTD_COMPRESSION_ALGORITHM); default none. */
  readonly compression?: ReadonlyArray<CompressionAlgorithm>
  /** Users in caching_sha2_password's fast-auth cache from the start, as after an earlier login. */
  readonly cachedUsers?: ReadonlyArray<string>
  /** Send an auth switch even when the client already answered with the account's plugin. */
  readonly forceAuthSwitch?: boolean
  /** The RSA key pair for caching_sha2/sha256 over plaintext; default one shared by the process. */
  readonly rsaKeyPair?: RsaKeyPair
  /** Answers statements before the built-in answers. */
  readonly statements?: StatementHandler
  readonly hooks?: FakeServerHooks
}

/** Where the connection is: before authentication, authenticating, or running commands. */
export type Phase = "connect" | "auth" | "command"

export interface ReceivedPacket {
  readonly phase: Phase
  readonly sequenceId: number
  readonly payload: Uint8Array
}

/** A compressed packet the server decompressed (stored ones are not compressed and not listed). */
export interface CompressedFrame {
  readonly algorithm: CompressionAlgorithm
  /** The compressed payload as it arrived. */
  readonly compressed: Uint8Array
  readonly uncompressedLength: number
}

/** What one connection did, as the server saw it. Filled in as the connection goes. */
export interface FakeConnection {
  readonly id: number
  /** Every packet the client sent, in order. */
  readonly received: Array<ReceivedPacket>
  sslRequest: SslRequest | undefined
  handshakeResponse: HandshakeResponse41 | undefined
  tls: boolean
  authenticated: boolean
  compression: CompressionAlgorithm | undefined
  readonly compressedFrames: Array<CompressedFrame>
  readonly commands: Array<ClientCommand>
  /** Why the connection ended, once it has. */
  end: string | undefined
}

/** A packet the server is about to write. */
export interface OutgoingPacket {
  readonly phase: Phase
  readonly sequenceId: number
  readonly payload: Uint8Array
  /** Header and payload as they would go on the wire (before compression and TLS). */
  readonly framed: Uint8Array
}

/** What to do with an outgoing packet. */
export type SendAction =
  | { readonly _tag: "Send" }
  /** Write these bytes instead (a truncated packet, a lying length, garbage). */
  | { readonly _tag: "Replace"; readonly bytes: Uint8Array }
  /** Write nothing more, keep the connection open until the client gives up. */
  | { readonly _tag: "Stall" }
  /** Close the connection now. */
  | { readonly _tag: "Close" }

/** The running connection, for hooks that answer in their own way. */
export interface FakeSession {
  readonly record: FakeConnection
  /** The capabilities both sides have. */
  readonly capabilities: CapabilitySet
  /** Sends payloads as packets with the next sequence ids (through `onSend`). */
  readonly send: (phase: Phase, payloads: ReadonlyArray<Uint8Array>) => Effect.Effect<void, HarnessError>
  /** Writes bytes as they are (inside the compressed protocol once it is on). */
  readonly sendRaw: (bytes: Uint8Array) => Effect.Effect<void, HarnessError>
  /**
   * Writes bytes underneath the compressed protocol (on the socket, or inside TLS): compressed
   * frames of the hook's own making, lies included.
   */
  readonly sendWire: (bytes: Uint8Array) => Effect.Effect<void, HarnessError>
  /** The client's next packet, recorded like every other (the answer to a LOCAL INFILE request). */
  readonly receive: (phase: Phase) => Effect.Effect<Uint8Array, HarnessError>
  /** The next packet received starts a command (sequence id 0): a command the client pipelined. */
  readonly startCommand: () => void
}

export interface FakeServerHooks {
  /** Edits the greeting before it is sent (capabilities, plugin, nonce, version). */
  readonly greeting?: (greeting: HandshakeV10) => HandshakeV10
  /** Sees every packet the server writes, and may change what goes on the wire. */
  readonly onSend?: (packet: OutgoingPacket, connection: FakeConnection) => SendAction
  /** Answers a command in place of the server; `true` when it did. */
  readonly onCommand?: (command: ClientCommand, session: FakeSession) => Effect.Effect<boolean, HarnessError>
}

export interface FakeServer {
  readonly host: string
  readonly port: number
  /** The RSA public key (PEM) the server sends on request, for the client's `serverPublicKey`. */
  readonly publicKeyPem: string
  /** The connections accepted so far, as recorded up to now. */
  readonly connections: ReadonlyArray<FakeConnection>
  /** Waits until every connection accepted so far has ended, then gives them. */
  readonly settled: Effect.Effect<ReadonlyArray<FakeConnection>>
}

/** Capabilities of a MySQL 8.4 server, before TLS and compression are added. */
const baseCapabilities =
  Capability.CLIENT_LONG_PASSWORD |
  Capability.CLIENT_FOUND_ROWS |
  Capability.CLIENT_LONG_FLAG |
  Capability.CLIENT_CONNECT_WITH_DB |
  Capability.CLIENT_NO_SCHEMA |
  Capability.CLIENT_ODBC |
  Capability.CLIENT_LOCAL_FILES |
  Capability.CLIENT_IGNORE_SPACE |
  Capability.CLIENT_PROTOCOL_41 |
  Capability.CLIENT_INTERACTIVE |
  Capability.CLIENT_IGNORE_SIGPIPE |
  Capability.CLIENT_TRANSACTIONS |
  Capability.CLIENT_RESERVED |
  Capability.CLIENT_SECURE_CONNECTION |
  Capability.CLIENT_MULTI_STATEMENTS |
  Capability.CLIENT_MULTI_RESULTS |
  Capability.CLIENT_PS_MULTI_RESULTS |
  Capability.CLIENT_PLUGIN_AUTH |
  Capability.CLIENT_CONNECT_ATTRS |
  Capability.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |
  Capability.CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS |
  Capability.CLIENT_SESSION_TRACK |
  Capability.CLIENT_DEPRECATE_EOF |
  Capability.MULTI_FACTOR_AUTHENTICATION

const serverCapabilities = (scenario: FakeServerScenario): number => {
  const offered = scenario.compression ?? []
  return (
    ((scenario.flavor === "mariadb" ? baseCapabilities & ~Capability.CLIENT_MYSQL : baseCapabilities) |
      (scenario.tls === undefined ? 0 : Capability.CLIENT_SSL) |
      (offered.includes("zlib") ? Capability.CLIENT_COMPRESS : 0) |
      (offered.includes("zstd") ? Capability.CLIENT_ZSTD_COMPRESSION_ALGORITHM : 0)) >>>
    0
  )
}

const defaultPluginOf = (scenario: FakeServerScenario): string =>
  scenario.defaultPlugin ??
  (scenario.flavor === "mariadb" ? MysqlNativePassword.pluginName : CachingSha2Password.pluginName)

/** The scramble: printable bytes, as MySQL makes them (clients that NUL-terminate it stay correct). */
const newNonce = (): Uint8Array => crypto.getRandomValues(new Uint8Array(20)).map((b) => 0x21 + (b % 94))

/** Sessions end by failing with this when the script or a hook closed or stalled the connection. */
const sessionEnd = (message: string) => new HarnessError({ message })

const encoded = <A>(result: Result.Result<A, ProtocolError>): Effect.Effect<A, HarnessError> =>
  Result.isSuccess(result)
    ? Effect.succeed(result.success)
    : Effect.fail(new HarnessError({ message: `the fake server cannot encode: ${result.failure.message}` }))

const harnessError = (error: HarnessError | ProtocolError): HarnessError =>
  error._tag === "ProtocolError" ? new HarnessError({ message: error.message, cause: error }) : error

const accessDenied = (user: string) =>
  ErrPacket.encode({
    errorCode: 1045,
    sqlState: "28000",
    errorMessage: `Access denied for user '${user}'@'localhost' (using password: YES)`
  })

/** A codec that records each frame it decompresses: proof that the client really compressed. */
const recording = (codec: CompressionCodec, frames: Array<CompressedFrame>): CompressionCodec => ({
  ...codec,
  decompress: (input, uncompressedLength) => {
    frames.push({ algorithm: codec.algorithm, compressed: input.slice(), uncompressedLength })
    return codec.decompress(input, uncompressedLength)
  }
})

interface ServerState {
  readonly scenario: FakeServerScenario
  readonly capabilities: number
  readonly rsa: RsaKeyPair
  readonly cache: Map<string, Uint8Array>
}

interface PreparedStatement {
  readonly sql: string
  readonly paramCount: number
  types: ReadonlyArray<{ readonly type: number; readonly unsigned: boolean }> | undefined
}

/** One connection's script: greeting, TLS, handshake response, authentication, compression, commands. */
const runSession = Effect.fnUntraced(function* (state: ServerState, bytes: SocketBytes, record: FakeConnection) {
  const { scenario } = state
  const hooks = scenario.hooks ?? {}
  const wire = new PacketWire(bytes, 64 * 1024 * 1024)

  const receive = (phase: Phase) =>
    Effect.map(wire.next, (packet) => {
      record.received.push({ phase, sequenceId: packet.sequenceId, payload: packet.payload.slice() })
      return packet.payload
    })

  const send = (phase: Phase, payloads: ReadonlyArray<Uint8Array>): Effect.Effect<void, HarnessError> =>
    Effect.gen(function* () {
      const out: Array<Uint8Array> = []
      for (const payload of payloads) {
        const sequenceId = wire.sequenceId
        const framed = wire.frame(payload)
        const action = hooks.onSend?.({ phase, sequenceId, payload, framed }, record) ?? { _tag: "Send" }
        if (action._tag === "Send") out.push(framed)
        else if (action._tag === "Replace") out.push(action.bytes)
        else {
          if (out.length > 0) yield* wire.bytes.write(concatBytes(out))
          if (action._tag === "Close") {
            yield* bytes.destroy
            return yield* sessionEnd("closed by onSend")
          }
          yield* bytes.closed
          return yield* sessionEnd("stalled by onSend")
        }
      }
      if (out.length > 0) yield* wire.bytes.write(concatBytes(out))
    })

  // Greeting [sequence 0]
  const nonce = newNonce()
  const mariadb = scenario.flavor === "mariadb"
  const greeting = makeHandshakeV10({
    serverVersion: scenario.serverVersion ?? (mariadb ? "5.5.5-10.11.6-MariaDB" : "8.4.3"),
    connectionId: record.id,
    authPluginData: nonce,
    capabilities: state.capabilities,
    characterSet: mariadb ? 45 : 255,
    statusFlags: StatusFlag.SERVER_STATUS_AUTOCOMMIT,
    ...(mariadb ? { mariadbCapabilities: 0 } : {}),
    authPluginName: defaultPluginOf(scenario)
  })
  const sent = hooks.greeting?.(greeting) ?? greeting
  yield* send("connect", [yield* encoded(HandshakeV10.encode(sent))])

  // SSL Request [sequence 1], TLS on the same socket, then the handshake response [sequence 2]
  let payload = yield* receive("connect")
  if (isSslRequest(payload)) {
    record.sslRequest = yield* encoded(SslRequest.decode(payload))
    if (scenario.tls === undefined) return yield* sessionEnd("the client asked for TLS, which this server lacks")
    yield* bytes.upgradeTls(scenario.tls, wire.takePending())
    record.tls = true
    payload = yield* receive("connect")
  }
  const response = yield* encoded(HandshakeResponse41.decode(payload))
  record.handshakeResponse = response
  const capabilities = makeCapabilitySet((response.capabilities & sent.capabilities) >>> 0, 0)

  // Authentication: every factor of the account, then OK.
  const account = scenario.accounts.find((a) => a.user === response.username)
  const io: AuthIo = {
    user: response.username,
    nonce,
    secure: record.tls,
    rsa: state.rsa,
    cache: state.cache,
    send: (data) => send("auth", [data]),
    next: receive("auth")
  }
  const factors: ReadonlyArray<Factor> =
    account === undefined
      ? []
      : [
          { plugin: account.plugin ?? defaultPluginOf(scenario), password: account.password },
          ...(account.nextFactors ?? [])
        ]
  let accepted = factors.length > 0
  for (let i = 0; i < factors.length && accepted; i++) {
    accepted = yield* authenticateFactor(
      io,
      factors[i]!,
      i,
      i === 0
        ? {
            _tag: "HandshakeResponse",
            plugin: response.authPluginName ?? MysqlNativePassword.pluginName,
            response: response.authResponse,
            forceSwitch: scenario.forceAuthSwitch === true
          }
        : { _tag: "NextFactor" }
    )
  }
  if (!accepted) {
    yield* send("auth", [yield* encoded(accessDenied(response.username))])
    return yield* sessionEnd("access denied")
  }
  yield* send("auth", [yield* encoded(OkPacket.encode(makeOkPacket(), capabilities))])
  record.authenticated = true

  // Compression starts after the final OK, both ways.
  const algorithm = selectedAlgorithm(response.capabilities & sent.capabilities)
  if (algorithm !== "uncompressed") {
    record.compression = algorithm
    const codec = algorithm === "zlib" ? zlib() : zstd(response.zstdCompressionLevel)
    const compressed = CompressedConnection.wrap(bytes, recording(codec, record.compressedFrames))
    wire.bytes = {
      read: () => Effect.mapError(compressed.read(), harnessError),
      write: (data) => Effect.mapError(compressed.write(data), harnessError)
    }
  }

  const session: FakeSession = {
    record,
    capabilities,
    send,
    sendRaw: (raw) => wire.bytes.write(raw),
    sendWire: (raw) => bytes.write(raw),
    receive,
    startCommand: () => wire.startCommand()
  }
  const answer = (sql: string, parameters: ReadonlyArray<ComStmtExecute.TypedParameter>, binary: boolean) => {
    const context = { user: response.username, connectionId: record.id, parameters }
    const result: FakeAnswer = scenario.statements?.(sql, context) ?? builtInAnswer(sql, context)
    return Effect.flatMap(encoded(answerPayloads(result, capabilities, binary)), (payloads) =>
      send("command", payloads)
    )
  }
  const ok = Effect.flatMap(encoded(OkPacket.encode(makeOkPacket(), capabilities)), (p) => send("command", [p]))
  const statements = new Map<number, PreparedStatement>()
  let nextStatementId = 1

  while (true) {
    wire.startCommand()
    const command = yield* encoded(decodeCommand(yield* receive("command"), capabilities))
    record.commands.push(command)
    if (hooks.onCommand !== undefined && (yield* hooks.onCommand(command, session))) continue
    switch (command._tag) {
      case "ComQuit":
        return yield* sessionEnd("COM_QUIT")
      case "ComQuery":
        yield* answer(command.query, [], false)
        break
      case "ComPing":
      case "ComInitDb":
      case "ComResetConnection":
      case "ComStmtReset":
        yield* ok
        break
      case "ComSetOption":
        yield* send("command", [
          yield* encoded(EofPacket.encode({ warnings: 0, statusFlags: StatusFlag.SERVER_STATUS_AUTOCOMMIT }))
        ])
        break
      case "ComStmtPrepare": {
        const paramCount = placeholderCount(command.query)
        // The columns as the answer has them (a `?` column is typed only at execution).
        const probe = builtInAnswer(command.query, {
          user: response.username,
          connectionId: record.id,
          parameters: Array.from({ length: paramCount }, () => ComStmtExecute.typedParameter(0xfd, ""))
        })
        const columns = probe._tag === "ResultSet" ? probe.columns : []
        const statementId = nextStatementId++
        statements.set(statementId, { sql: command.query, paramCount, types: undefined })
        const params = Array.from({ length: paramCount }, () => makeColumnDefinition({ name: "?", type: 0xfd }))
        const payloads = yield* encoded(
          encodeStmtPrepareResponse(
            {
              ok: {
                _tag: "ComStmtPrepareOk",
                statementId,
                numColumns: columns.length,
                numParams: paramCount,
                warningCount: 0
              },
              params,
              columns
            },
            capabilities
          )
        )
        yield* send("command", payloads)
        break
      }
      case "ComStmtClose":
        statements.delete(command.statementId)
        break
      case "OtherCommand": {
        if (command.command !== ComStmtExecute.COM_STMT_EXECUTE) {
          yield* send("command", [
            yield* encoded(
              ErrPacket.encode({ errorCode: 1047, sqlState: "08S01", errorMessage: "Unknown command" }, capabilities)
            )
          ])
          break
        }
        const statementId = new DataView(command.payload.buffer, command.payload.byteOffset + 1, 4).getUint32(0, true)
        const statement = statements.get(statementId)
        if (statement === undefined) return yield* sessionEnd(`COM_STMT_EXECUTE of unknown statement ${statementId}`)
        const execute = yield* encoded(
          ComStmtExecute.decode(command.payload, {
            paramCount: statement.paramCount,
            ...(statement.types === undefined ? {} : { previousTypes: statement.types })
          })
        )
        statement.types = execute.parameters.map((p) => ({ type: p.type, unsigned: p.unsigned }))
        yield* answer(statement.sql, execute.parameters, true)
        break
      }
      default:
        yield* send("command", [
          yield* encoded(
            ErrPacket.encode(
              { errorCode: 1047, sqlState: "08S01", errorMessage: `the fake server does not answer ${command._tag}` },
              capabilities
            )
          )
        ])
    }
  }
})

let sharedRsaKeyPair: Promise<RsaKeyPair> | undefined

/** One RSA key pair for the whole process: generating one takes up to a second. */
const processRsaKeyPair: Effect.Effect<RsaKeyPair, HarnessError> = Effect.suspend(() => {
  sharedRsaKeyPair ??= Effect.runPromise(generateRsaKeyPair)
  const pending = sharedRsaKeyPair
  return Effect.tryPromise({
    try: () => pending,
    catch: (cause) => new HarnessError({ message: "cannot generate an RSA key pair", cause })
  })
})

/** Starts a fake server on 127.0.0.1 at a free port for the life of the scope. */
export const start = (scenario: FakeServerScenario): Effect.Effect<FakeServer, HarnessError, Scope.Scope> =>
  Effect.gen(function* () {
    const rsa = scenario.rsaKeyPair ?? (yield* processRsaKeyPair)
    const cache = new Map<string, Uint8Array>()
    for (const user of scenario.cachedUsers ?? []) {
      const account = scenario.accounts.find((a) => a.user === user)
      if (account === undefined) return yield* new HarnessError({ message: `cachedUsers: no account ${user}` })
      cache.set(cacheKey(user, 0), yield* Effect.orDie(CachingSha2Password.cacheEntry(account.password)))
    }
    const state: ServerState = { scenario, capabilities: serverCapabilities(scenario), rsa, cache }
    const connections: Array<FakeConnection> = []
    const finished: Array<Promise<void>> = []
    const sockets = new Set<Net.Socket>()

    const server = Net.createServer()
    const port = yield* listenOnLoopback(server, sockets, "the fake server")
    // Made after the listener, so closing the scope ends the sessions before the server closes.
    const sessions = yield* FiberSet.make<void, never>()
    const fork = yield* FiberSet.runtime(sessions)<never>()

    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.once("close", () => sockets.delete(socket))
      const record: FakeConnection = {
        id: connections.length + 1,
        received: [],
        sslRequest: undefined,
        handshakeResponse: undefined,
        tls: false,
        authenticated: false,
        compression: undefined,
        compressedFrames: [],
        commands: [],
        end: undefined
      }
      connections.push(record)
      const bytes = new SocketBytes(socket)
      let done: () => void = () => {}
      finished.push(
        new Promise<void>((resolve) => {
          done = resolve
        })
      )
      fork(
        runSession(state, bytes, record).pipe(
          Effect.catch((error) =>
            Effect.sync(() => {
              record.end = error.message
            })
          ),
          Effect.ensuring(
            Effect.andThen(
              bytes.destroy,
              Effect.sync(() => {
                record.end ??= "ended"
                done()
              })
            )
          )
        )
      )
    })

    return {
      host: "127.0.0.1",
      port,
      publicKeyPem: rsa.publicKeyPem,
      connections,
      settled: Effect.map(
        Effect.promise(() => Promise.all([...finished])),
        () => connections
      )
    } satisfies FakeServer
  })
