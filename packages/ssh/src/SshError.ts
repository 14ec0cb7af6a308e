import { type Cause, Schema } from "effect"

/**
 * Why an SSH tunnel could not carry a connection:
 *
 * - `host-key-unknown`: no `hostKeys` fingerprint or `knownHosts` line names this server (the message shows the fingerprint to pin);
 * - `host-key-mismatch`: the server's key is not the pinned one, or is revoked;
 * - `authentication-failed`: the server accepted none of the credentials;
 * - `channel-refused`: the server would not open a channel to the database (`PermitOpen`,
 *   `AllowTcpForwarding no`, or the database unreachable from it);
 * - `timeout`: the session was not ready within the connect timeout, or keepalive got no answer;
 * - `session-closed`: the session ended (the server went away, or the tunnel was closed);
 * - `invalid-option`: the options cannot work (an unreadable key, a wrong passphrase, no credentials).
 *
 * Host keys are checked before any credential is sent: the first two reasons never follow one.
 */
export const SshFailure: Schema.Literals<
  readonly [
    "host-key-unknown",
    "host-key-mismatch",
    "authentication-failed",
    "channel-refused",
    "timeout",
    "session-closed",
    "invalid-option"
  ]
> = Schema.Literals([
  "host-key-unknown",
  "host-key-mismatch",
  "authentication-failed",
  "channel-refused",
  "timeout",
  "session-closed",
  "invalid-option"
])
export type SshFailure = typeof SshFailure.Type

const SshErrorBase: Schema.Class<
  SshError,
  Schema.TaggedStruct<
    "SshError",
    {
      readonly reason: typeof SshFailure
      /** What went wrong and what to change. */
      readonly message: Schema.String
      /** The SSH server, as `host:port`. */
      readonly server: Schema.String
      /** The server's host key as `SHA256:…`, when the failure is about it. */
      readonly fingerprint: Schema.optional<Schema.String>
      readonly cause: Schema.optional<Schema.Defect>
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<SshError>()("SshError", {
  reason: SshFailure,
  message: Schema.String,
  server: Schema.String,
  fingerprint: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
})

export class SshError extends SshErrorBase {}
