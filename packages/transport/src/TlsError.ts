import { Schema } from "effect"

/**
 * Why TLS could not be established or was torn down. The reasons are the same on every runtime;
 * the runtime's own wording is kept in `detail`.
 */
export const TlsFailure = Schema.Literals([
  "server-has-no-tls",
  "chain-not-trusted",
  "hostname-mismatch",
  "certificate-expired",
  "client-certificate-rejected",
  "protocol-version-refused",
  "handshake-failed"
])
export type TlsFailure = typeof TlsFailure.Type

export class TlsError extends Schema.TaggedError<TlsError>()("TlsError", {
  reason: TlsFailure,
  /** What went wrong and what to change. */
  message: Schema.String,
  /** The runtime's message, as it gave it. */
  detail: Schema.optional(Schema.String),
  /** The runtime's error code, when it gave one. */
  code: Schema.optional(Schema.String)
}) {}
