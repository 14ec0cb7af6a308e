/**
 * The connection phase as one linear script (seed 004 and
 * https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html):
 *
 *   greeting → ssl-mode decides → [SSL Request (seq 1) → TLS on the same socket] →
 *   HandshakeResponse41 (seq 1, or 2 after TLS) → auth exchange → [compression]
 *
 * No credential byte is written before the ssl-mode's decision is carried out: when TLS is
 * required and the server does not offer it, the script stops at the greeting.
 */

import { type CompressedConnection, CompressionCodecs, negotiate } from "@effect-mysql/compression"
import {
  AuthSwitchResponse,
  Capability,
  type CapabilitySet,
  decodeAuthPhasePacket,
  decodeGreeting,
  HandshakeResponse41,
  hasFlag,
  MariaDbCapability,
  MysqlNativePassword,
  makeCapabilitySet,
  parseServerVersion,
  type ServerVersion,
  SslRequest,
  sslRequestFor
} from "@effect-mysql/protocol"
import {
  type Connection,
  Endpoint,
  SslPolicy,
  TimeoutError,
  TlsError,
  type TlsInfo,
  Transport
} from "@effect-mysql/transport"
import { Duration, Effect, type Scope } from "effect"
import { type Password, passwordText, type ResolvedOptions } from "../ConnectionOptions.ts"
import { AuthenticationError, type MysqlError } from "../Errors.ts"
import * as Authentication from "./Authentication.ts"
import { serverError } from "./ServerErrors.ts"
import { Wire } from "./Wire.ts"

export const clientName = "effect-mysql"
export const clientVersion = "0.0.0"

/** What the handshake established. */
export interface Session {
  readonly wire: Wire
  readonly transport: Connection
  readonly connectionId: number
  readonly serverVersion: ServerVersion
  /** The capabilities both sides have (what the connection speaks). */
  readonly capabilities: CapabilitySet
  readonly tls: TlsInfo | undefined
  readonly compression: CompressedConnection.CompressionInfo | undefined
  readonly statusFlags: number
  /** The greeting's nonce and default plugin, which COM_CHANGE_USER answers to again. */
  readonly scramble: Uint8Array
  readonly serverPlugin: string
  /** The rules for sending passwords on this connection. */
  readonly authContext: Omit<Authentication.AuthContext, "user">
}

/** The capabilities this client asks for; each is kept only if the server has it too. */
const wanted = (options: ResolvedOptions): number =>
  Capability.CLIENT_LONG_PASSWORD |
  Capability.CLIENT_FOUND_ROWS |
  Capability.CLIENT_LONG_FLAG |
  (options.database === undefined ? 0 : Capability.CLIENT_CONNECT_WITH_DB) |
  (options.localInfile === undefined ? 0 : Capability.CLIENT_LOCAL_FILES) |
  Capability.CLIENT_PROTOCOL_41 |
  Capability.CLIENT_TRANSACTIONS |
  Capability.CLIENT_SECURE_CONNECTION |
  (options.multipleStatements ? Capability.CLIENT_MULTI_STATEMENTS : 0) |
  Capability.CLIENT_MULTI_RESULTS |
  Capability.CLIENT_PS_MULTI_RESULTS |
  Capability.CLIENT_PLUGIN_AUTH |
  Capability.CLIENT_CONNECT_ATTRS |
  Capability.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |
  Capability.CLIENT_SESSION_TRACK |
  Capability.CLIENT_DEPRECATE_EOF |
  Capability.MULTI_FACTOR_AUTHENTICATION

/**
 * MariaDB's extended metadata tells JSON, UUID and INET columns apart from plain text. Bulk
 * operations allow COM_STMT_BULK_EXECUTE (batches) and change nothing else a client sends or reads.
 */
const wantedMariaDb =
  MariaDbCapability.MARIADB_CLIENT_EXTENDED_METADATA | MariaDbCapability.MARIADB_CLIENT_STMT_BULK_OPERATIONS

const runtimeName = (): string => {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } }
  if (g.Deno !== undefined) return `deno ${g.Deno.version.deno}`
  if (g.Bun !== undefined) return `bun ${g.Bun.version}`
  return `node ${globalThis.process?.versions?.node ?? "unknown"}`
}

export const connectAttributes = (options: ResolvedOptions): ReadonlyArray<readonly [string, string]> => [
  ["_client_name", clientName],
  ["_client_version", clientVersion],
  ["_runtime", runtimeName()],
  ...(options.programName === undefined ? [] : [["program_name", options.programName] as const]),
  ...Object.entries(options.connectAttributes)
]

/** Who logs in: the user and the passwords of each authentication factor. */
export interface Login {
  readonly user: string
  readonly password: Password | undefined
  readonly password2: Password | undefined
  readonly password3: Password | undefined
  /** The server's greeting offered TLS: a refusal over plaintext may then be a REQUIRE SSL account. */
  readonly serverOffersTls?: boolean
}

/**
 * The auth exchange after the handshake response (or COM_CHANGE_USER): switch, more data, next
 * factor, until OK. Yields the status flags of the final OK.
 */
export const authenticate = Effect.fnUntraced(function* (
  wire: Wire,
  login: Login,
  context: Authentication.AuthContext,
  capabilities: CapabilitySet,
  first: Authentication.PluginSession,
  flavor: ServerVersion["flavor"]
) {
  const factors: ReadonlyArray<Password | undefined> = [login.password2, login.password3]
  // Each factor's password is taken once: a password given as an Effect (a short-lived token) is
  // asked for once per login, however often the server switches plugins.
  const texts = new Map<number, string>()
  const textOf = (factor: number) => {
    const known = texts.get(factor)
    if (known !== undefined) return Effect.succeed(known)
    return Effect.tap(passwordText(factor === 0 ? login.password : factors[factor - 1], login.user), (text) =>
      Effect.sync(() => texts.set(factor, text))
    )
  }
  let session = first
  let factor = 0
  while (true) {
    const payload = yield* wire.nextPayload
    const message = yield* Effect.fromResult(decodeAuthPhasePacket(payload, capabilities))
    switch (message._tag) {
      case "OkPacket":
        return message.statusFlags
      case "ErrPacket":
        return yield* serverError(message, flavor, undefined, {
          user: login.user,
          plugin: session.plugin,
          tls: context.tls,
          serverOffersTls: login.serverOffersTls ?? false
        })
      case "AuthSwitchRequest": {
        const password = yield* textOf(factor)
        session = yield* Authentication.start(context, message.pluginName, password, message.pluginData)
        const data = yield* session.initial
        yield* wire.send(yield* Effect.fromResult(AuthSwitchResponse.encode({ data }, capabilities)))
        break
      }
      case "AuthMoreData": {
        const step = yield* session.more(message.data)
        if ("send" in step) yield* wire.send(step.send)
        break
      }
      case "AuthNextFactor": {
        factor++
        if (factor > factors.length || factors[factor - 1] === undefined) {
          return yield* new AuthenticationError({
            user: login.user,
            plugin: message.pluginName,
            message: `the account needs authentication factor ${factor + 1} (${message.pluginName}): give password${factor + 1}`
          })
        }
        const password = yield* textOf(factor)
        session = yield* Authentication.start(context, message.pluginName, password, message.pluginData)
        yield* wire.send(yield* session.initial)
        break
      }
    }
  }
})

/**
 * The plugin of the first auth response. A server plugin we do not know gets a
 * mysql_native_password answer; the server then switches to a plugin of its choice, which is
 * vetted like any other.
 */
export const firstPlugin = Effect.fnUntraced(function* (
  context: Authentication.AuthContext,
  serverPlugin: string,
  password: Password | undefined,
  nonce: Uint8Array
) {
  const text = yield* passwordText(password, context.user)
  return yield* Authentication.start(context, serverPlugin, text, nonce).pipe(
    Effect.catchTag("AuthenticationError", (error) =>
      error.plugin === serverPlugin && serverPlugin !== "mysql_old_password"
        ? Authentication.start(context, MysqlNativePassword.pluginName, text, nonce)
        : Effect.fail(error)
    )
  )
})

/** Connects and runs the connection phase; the transport connection belongs to the scope. */
export const handshake = Effect.fnUntraced(function* (
  options: ResolvedOptions
): Effect.fn.Return<Session, MysqlError, Transport | CompressionCodecs | Scope.Scope> {
  const transport = yield* Transport
  const connectDeadline = Duration.fromInputUnsafe(options.connectTimeout)
  return yield* Effect.gen(function* () {
    const connection = yield* transport.connect(options.endpoint, {
      connectTimeout: connectDeadline,
      keepAlive:
        options.keepAlive === undefined || options.keepAlive === false
          ? options.keepAlive
          : { initialDelay: options.keepAlive },
      busyPoll: options.busyPoll
    })
    const wire = new Wire(
      connection,
      options.maxPacketSize,
      options.readTimeout === undefined ? undefined : { timeout: options.readTimeout }
    )

    // Greeting [sequence 0]. A server that refuses us at once (too many connections, blocked host)
    // sends an ERR packet instead.
    const greeting = yield* Effect.fromResult(decodeGreeting(yield* wire.nextPayload))
    if ("errorCode" in greeting) return yield* serverError(greeting, undefined, undefined, undefined)
    const serverVersion = parseServerVersion(greeting.serverVersion)
    const serverCaps = makeCapabilitySet(greeting.capabilities, greeting.mariadbCapabilities ?? 0)
    if (!hasFlag(serverCaps.capabilities, Capability.CLIENT_PROTOCOL_41)) {
      return yield* new AuthenticationError({
        user: options.user,
        message: "the server does not speak protocol 4.1 (CLIENT_PROTOCOL_41): it is too old for this client"
      })
    }

    // ssl-mode decides before anything about the user is written.
    const decision = yield* Effect.fromResult(
      SslPolicy.decide(options.ssl, hasFlag(serverCaps.capabilities, Capability.CLIENT_SSL))
    )
    if (decision === "plaintext" && options.ssl.mode === "preferred") yield* plaintextFallback(options.endpoint)
    const compression =
      options.compression === undefined
        ? undefined
        : yield* Effect.fromResult(negotiate(serverCaps.capabilities, options.compression))

    // MariaDB clears CLIENT_MYSQL to announce its extended capabilities; we answer in kind.
    const mariadb = !hasFlag(serverCaps.capabilities, Capability.CLIENT_MYSQL)
    const mariadbCapabilities = mariadb ? (wantedMariaDb & serverCaps.mariadbCapabilities) >>> 0 : 0
    const capabilities =
      ((wanted(options) & serverCaps.capabilities & (mariadb ? ~Capability.CLIENT_MYSQL : ~0)) |
        (compression?.clientFlags ?? 0) |
        (decision === "tls" ? Capability.CLIENT_SSL : 0)) >>>
      0

    let tls: TlsInfo | undefined
    if (decision === "tls" && options.ssl.mode !== "disabled") {
      // The server says nothing between its greeting and TLS: whatever came with the greeting or
      // after it was written by someone else, and must not be read as if TLS had vouched for it.
      // The transport refuses what arrives later and is still unread when the upgrade starts.
      if (wire.hasBuffered) return yield* plaintextInjected()
      const request = sslRequestFor({
        capabilities,
        maxPacketSize: options.maxPacketSize,
        characterSet: options.collation,
        ...(mariadb ? { mariadbCapabilities } : {}),
        username: "",
        authResponse: new Uint8Array(0)
      })
      yield* wire.send(yield* Effect.fromResult(SslRequest.encode(request)))
      tls = yield* connection.upgradeTls(options.ssl.tls)
    }
    const capabilitySet = makeCapabilitySet(capabilities, mariadbCapabilities)

    const context: Authentication.AuthContext = {
      user: options.user,
      tls: tls !== undefined,
      channel: Authentication.channelOf(tls, options.endpoint._tag === "Unix"),
      serverPublicKey: options.serverPublicKey,
      allowPublicKeyRetrieval: options.allowPublicKeyRetrieval,
      allowCleartextPasswords: options.allowCleartextPasswords
    }
    const serverPlugin = greeting.authPluginName ?? MysqlNativePassword.pluginName
    // Taken once for the first answer and any auth switch after it (see `authenticate`).
    const password = yield* passwordText(options.password, options.user)
    const session = yield* firstPlugin(context, serverPlugin, password, greeting.authPluginData)
    const authResponse = yield* session.initial
    const response = yield* Effect.fromResult(
      HandshakeResponse41.encode({
        capabilities,
        maxPacketSize: options.maxPacketSize,
        characterSet: options.collation,
        ...(mariadb ? { mariadbCapabilities } : {}),
        username: options.user,
        authResponse,
        ...(options.database === undefined ? {} : { database: options.database }),
        authPluginName: session.plugin,
        ...(hasFlag(capabilities, Capability.CLIENT_CONNECT_ATTRS)
          ? { connectAttributes: connectAttributes(options) }
          : {}),
        ...(compression?.zstdCompressionLevel === undefined
          ? {}
          : { zstdCompressionLevel: compression.zstdCompressionLevel })
      })
    )
    yield* wire.send(response)
    const statusFlags = yield* authenticate(
      wire,
      {
        user: options.user,
        password,
        password2: options.password2,
        password3: options.password3,
        serverOffersTls: hasFlag(serverCaps.capabilities, Capability.CLIENT_SSL)
      },
      context,
      capabilitySet,
      session,
      serverVersion.flavor
    )

    // Compression starts after the final OK, both ways.
    let compressionInfo: CompressedConnection.CompressionInfo | undefined
    if (compression !== undefined && compression.algorithm !== "uncompressed") {
      const codecs = yield* CompressionCodecs
      wire.compress(codecs.make(compression.algorithm, compression.level))
      compressionInfo = { algorithm: compression.algorithm, level: compression.level }
    }
    return {
      wire,
      transport: connection,
      connectionId: greeting.connectionId,
      serverVersion,
      capabilities: capabilitySet,
      tls,
      compression: compressionInfo,
      statusFlags,
      scramble: greeting.authPluginData,
      serverPlugin,
      authContext: context
    } satisfies Session
  }).pipe(
    Effect.timeoutOrElse({
      duration: connectDeadline,
      orElse: () => Effect.fail(connectTimeout(connectDeadline))
    })
  )
})

/** Under ssl-mode preferred, a server without TLS gets the login in plaintext: a person should know. */
const plaintextFallback = (endpoint: Endpoint.Endpoint) =>
  Effect.logWarning(
    "the server offers no TLS: ssl-mode preferred goes on in plaintext, login included (set ssl.mode required or stricter to refuse)"
  ).pipe(Effect.annotateLogs({ server: Endpoint.format(endpoint) }))

const plaintextInjected = () =>
  new TlsError({
    reason: "handshake-failed",
    message:
      "plaintext was injected before TLS: bytes arrived after the server's greeting and before the TLS upgrade, where a server sends nothing; refusing the connection (something between client and server is tampering with it)"
  })

const connectTimeout = (deadline: Duration.Duration) =>
  new TimeoutError({
    operation: "connect",
    timeoutMillis: Duration.toMillis(deadline),
    message: `the server did not complete the handshake within ${Duration.format(deadline)} (connectTimeout)`
  })
