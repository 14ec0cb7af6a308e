import { Schema } from "effect"

/** Anything that stops the test harness from giving a test its server, certificates or proxy. */
export class HarnessError extends Schema.TaggedError<HarnessError>()("HarnessError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}
