import { Schema } from "effect"

/** The `ssl` options cannot work as given; raised before any connection is attempted. */
export class SslConfigError extends Schema.TaggedError<SslConfigError>()("SslConfigError", {
  message: Schema.String
}) {}
