import { type Cause, Schema } from "effect"

const SslConfigErrorBase: Schema.Class<
  SslConfigError,
  Schema.TaggedStruct<
    "SslConfigError",
    {
      readonly message: Schema.String
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<SslConfigError>()("SslConfigError", {
  message: Schema.String
})

/** The `ssl` options cannot work as given; raised before any connection is attempted. */
export class SslConfigError extends SslConfigErrorBase {}
