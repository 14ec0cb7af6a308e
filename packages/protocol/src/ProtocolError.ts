/**
 * ProtocolError — the one error this package returns.
 *
 * Every decoder in `@effect-mysql/protocol` answers with a value or a `ProtocolError` saying which
 * packet was being read, which field (when known) and at which byte offset of the payload. Nothing
 * exported from this package throws.
 *
 * Pure data: no IO, no Effect runtime, safe on Node, Deno, Bun and in a browser.
 *
 * @module
 */
import { Schema } from "effect"

export class ProtocolError extends Schema.TaggedError<ProtocolError>()("ProtocolError", {
  /** The packet (or layer, e.g. "Framing") being decoded or encoded. */
  packet: Schema.String,
  /** The field being read when the error happened, when known. */
  field: Schema.optional(Schema.String),
  /** Byte offset into the payload where the error happened, when known. */
  offset: Schema.optional(Schema.Number),
  message: Schema.String
}) {}

/** Builds a `ProtocolError` without the optional fields that are `undefined`. */
export const protocolError = (
  packet: string,
  message: string,
  field?: string | undefined,
  offset?: number | undefined
): ProtocolError =>
  new ProtocolError({
    packet,
    message,
    ...(field === undefined ? {} : { field }),
    ...(offset === undefined ? {} : { offset })
  })
