import { Schema } from "effect"

/** An operation did not finish within its deadline; the connection should be considered dead. */
export class TimeoutError extends Schema.TaggedError<TimeoutError>()("TimeoutError", {
  operation: Schema.Literals(["connect", "tls-handshake", "read", "write"]),
  /** The deadline that passed, in milliseconds. */
  timeoutMillis: Schema.Number,
  message: Schema.String
}) {}
