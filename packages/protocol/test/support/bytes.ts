// Hex helpers and Result unwrapping for the packet tests.
import { Result } from "effect"

/** Lower-case hex of `bytes`, no separators. */
export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

/** Bytes of a hex string; whitespace is ignored. */
export const fromHex = (text: string): Uint8Array => {
  const clean = text.replace(/\s+/g, "")
  const out = new Uint8Array(clean.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16)
  return out
}

/** The success of `result`, or a thrown Error naming the failure (test code only). */
export const ok = <A, E>(result: Result.Result<A, E>): A => {
  if (Result.isFailure(result)) throw new Error(`expected success, got ${JSON.stringify(result.failure)}`)
  return result.success
}

/** The failure of `result`, or a thrown Error (test code only). */
export const err = <A, E>(result: Result.Result<A, E>): E => {
  if (Result.isSuccess(result)) throw new Error(`expected failure, got ${String(result.success)}`)
  return result.failure
}
