/**
 * Byte strings put together: the one helper the codecs, the test servers and the tests all need.
 *
 * Pure code; no IO.
 *
 * @module
 */

/** The concatenation of `parts` in a fresh array. */
export const concatBytes = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
