import { type Cause, Schema } from "effect"

/**
 * Why a byte connection failed outside TLS: it could not be opened, the peer closed it, the
 * operating system reported an error on it, it was used after we closed it ourselves, or a
 * connect option is invalid or cannot be honoured on this runtime (refused before connecting).
 */
export const TransportFailure: Schema.Literals<
  readonly ["connect-failed", "closed-by-peer", "io-error", "closed", "invalid-option"]
> = Schema.Literals(["connect-failed", "closed-by-peer", "io-error", "closed", "invalid-option"])
export type TransportFailure = typeof TransportFailure.Type

const TransportErrorBase: Schema.Class<
  TransportError,
  Schema.TaggedStruct<
    "TransportError",
    {
      readonly reason: typeof TransportFailure
      readonly message: Schema.String
      /** The runtime's error code (`ECONNREFUSED`, `ENOENT`, …) when it gave one. */
      readonly code: Schema.optional<Schema.String>
      readonly cause: Schema.optional<Schema.Defect>
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<TransportError>()("TransportError", {
  reason: TransportFailure,
  message: Schema.String,
  code: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
})

export class TransportError extends TransportErrorBase {}
