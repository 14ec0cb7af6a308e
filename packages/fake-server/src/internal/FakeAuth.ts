/**
 * The server side of each authentication plugin, as a MySQL 8 or MariaDB server runs it, built on
 * the protocol package's verifiers. One factor is one conversation: an auth switch when the client
 * answered with another plugin (or the scenario forces one), the plugin's exchange, and a verdict.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods.html
 *        https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html
 */
import type { webcrypto } from "node:crypto"
import {
  AuthMoreData,
  AuthNextFactor,
  AuthSwitchRequest,
  CachingSha2Password,
  ClientEd25519,
  MysqlClearPassword,
  MysqlNativePassword,
  type ProtocolError,
  Sha256Password
} from "@effect-mysql/protocol"
import { HarnessError } from "@effect-mysql/testing"
import { Effect, Result } from "effect"

/** An RSA key pair for caching_sha2_password and sha256_password over plaintext connections. */
export interface RsaKeyPair {
  /** The public key as the server sends it: PEM SubjectPublicKeyInfo. */
  readonly publicKeyPem: string
  readonly privateKey: webcrypto.CryptoKey
}

const pem = (der: Uint8Array): string => {
  let binary = ""
  for (const byte of der) binary += String.fromCharCode(byte)
  const lines = btoa(binary).match(/.{1,64}/g) ?? []
  return `-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----\n`
}

/** A fresh 2048-bit RSA-OAEP (SHA-1) key pair, the padding MySQL 8 decrypts passwords with. */
export const generateRsaKeyPair: Effect.Effect<RsaKeyPair, HarnessError> = Effect.tryPromise({
  try: async () => {
    const keys = await crypto.subtle.generateKey(
      { name: "RSA-OAEP", modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1), hash: "SHA-1" },
      true,
      ["encrypt", "decrypt"]
    )
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey))
    return { publicKeyPem: pem(spki), privateKey: keys.privateKey }
  },
  catch: (cause) => new HarnessError({ message: "cannot generate an RSA key pair with WebCrypto", cause })
})

/** What a conversation needs of the connection and the server. */
export interface AuthIo {
  readonly user: string
  /** The greeting's 20-byte scramble. */
  readonly nonce: Uint8Array
  /** TLS is up: the plugins that send the password may send it as it is. */
  readonly secure: boolean
  readonly rsa: RsaKeyPair | undefined
  /** caching_sha2_password's fast-auth cache: `cacheKey(user, factor)` → SHA256(SHA256(password)). */
  readonly cache: Map<string, Uint8Array>
  readonly send: (payload: Uint8Array) => Effect.Effect<void, HarnessError>
  /** The payload of the client's next packet. */
  readonly next: Effect.Effect<Uint8Array, HarnessError>
}

/** The fast-auth cache's key of one factor of one account (each factor has its own password). */
export const cacheKey = (user: string, factor: number): string => `${user}#${factor}`

/** One authentication factor of an account: its plugin and password. */
export interface Factor {
  readonly plugin: string
  readonly password: string
}

const encoder = new TextEncoder()

const check = <A>(result: Result.Result<A, ProtocolError>): Effect.Effect<A, HarnessError> =>
  Result.isSuccess(result)
    ? Effect.succeed(result.success)
    : Effect.fail(new HarnessError({ message: `the fake server cannot encode: ${result.failure.message}` }))

const protocol = <A>(effect: Effect.Effect<A, ProtocolError>): Effect.Effect<A, HarnessError> =>
  Effect.mapError(effect, (error) => new HarnessError({ message: error.message, cause: error }))

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

/** A password sent as it is: its bytes and a NUL. */
const isCleartext = (response: Uint8Array, password: string): boolean =>
  equalBytes(response, MysqlClearPassword.response(password))

const moreData = (io: AuthIo, data: Uint8Array) => Effect.flatMap(check(AuthMoreData.encode({ data })), io.send)

/** Decrypts an RSA-encrypted password ((password + NUL) XOR nonce) and compares it. */
const decryptsTo = (io: AuthIo, ciphertext: Uint8Array, password: string): Effect.Effect<boolean, HarnessError> => {
  const rsa = io.rsa
  if (rsa === undefined) return Effect.succeed(false)
  return Effect.tryPromise({
    try: () =>
      crypto.subtle.decrypt({ name: "RSA-OAEP" }, rsa.privateKey, ciphertext as Uint8Array<ArrayBuffer>).then(
        (plain) => {
          const bytes = new Uint8Array(plain)
          const nonce = io.nonce.subarray(0, 20)
          for (let i = 0; i < bytes.length; i++) bytes[i] ^= nonce[i % nonce.length]!
          return isCleartext(bytes, password)
        },
        () => false
      ),
    catch: (cause) => new HarnessError({ message: "RSA decryption failed", cause })
  })
}

/**
 * The password by RSA: the client either sent it encrypted with a key it had, or asked for ours
 * (`requestKey`) and then sent it.
 */
const rsaPassword = Effect.fnUntraced(function* (
  io: AuthIo,
  response: Uint8Array,
  requestKey: number,
  password: string
) {
  if (response.length === 1 && response[0] === requestKey) {
    if (io.rsa === undefined) return false
    yield* moreData(io, encoder.encode(io.rsa.publicKeyPem))
    return yield* decryptsTo(io, yield* io.next, password)
  }
  return yield* decryptsTo(io, response, password)
})

const cachingSha2 = Effect.fnUntraced(function* (io: AuthIo, response: Uint8Array, password: string, key: string) {
  const cached = io.cache.get(key)
  if (cached !== undefined) {
    const fast = yield* protocol(CachingSha2Password.verify({ nonce: io.nonce, response, cacheEntry: cached }))
    if (!fast) return false
    yield* moreData(io, Uint8Array.of(CachingSha2Password.FAST_AUTH_SUCCESS))
    return true
  }
  if (response.length === 0) return password === ""
  yield* moreData(io, Uint8Array.of(CachingSha2Password.PERFORM_FULL_AUTHENTICATION))
  const full = yield* io.next
  const accepted = io.secure
    ? isCleartext(full, password)
    : yield* rsaPassword(io, full, CachingSha2Password.REQUEST_PUBLIC_KEY, password)
  if (accepted) io.cache.set(key, yield* protocol(CachingSha2Password.cacheEntry(password)))
  return accepted
})

const sha256 = (io: AuthIo, response: Uint8Array, password: string): Effect.Effect<boolean, HarnessError> => {
  if (password === "") return Effect.succeed(response.length === 0 || equalBytes(response, Uint8Array.of(0)))
  if (io.secure && isCleartext(response, password)) return Effect.succeed(true)
  return rsaPassword(io, response, Sha256Password.REQUEST_PUBLIC_KEY, password)
}

/** The plugin's data in an auth switch or next-factor request: the scramble (+ NUL) most plugins use. */
const pluginData = (plugin: string, nonce: Uint8Array, edNonce: Uint8Array): Uint8Array => {
  if (plugin === MysqlClearPassword.pluginName) return new Uint8Array(0)
  if (plugin === ClientEd25519.pluginName) return edNonce
  const data = new Uint8Array(nonce.length + 1)
  data.set(nonce)
  return data
}

/** Checks the client's `response` with the server side of `plugin`. Unknown plugins never succeed. */
const verify = (
  io: AuthIo,
  plugin: string,
  response: Uint8Array,
  password: string,
  edNonce: Uint8Array,
  key: string
): Effect.Effect<boolean, HarnessError> => {
  switch (plugin) {
    case MysqlNativePassword.pluginName:
      return Effect.flatMap(protocol(MysqlNativePassword.storedHash(password)), (storedHash) =>
        protocol(MysqlNativePassword.verify({ nonce: io.nonce, response, storedHash }))
      )
    case CachingSha2Password.pluginName:
      return cachingSha2(io, response, password, key)
    case Sha256Password.pluginName:
      return sha256(io, response, password)
    case MysqlClearPassword.pluginName:
      return Effect.succeed(isCleartext(response, password))
    case ClientEd25519.pluginName:
      return Effect.flatMap(protocol(ClientEd25519.publicKey(password)), (publicKey) =>
        protocol(ClientEd25519.verify({ nonce: edNonce, signature: response, publicKey }))
      )
    default:
      return Effect.succeed(false)
  }
}

/** How a factor's conversation opens. */
export type Opening =
  /** The first factor: what the handshake response carried. */
  | {
      readonly _tag: "HandshakeResponse"
      readonly plugin: string
      readonly response: Uint8Array
      readonly forceSwitch: boolean
    }
  /** A later factor: the server asks for it with AuthNextFactor. */
  | { readonly _tag: "NextFactor" }

/** Runs one factor's conversation; answers whether the client proved the password. */
export const authenticateFactor = Effect.fnUntraced(function* (
  io: AuthIo,
  factor: Factor,
  index: number,
  opening: Opening
) {
  const edNonce = crypto.getRandomValues(new Uint8Array(ClientEd25519.NONCE_LENGTH))
  // ed25519 signs a 32-byte nonce of its own; every other plugin works on the greeting's scramble.
  const data = pluginData(factor.plugin, io.nonce, edNonce)
  let response: Uint8Array
  if (opening._tag === "NextFactor") {
    yield* io.send(yield* check(AuthNextFactor.encode({ pluginName: factor.plugin, pluginData: data })))
    response = yield* io.next
  } else if (opening.plugin !== factor.plugin || opening.forceSwitch || factor.plugin === ClientEd25519.pluginName) {
    yield* io.send(yield* check(AuthSwitchRequest.encode({ pluginName: factor.plugin, pluginData: data })))
    response = yield* io.next
  } else {
    response = opening.response
  }
  return yield* verify(io, factor.plugin, response, factor.password, edNonce, cacheKey(io.user, index))
})
