/**
 * The client's half of LOAD DATA LOCAL INFILE
 * (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_local_infile_request.html):
 * the file's bytes in packets, then an empty packet. A request the caller's `localInfile.source`
 * does not answer is refused by sending an empty file at once, without opening anything, so the
 * statement ends normally and the connection stays usable; the statement then fails with a
 * `LocalInfileError`. A source that fails part-way fails the statement at once, and the caller
 * closes the connection: the only way to stop the server from loading the part already sent.
 */
import { Effect, Stream } from "effect"
import { LocalInfileError } from "../Errors.ts"
import type { LocalInfileOptions, LocalInfileSource } from "../LocalInfile.ts"
import type { IoError, Wire } from "./Wire.ts"

// Below 0xFFFFFF so that no chunk is ever framed as a split packet, whose empty trailer the
// server would take for the end of the file.
const CHUNK = 64 * 1024

const sendBytes = (wire: Wire, bytes: Uint8Array): Effect.Effect<void, IoError> =>
  Effect.gen(function* () {
    for (let at = 0; at < bytes.length; at += CHUNK) yield* wire.send(bytes.subarray(at, at + CHUNK))
  })

const sendSource = (wire: Wire, source: LocalInfileSource): Effect.Effect<void, IoError | unknown> => {
  if (typeof source === "string") return sendBytes(wire, new TextEncoder().encode(source))
  if (source instanceof Uint8Array) return sendBytes(wire, source)
  if (Stream.isStream(source)) return Stream.runForEach(source, (chunk) => sendBytes(wire, chunk))
  return Effect.flatMap(source, (bytes) => sendBytes(wire, bytes))
}

/**
 * Answers a LOCAL INFILE request. Yields the refusal to report once the server has answered, or
 * undefined when the file was sent; fails when the source or the connection failed.
 */
export const sendLocalInfile = (
  wire: Wire,
  options: LocalInfileOptions | undefined,
  fileName: string,
  sql: string
): Effect.Effect<LocalInfileError | undefined, IoError | LocalInfileError> =>
  Effect.gen(function* () {
    const source = options?.source(fileName)
    if (source === undefined) {
      yield* wire.send(new Uint8Array(0))
      return new LocalInfileError({
        reason: "refused",
        fileName,
        message: `the server asked for the local file "${fileName}"${sql === "" ? "" : ` while running "${sql.slice(0, 80)}"`}, which this connection does not offer: refused (configure localInfile.source to allow it)`
      })
    }
    const sent = yield* Effect.result(sendSource(wire, source))
    if (sent._tag === "Failure") {
      if (isIoError(sent.failure)) return yield* Effect.fail(sent.failure)
      return yield* new LocalInfileError({
        reason: "source-failed",
        fileName,
        message: `reading the source of "${fileName}" failed part-way: the connection is closed so that the server does not load a partial file`,
        cause: sent.failure
      })
    }
    yield* wire.send(new Uint8Array(0))
    return undefined
  })

const ioTags = new Set(["TransportError", "TlsError", "TimeoutError", "ProtocolError"])

const isIoError = (error: unknown): error is IoError =>
  typeof error === "object" && error !== null && ioTags.has((error as { _tag?: string })._tag ?? "")
