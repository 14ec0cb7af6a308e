/**
 * client_ed25519: MariaDB's Ed25519 authentication plugin (server plugin `ed25519`).
 *
 * MariaDB: https://mariadb.com/kb/en/authentication-plugin-ed25519/
 *          https://mariadb.com/kb/en/connection/#client_ed25519-plugin
 *
 * The server sends a 32-byte nonce; the client answers with a standard Ed25519 signature (RFC
 * 8032 §5.1.6) of that nonce, except that the 64-byte hash that normally comes from the 32-byte
 * seed is SHA-512 of the password (of any length):
 *
 *   h = SHA-512(password); s = clamp(h[0..32]) as a little-endian scalar; prefix = h[32..64]
 *   A = s·B (the public key the server stores, base64 in mysql.global_priv)
 *   r = SHA-512(prefix <concat> nonce) mod L;  R = r·B
 *   k = SHA-512(R <concat> A <concat> nonce) mod L;  S = (r + k·s) mod L
 *   signature = R <concat> S   [64 bytes]
 *
 * The nonce is the AuthSwitchRequest's plugin data as is: exactly 32 bytes, with no trailing NUL
 * (unlike the 20-byte scrambles; never strip a final 0x00, it is part of the nonce 1 time in 256).
 *
 * @noble/curves' `sign()` wants the 32-byte seed, so its point arithmetic is used directly.
 * Pure functions over WebCrypto (SHA-512) and @noble/curves; no IO.
 */
import { ed25519 } from "@noble/curves/ed25519.js"
import { Effect } from "effect"
import type { ProtocolError } from "../ProtocolError.ts"
import { digest, passwordBytes } from "./internal/crypto.ts"

export const pluginName = "client_ed25519"

/** Length of the server's nonce. */
export const NONCE_LENGTH = 32

const L = ed25519.Point.Fn.ORDER

const bytesToBigIntLE = (bytes: Uint8Array): bigint => {
  let n = 0n
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i])
  return n
}

const bigIntToBytesLE = (n: bigint, length: number): Uint8Array => {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}

interface Secret {
  /** The clamped scalar reduced mod L (same point, same signature). */
  readonly scalar: bigint
  readonly prefix: Uint8Array
  readonly publicKey: Uint8Array
}

const secretOf = (password: string | Uint8Array): Effect.Effect<Secret, ProtocolError> =>
  Effect.map(digest(pluginName, "SHA-512", passwordBytes(password)), (h) => {
    const head = h.slice(0, 32)
    head[0] &= 248
    head[31] &= 127
    head[31] |= 64
    const scalar = bytesToBigIntLE(head) % L
    return { scalar, prefix: h.subarray(32, 64), publicKey: ed25519.Point.BASE.multiply(scalar).toBytes() }
  })

/** The public key a server stores for `password` [32 bytes]. */
export const publicKey = (password: string | Uint8Array): Effect.Effect<Uint8Array, ProtocolError> =>
  Effect.map(secretOf(password), (secret) => secret.publicKey)

/** The client's answer to the server's `nonce`: an Ed25519 signature [64 bytes]. */
export const sign = (password: string | Uint8Array, nonce: Uint8Array): Effect.Effect<Uint8Array, ProtocolError> =>
  Effect.gen(function* () {
    const secret = yield* secretOf(password)
    const r = bytesToBigIntLE(yield* digest(pluginName, "SHA-512", secret.prefix, nonce)) % L
    // r is 0 with negligible probability; multiply() rejects 0, the identity encodes R.
    const R = r === 0n ? ed25519.Point.ZERO.toBytes() : ed25519.Point.BASE.multiply(r).toBytes()
    const k = bytesToBigIntLE(yield* digest(pluginName, "SHA-512", R, secret.publicKey, nonce)) % L
    const S = (r + k * secret.scalar) % L
    const signature = new Uint8Array(64)
    signature.set(R, 0)
    signature.set(bigIntToBytesLE(S, 32), 32)
    return signature
  })

/**
 * Server side: is `signature` a valid signature of `nonce` under the stored `publicKey`?
 * (RFC 8032 verification with @noble/curves; any malformed input is simply `false`.)
 */
export const verify = (options: {
  readonly nonce: Uint8Array
  readonly signature: Uint8Array
  readonly publicKey: Uint8Array
}): Effect.Effect<boolean, ProtocolError> => {
  if (options.signature.length !== 64 || options.publicKey.length !== 32) return Effect.succeed(false)
  try {
    return Effect.succeed(ed25519.verify(options.signature, options.nonce, options.publicKey, { zip215: false }))
  } catch {
    return Effect.succeed(false)
  }
}
