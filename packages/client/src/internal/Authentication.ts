/**
 * The client side of each authentication plugin: the first answer to the server's nonce, and what
 * to do with the plugin's further messages (AuthMoreData). Every rule about when a password may
 * leave the client, and in which form, lives here. The password travels as itself only to a peer
 * that proved who it is (TLS with the chain or a pinned fingerprint checked) or over a Unix socket:
 *
 * - mysql_clear_password sends the password as it is, and only when the caller set
 *   `allowCleartextPasswords` (as libmysqlclient asks for its own opt-in, even over TLS).
 * - caching_sha2_password's full authentication and sha256_password send the password as it is to
 *   a verified peer. Over TLS that verified nothing (preferred, required) an impostor with a
 *   certificate of its own would read it, and RSA is no way out: the server reads the answer as the
 *   password itself whenever the connection is encrypted. So it is refused there unless
 *   `allowCleartextPasswords` says the caller accepts that. Over plain TCP the password is
 *   RSA-encrypted with a key the caller gave or, only with `allowPublicKeyRetrieval`, one fetched
 *   from the server (which a man in the middle could answer).
 * - mysql_old_password and plugins we do not know are refused by name.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods.html
 * MariaDB: https://mariadb.com/kb/en/connection/#authentication-plugins
 */
import {
  CachingSha2Password,
  ClientEd25519,
  MysqlClearPassword,
  MysqlNativePassword,
  type ProtocolError,
  Sha256Password
} from "@effect-mysql/protocol"
import type { TlsInfo } from "@effect-mysql/transport"
import { Effect } from "effect"
import { AuthenticationError } from "../Errors.ts"

/** What the connection proves about the peer that will read a password. */
export type Channel =
  /** Plain TCP: anyone on the path reads and answers. */
  | "plaintext"
  /** TLS that checked no certificate (preferred, required): encrypted, to whoever answered. */
  | "unverified-tls"
  /** TLS with the chain or a pinned fingerprint checked, or a Unix socket. */
  | "verified"

export const channelOf = (tls: TlsInfo | undefined, unixSocket: boolean): Channel => {
  if (unixSocket) return "verified"
  if (tls === undefined) return "plaintext"
  return tls.verification.chain || tls.verification.fingerprint ? "verified" : "unverified-tls"
}

export interface AuthContext {
  readonly user: string
  /** TLS is up (for the hint when the server refuses a REQUIRE SSL account). */
  readonly tls: boolean
  readonly channel: Channel
  readonly serverPublicKey: string | undefined
  readonly allowPublicKeyRetrieval: boolean
  readonly allowCleartextPasswords: boolean
}

/** What a plugin wants after a message from the server: send bytes, or wait for the next packet. */
export type Step = { readonly send: Uint8Array } | { readonly wait: true }

/** One plugin's conversation for one password and nonce. */
export interface PluginSession {
  readonly plugin: string
  /** The auth response to the nonce. */
  readonly initial: Effect.Effect<Uint8Array, AuthenticationError | ProtocolError>
  /** The answer to an AuthMoreData packet's data. */
  readonly more: (data: Uint8Array) => Effect.Effect<Step, AuthenticationError | ProtocolError>
}

const refuse = (context: AuthContext, plugin: string, message: string) =>
  Effect.fail(new AuthenticationError({ user: context.user, plugin, message }))

const unexpected = (context: AuthContext, plugin: string) => () =>
  refuse(context, plugin, `the server sent ${plugin} data that plugin never sends: the server is confused or hostile`)

const wait: Step = { wait: true }

const send = (bytes: Uint8Array): Step => ({ send: bytes })

const retrievalHint =
  "give the server's RSA public key (serverPublicKey), use TLS, or, if you trust the network, set allowPublicKeyRetrieval: true"

const verifyHint =
  "verify the server (ssl.mode verify-identity with ssl.ca, verify-ca, or ssl.fingerprints) or connect over a Unix socket"

const where: Record<Channel, string> = {
  plaintext: "an unencrypted connection",
  "unverified-tls": "TLS that verified no certificate (ssl.mode preferred or required)",
  verified: "a verified connection"
}

/**
 * Refuses to send the password itself over TLS that verified nothing; the caller's
 * `allowCleartextPasswords` accepts it.
 */
const refuseUnverified = (context: AuthContext, plugin: string, what: string) =>
  refuse(
    context,
    plugin,
    `${what} asks for the password itself, over ${where["unverified-tls"]}, where an impostor with a certificate of its own would read it: ${verifyHint}, or set allowCleartextPasswords: true to send it anyway (inside TLS the server takes no RSA-encrypted password, so serverPublicKey cannot help)`
  )

const nativePassword = (context: AuthContext, password: string, nonce: Uint8Array): PluginSession => ({
  plugin: MysqlNativePassword.pluginName,
  initial: MysqlNativePassword.scramble(password, nonce),
  more: unexpected(context, MysqlNativePassword.pluginName)
})

const clearPassword = (context: AuthContext, password: string): PluginSession => {
  const plugin = MysqlClearPassword.pluginName
  return {
    plugin,
    initial: context.allowCleartextPasswords
      ? Effect.succeed(MysqlClearPassword.response(password))
      : refuse(
          context,
          plugin,
          `the server asked for the password in the clear (mysql_clear_password) over ${where[context.channel]}: this plugin needs allowCleartextPasswords: true${context.channel === "verified" ? "" : `, and should have a verified peer: ${verifyHint}`}`
        ),
    more: unexpected(context, plugin)
  }
}

const ed25519 = (context: AuthContext, password: string, nonce: Uint8Array): PluginSession => ({
  plugin: ClientEd25519.pluginName,
  initial: ClientEd25519.sign(password, nonce),
  more: unexpected(context, ClientEd25519.pluginName)
})

/** Fetches or takes the server's RSA key, then answers with the encrypted password. */
const rsaExchange = (
  context: AuthContext,
  plugin: string,
  requestKey: number,
  encrypt: (pem: string) => Effect.Effect<Uint8Array, ProtocolError>
) => {
  let awaitingKey = false
  const start = Effect.suspend((): Effect.Effect<Step, AuthenticationError | ProtocolError> => {
    if (context.serverPublicKey !== undefined) return Effect.map(encrypt(context.serverPublicKey), send)
    if (!context.allowPublicKeyRetrieval)
      return refuse(
        context,
        plugin,
        `the password must be RSA-encrypted over this unencrypted connection: ${retrievalHint}`
      )
    awaitingKey = true
    return Effect.succeed(send(Uint8Array.of(requestKey)))
  })
  const onKey = (data: Uint8Array): Effect.Effect<Step, AuthenticationError | ProtocolError> => {
    if (!awaitingKey) return unexpected(context, plugin)()
    awaitingKey = false
    return Effect.map(encrypt(new TextDecoder().decode(data)), send)
  }
  return { start, onKey }
}

const cachingSha2 = (context: AuthContext, password: string, nonce: Uint8Array): PluginSession => {
  const plugin = CachingSha2Password.pluginName
  const rsa = rsaExchange(context, plugin, CachingSha2Password.REQUEST_PUBLIC_KEY, (pem) =>
    CachingSha2Password.fullAuthRsa(password, nonce, pem)
  )
  let fullAuthentication = false
  return {
    plugin,
    initial: CachingSha2Password.scramble(password, nonce),
    more: (data) => {
      if (fullAuthentication) return rsa.onKey(data)
      if (data.length === 1 && data[0] === CachingSha2Password.FAST_AUTH_SUCCESS) return Effect.succeed(wait)
      if (data.length === 1 && data[0] === CachingSha2Password.PERFORM_FULL_AUTHENTICATION) {
        fullAuthentication = true
        if (context.channel === "plaintext") return rsa.start
        if (context.channel === "verified" || context.allowCleartextPasswords)
          return Effect.succeed(send(CachingSha2Password.fullAuthSecure(password)))
        return refuseUnverified(context, plugin, "caching_sha2_password's full authentication")
      }
      return unexpected(context, plugin)()
    }
  }
}

const sha256 = (context: AuthContext, password: string, nonce: Uint8Array): PluginSession => {
  const plugin = Sha256Password.pluginName
  const rsa = rsaExchange(context, plugin, Sha256Password.REQUEST_PUBLIC_KEY, (pem) =>
    Sha256Password.encryptPassword(password, nonce, pem)
  )
  return {
    plugin,
    initial: Effect.suspend((): Effect.Effect<Uint8Array, AuthenticationError | ProtocolError> => {
      if (password === "") return Effect.succeed(Uint8Array.of(0))
      if (context.channel === "unverified-tls" && !context.allowCleartextPasswords)
        return refuseUnverified(context, plugin, "sha256_password")
      if (context.channel !== "plaintext") return Effect.succeed(Sha256Password.secureResponse(password))
      return Effect.flatMap(rsa.start, (step) =>
        "send" in step ? Effect.succeed(step.send) : unexpected(context, plugin)()
      )
    }),
    more: rsa.onKey
  }
}

/**
 * The conversation of `plugin`; unknown and insecure plugins are refused by name. `nonce` is the
 * plugin data as sent: the 20-byte-scramble plugins ignore the NUL an auth switch appends, while
 * client_ed25519's 32-byte nonce may itself end in a zero byte.
 */
export const start = (
  context: AuthContext,
  plugin: string,
  password: string,
  nonce: Uint8Array
): Effect.Effect<PluginSession, AuthenticationError> => {
  switch (plugin) {
    case MysqlNativePassword.pluginName:
      return Effect.succeed(nativePassword(context, password, nonce))
    case CachingSha2Password.pluginName:
      return Effect.succeed(cachingSha2(context, password, nonce))
    case Sha256Password.pluginName:
      return Effect.succeed(sha256(context, password, nonce))
    case MysqlClearPassword.pluginName:
      return Effect.succeed(clearPassword(context, password))
    case ClientEd25519.pluginName:
      return Effect.succeed(ed25519(context, password, nonce))
    case "mysql_old_password":
      return refuse(
        context,
        plugin,
        "the server asked for mysql_old_password, the pre-4.1 hash that is broken and unsupported: give the account a current plugin (ALTER USER … IDENTIFIED WITH mysql_native_password or caching_sha2_password)"
      )
    default:
      return refuse(
        context,
        plugin,
        `the server asked for the authentication plugin "${plugin}", which this client does not support`
      )
  }
}
