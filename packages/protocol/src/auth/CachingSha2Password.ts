/**
 * caching_sha2_password: MySQL 8's default authentication plugin.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html
 *        https://dev.mysql.com/doc/refman/8.4/en/caching-sha2-pluggable-authentication.html
 *
 * Fast path (the server has the account in its cache):
 *   client sends  SHA256(password) XOR SHA256(SHA256(SHA256(password)) <concat> nonce)   [32 bytes]
 *   server caches SHA256(SHA256(password))
 *   server answers AuthMoreData [0x03] (fast auth success) then OK,
 *             or  AuthMoreData [0x04] (perform full authentication).
 * Full authentication:
 *   secure channel (TLS or Unix socket): password <concat> NUL, in clear;
 *   plaintext channel: RSA-OAEP(SHA-1) of ((password <concat> NUL) XOR nonce), with the server's
 *   public key (configured on the client, or fetched by sending [0x02]).
 *
 * Pure functions over WebCrypto; no IO.
 */
import { Effect } from "effect"
import { concatBytes } from "../Bytes.ts"
import type { ProtocolError } from "../ProtocolError.ts"
import { digest, passwordBytes, timingSafeEqual, xorCyclic } from "./internal/crypto.ts"
import { rsaEncrypt } from "./internal/rsa.ts"

export const pluginName = "caching_sha2_password"

/** Length of the server's nonce (without the trailing NUL an AuthSwitchRequest adds). */
export const NONCE_LENGTH = 20

/** Client → server during full authentication: "send me your RSA public key". */
export const REQUEST_PUBLIC_KEY = 0x02
/** Server → client AuthMoreData status: the scramble matched the cache, OK follows. */
export const FAST_AUTH_SUCCESS = 0x03
/** Server → client AuthMoreData status: not in the cache, send the password. */
export const PERFORM_FULL_AUTHENTICATION = 0x04

const nonceOf = (nonce: Uint8Array): Uint8Array =>
  nonce.length > NONCE_LENGTH ? nonce.subarray(0, NONCE_LENGTH) : nonce

/** The fast-path auth response for `password` and the server's `nonce` (empty for an empty password). */
export const scramble = (
  password: string | Uint8Array,
  nonce: Uint8Array
): Effect.Effect<Uint8Array, ProtocolError> => {
  const pw = passwordBytes(password)
  if (pw.length === 0) return Effect.succeed(new Uint8Array(0))
  return Effect.gen(function* () {
    const stage1 = yield* digest(pluginName, "SHA-256", pw)
    const stage2 = yield* digest(pluginName, "SHA-256", stage1)
    const mask = yield* digest(pluginName, "SHA-256", stage2, nonceOf(nonce))
    return xorCyclic(stage1, mask)
  })
}

/** Full authentication over a secure channel (TLS, Unix socket, shared memory): password <concat> NUL. */
export const fullAuthSecure = (password: string | Uint8Array): Uint8Array =>
  concatBytes([passwordBytes(password), Uint8Array.of(0)])

/**
 * Full authentication over a plaintext channel: RSA-OAEP (SHA-1) encryption of
 * (password <concat> NUL) XOR nonce with the server's PEM public key.
 */
export const fullAuthRsa = (
  password: string | Uint8Array,
  nonce: Uint8Array,
  publicKeyPem: string | Uint8Array
): Effect.Effect<Uint8Array, ProtocolError> =>
  rsaEncrypt(pluginName, xorCyclic(fullAuthSecure(password), nonceOf(nonce)), publicKeyPem, "oaep")

/** What a server caches for `password` after a full authentication: SHA256(SHA256(password)). */
export const cacheEntry = (password: string | Uint8Array): Effect.Effect<Uint8Array, ProtocolError> =>
  Effect.flatMap(digest(pluginName, "SHA-256", passwordBytes(password)), (stage1) =>
    digest(pluginName, "SHA-256", stage1)
  )

/**
 * Server side, fast path: does `response` to `nonce` match the cached SHA256(SHA256(password))?
 * An empty response matches only the empty password's cache entry.
 */
export const verify = (options: {
  readonly nonce: Uint8Array
  readonly response: Uint8Array
  readonly cacheEntry: Uint8Array
}): Effect.Effect<boolean, ProtocolError> => {
  const { response, cacheEntry } = options
  if (cacheEntry.length !== 32) return Effect.succeed(false)
  return Effect.gen(function* () {
    if (response.length === 0) return timingSafeEqual(cacheEntry, yield* emptyCacheEntry)
    if (response.length !== 32) return false
    const mask = yield* digest(pluginName, "SHA-256", cacheEntry, nonceOf(options.nonce))
    const stage1 = xorCyclic(response, mask)
    const candidate = yield* digest(pluginName, "SHA-256", stage1)
    return timingSafeEqual(candidate, cacheEntry)
  })
}

const emptyCacheEntry = cacheEntry(new Uint8Array(0))
