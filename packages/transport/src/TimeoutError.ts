import { type Cause, Schema } from "effect"

const TimeoutErrorBase: Schema.Class<
  TimeoutError,
  Schema.TaggedStruct<
    "TimeoutError",
    {
      readonly operation: Schema.Literals<readonly ["connect", "tls-handshake", "read", "write"]>
      /** The deadline that passed, in milliseconds. */
      readonly timeoutMillis: Schema.Number
      readonly message: Schema.String
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<TimeoutError>()("TimeoutError", {
  operation: Schema.Literals(["connect", "tls-handshake", "read", "write"]),
  timeoutMillis: Schema.Number,
  message: Schema.String
})

/** An operation did not finish within its deadline; the connection should be considered dead. */
export class TimeoutError extends TimeoutErrorBase {}
