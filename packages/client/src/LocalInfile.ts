/**
 * LOAD DATA LOCAL INFILE: the server asks the client for a file by name, and a hostile server can
 * ask for any name (`/etc/passwd`). So the client answers only from sources its caller supplied,
 * and refuses every other request with an empty file, which keeps the connection usable.
 */
import type { Effect, Stream } from "effect"

export interface LocalInfileOptions {
  /**
   * Answers the server's request for `fileName` with the bytes to send, or `undefined` to refuse.
   * Called only for statements this client sent; the name is the server's, so check it.
   */
  readonly source: (fileName: string) => LocalInfileSource | undefined
}

/** What a LOCAL INFILE request is answered with. */
export type LocalInfileSource =
  | Uint8Array
  | string
  | Stream.Stream<Uint8Array, unknown>
  | Effect.Effect<Uint8Array, unknown>

/** Answers only the exact names in `files`, with the sources given for them. */
export const fromMap = (files: Readonly<Record<string, LocalInfileSource>>): LocalInfileOptions => ({
  source: (fileName) => (Object.hasOwn(files, fileName) ? files[fileName] : undefined)
})
