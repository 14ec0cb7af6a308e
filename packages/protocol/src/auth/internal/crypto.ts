/**
 * Small helpers over WebCrypto (`globalThis.crypto.subtle`, present on Node, Deno, Bun and in
 * browsers) shared by the authentication plugins. Not public.
 *
 * Every helper returns an Effect that fails with a `ProtocolError` naming the plugin, so the
 * plugins never throw and never leak a rejected promise.
 */
import { Effect } from "effect"
import { type ProtocolError, protocolError } from "../../ProtocolError.ts"

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
  Effect.tryPromise({
    try: () => globalThis.crypto.subtle.digest(algorithm, concat(parts) as Uint8Array<ArrayBuffer>),
    catch: (cause) => protocolError(plugin, `${algorithm} digest failed: ${String(cause)}`)
  }).pipe(Effect.map((buffer) => new Uint8Array(buffer)))

/** Concatenation of byte arrays into a fresh array. */
export const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
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
