import { type Cause, Schema } from "effect"

/**
 * Why TLS could not be established or was torn down. The reasons are the same on every runtime;
 * the runtime's own wording is kept in `detail`.
 */
export const TlsFailure: Schema.Literals<
  readonly [
    "server-has-no-tls",
    "chain-not-trusted",
    "hostname-mismatch",
    "certificate-expired",
    "certificate-revoked",
    "fingerprint-mismatch",
    "client-key-invalid",
    "client-certificate-rejected",
    "protocol-version-refused",
    "handshake-failed"
  ]
> = Schema.Literals([
  "server-has-no-tls",
  "chain-not-trusted",
  "hostname-mismatch",
  "certificate-expired",
  "certificate-revoked",
  "fingerprint-mismatch",
  "client-key-invalid",
  "client-certificate-rejected",
  "protocol-version-refused",
  "handshake-failed"
])
export type TlsFailure = typeof TlsFailure.Type

const TlsErrorBase: Schema.Class<
  TlsError,
  Schema.TaggedStruct<
    "TlsError",
    {
      readonly reason: typeof TlsFailure
      /** What went wrong and what to change. */
      readonly message: Schema.String
      /** The runtime's message, as it gave it. */
      readonly detail: Schema.optional<Schema.String>
      /** The runtime's error code, when it gave one. */
      readonly code: Schema.optional<Schema.String>
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<TlsError>()("TlsError", {
  reason: TlsFailure,
  message: Schema.String,
  detail: Schema.optional(Schema.String),
  code: Schema.optional(Schema.String)
})

export class TlsError extends TlsErrorBase {}
