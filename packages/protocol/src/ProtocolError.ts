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
import { type Cause, Schema } from "effect"

const ProtocolErrorBase: Schema.Class<
  ProtocolError,
  Schema.TaggedStruct<
    "ProtocolError",
    {
      /** The packet (or layer, e.g. "Framing") being decoded or encoded. */
      readonly packet: Schema.String
      /** The field being read when the error happened, when known. */
      readonly field: Schema.optional<Schema.String>
      /** Byte offset into the payload where the error happened, when known. */
      readonly offset: Schema.optional<Schema.Number>
      readonly message: Schema.String
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<ProtocolError>()("ProtocolError", {
  packet: Schema.String,
  field: Schema.optional(Schema.String),
  offset: Schema.optional(Schema.Number),
  message: Schema.String
})

export class ProtocolError extends ProtocolErrorBase {}

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
