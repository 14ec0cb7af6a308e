import { type Cause, Schema } from "effect"

const ReplicationErrorBase: Schema.Class<
  ReplicationError,
  Schema.TaggedStruct<
    "ReplicationError",
    {
      /**
       * `checksum`: an event's CRC32 does not match its bytes; `malformed-event`: an event cannot be
       * decoded; `unknown-table`: a rows event names a table no TABLE_MAP announced; `incident`: the
       * server logged an INCIDENT (changes may be missing from the binlog, where a replica stops);
       * `no-binlog`: the server does not write a binlog; `unsupported`: a transaction payload
       * compressed with an algorithm other than zstd.
       */
      readonly reason: Schema.Literals<
        readonly ["checksum", "malformed-event", "unknown-table", "incident", "no-binlog", "unsupported"]
      >
      /** The binlog file of the event at fault, when known. */
      readonly file: Schema.optional<Schema.String>
      /** Where the event at fault ends in `file` (its header's log position), when known. */
      readonly position: Schema.optional<Schema.Number>
      readonly message: Schema.String
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<ReplicationError>()("ReplicationError", {
  reason: Schema.Literals(["checksum", "malformed-event", "unknown-table", "incident", "no-binlog", "unsupported"]),
  file: Schema.optional(Schema.String),
  position: Schema.optional(Schema.Number),
  message: Schema.String
})

/** The binlog could not be read or made sense of. */
export class ReplicationError extends ReplicationErrorBase {}
