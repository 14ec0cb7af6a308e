/**
 * mysql_native_password: the SHA-1 challenge-response of MySQL 4.1+ and MariaDB.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods_native_password_authentication.html
 * MariaDB: https://mariadb.com/kb/en/connection/#mysql_native_password-plugin
 *
 *   client sends  SHA1(password) XOR SHA1(nonce <concat> SHA1(SHA1(password)))   [20 bytes]
 *   server stores SHA1(SHA1(password))                                            [20 bytes]
 *
 * An empty password is sent as an empty response. Pure functions over WebCrypto; no IO.
 */
import { Effect } from "effect"
import type { ProtocolError } from "../ProtocolError.ts"
import { digest, passwordBytes, timingSafeEqual, xorCyclic } from "./internal/crypto.ts"

export const pluginName = "mysql_native_password"

/** Length of the server's nonce (auth-plugin-data, part 1 + part 2 without the trailing NUL). */
export const NONCE_LENGTH = 20

/** The nonce as the plugin uses it: at most 20 bytes (an AuthSwitchRequest adds a trailing NUL). */
const nonceOf = (nonce: Uint8Array): Uint8Array =>
  nonce.length > NONCE_LENGTH ? nonce.subarray(0, NONCE_LENGTH) : nonce

/** The client's auth response for `password` and the server's 20-byte `nonce`. */
export const scramble = (
  password: string | Uint8Array,
  nonce: Uint8Array
): Effect.Effect<Uint8Array, ProtocolError> => {
  const pw = passwordBytes(password)
  if (pw.length === 0) return Effect.succeed(new Uint8Array(0))
  return Effect.gen(function* () {
    const stage1 = yield* digest(pluginName, "SHA-1", pw)
    const stage2 = yield* digest(pluginName, "SHA-1", stage1)
    const mask = yield* digest(pluginName, "SHA-1", nonceOf(nonce), stage2)
    return xorCyclic(stage1, mask)
  })
}

/** What a server stores for `password`: SHA1(SHA1(password)), or empty for an empty password. */
export const storedHash = (password: string | Uint8Array): Effect.Effect<Uint8Array, ProtocolError> => {
  const pw = passwordBytes(password)
  if (pw.length === 0) return Effect.succeed(new Uint8Array(0))
  return Effect.flatMap(digest(pluginName, "SHA-1", pw), (stage1) => digest(pluginName, "SHA-1", stage1))
}

/**
 * Server side: does the client's `response` to `nonce` prove knowledge of the password whose
 * `storedHash` the server keeps? An empty stored hash accepts only an empty response.
 */
export const verify = (options: {
  readonly nonce: Uint8Array
  readonly response: Uint8Array
  readonly storedHash: Uint8Array
}): Effect.Effect<boolean, ProtocolError> => {
  const { response, storedHash } = options
  if (storedHash.length === 0) return Effect.succeed(response.length === 0)
  if (response.length !== 20 || storedHash.length !== 20) return Effect.succeed(false)
  return Effect.gen(function* () {
    const mask = yield* digest(pluginName, "SHA-1", nonceOf(options.nonce), storedHash)
    const stage1 = xorCyclic(response, mask)
    const candidate = yield* digest(pluginName, "SHA-1", stage1)
    return timingSafeEqual(candidate, storedHash)
  })
}
