import { Schema } from "effect"

/**
 * Why a byte connection failed outside TLS: it could not be opened, the peer closed it, the
 * operating system reported an error on it, or it was used after we closed it ourselves.
 */
export const TransportFailure = Schema.Literals(["connect-failed", "closed-by-peer", "io-error", "closed"])
export type TransportFailure = typeof TransportFailure.Type

export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  reason: TransportFailure,
  message: Schema.String,
  /** The runtime's error code (`ECONNREFUSED`, `ENOENT`, …) when it gave one. */
  code: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {}
