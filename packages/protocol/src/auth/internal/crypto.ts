/**
 * Small helpers shared by the authentication plugins. Not public.
 *
 * Digests come from @noble/hashes, synchronously. WebCrypto's `digest` is asynchronous: on Node
 * each call is a trip to the thread pool and back, 40–70 µs on the benchmark machine, and a
 * mysql_native_password login takes three of them in a row; @noble/hashes computes the same
 * digest of a few dozen bytes in 1–2 µs on every runtime. (RSA stays on WebCrypto.)
 *
 * Every helper returns an Effect that fails with a `ProtocolError` naming the plugin, so the
 * plugins never throw.
 */
import { sha1 } from "@noble/hashes/legacy.js"
import { sha256, sha512 } from "@noble/hashes/sha2.js"
import { Effect } from "effect"
import { concatBytes } from "../../Bytes.ts"
import { encodeError, type ProtocolError } from "../../ProtocolError.ts"

const encoder = new TextEncoder()

/** A password as bytes: strings are UTF-8 encoded (what MySQL and MariaDB clients send for utf8mb4). */
export const passwordBytes = (password: string | Uint8Array): Uint8Array =>
  typeof password === "string" ? encoder.encode(password) : password

export type DigestAlgorithm = "SHA-1" | "SHA-256" | "SHA-512"

/** Digest of the concatenation of `parts`. */
export const digest = (
  plugin: string,
  algorithm: DigestAlgorithm,
  ...parts: ReadonlyArray<Uint8Array>
): Effect.Effect<Uint8Array, ProtocolError> =>
  Effect.try({
    try: () => hashes[algorithm](concatBytes(parts)),
    catch: (cause) => encodeError(plugin, `${algorithm} digest failed: ${String(cause)}`)
  })

const hashes: Record<DigestAlgorithm, (bytes: Uint8Array) => Uint8Array> = {
  "SHA-1": sha1,
  "SHA-256": sha256,
  "SHA-512": sha512
}

/** `a XOR b` over the length of `a`, with `b` repeated as often as needed (as the servers do). */
export const xorCyclic = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length)
  if (b.length === 0) {
    out.set(a)
    return out
  }
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i % b.length]
  return out
}

/** Constant-time comparison of two byte arrays (length is not secret). */
export const timingSafeEqual = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i]
  return diff === 0
}
