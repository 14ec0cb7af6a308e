/**
 * The errors a connection fails with. Each says what happened and, where a person can act, what to
 * change. Lower layers' errors pass through unchanged: `TransportError`, `TlsError` and
 * `TimeoutError` from the transport, `ProtocolError` from the protocol package.
 */

import type { CompressionNegotiationError } from "@effect-mysql/compression"
import type { ProtocolError } from "@effect-mysql/protocol"
import type { SslConfigError, TimeoutError, TlsError, TransportError } from "@effect-mysql/transport"
import { type Cause, Schema } from "effect"

const ServerErrorBase: Schema.Class<
  ServerError,
  Schema.TaggedStruct<
    "ServerError",
    {
      readonly errno: Schema.Number
      readonly sqlState: Schema.String
      /** Symbolic name of `errno` (`ER_DUP_ENTRY`), when known. */
      readonly code: Schema.optional<Schema.String>
      readonly message: Schema.String
      /** The statement that failed, when the error belongs to one. */
      readonly sql: Schema.optional<Schema.String>
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<ServerError>()("ServerError", {
  errno: Schema.Number,
  sqlState: Schema.String,
  code: Schema.optional(Schema.String),
  message: Schema.String,
  sql: Schema.optional(Schema.String)
})

/** An ERR packet the server sent in answer to a command. */
export class ServerError extends ServerErrorBase {}

const AuthenticationErrorBase: Schema.Class<
  AuthenticationError,
  Schema.TaggedStruct<
    "AuthenticationError",
    {
      readonly user: Schema.String
      /** The authentication plugin involved, when there was one. */
      readonly plugin: Schema.optional<Schema.String>
      /** The server's errno and SQLSTATE when the server refused (1045 / 28000, …). */
      readonly errno: Schema.optional<Schema.Number>
      readonly sqlState: Schema.optional<Schema.String>
      readonly message: Schema.String
      /** What failed on the client's side: the failure of a `password` given as an Effect. */
      readonly cause: Schema.optional<Schema.Defect>
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<AuthenticationError>()("AuthenticationError", {
  user: Schema.String,
  plugin: Schema.optional(Schema.String),
  errno: Schema.optional(Schema.Number),
  sqlState: Schema.optional(Schema.String),
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
})

/**
 * The server refused the login, the client refused to send credentials the way it asked, or the
 * password could not be had (a `password` Effect failed: `cause`).
 */
export class AuthenticationError extends AuthenticationErrorBase {}

const ConfigErrorBase: Schema.Class<
  ConfigError,
  Schema.TaggedStruct<
    "ConfigError",
    {
      /** The option at fault, as the user wrote it (`ssl.mode`, `port`, …). */
      readonly option: Schema.String
      readonly message: Schema.String
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<ConfigError>()("ConfigError", {
  option: Schema.String,
  message: Schema.String
})

/** Options that cannot work, refused before any connection is attempted. */
export class ConfigError extends ConfigErrorBase {}

const ArgumentErrorBase: Schema.Class<
  ArgumentError,
  Schema.TaggedStruct<
    "ArgumentError",
    {
      /** The parameter at fault, counted from 1, when one is. */
      readonly position: Schema.optional<Schema.Number>
      /** The statement the arguments were given for. */
      readonly sql: Schema.optional<Schema.String>
      readonly message: Schema.String
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<ArgumentError>()("ArgumentError", {
  position: Schema.optional(Schema.Number),
  sql: Schema.optional(Schema.String),
  message: Schema.String
})

/**
 * Arguments a statement cannot be run with (a value with no SQL form, the wrong number of values,
 * values where options belong), refused before anything is sent: the connection stays usable.
 */
export class ArgumentError extends ArgumentErrorBase {}

const HostRoleErrorBase: Schema.Class<
  HostRoleError,
  Schema.TaggedStruct<
    "HostRoleError",
    {
      /** The server, as `host:port`. */
      readonly host: Schema.String
      /** The `targetSessionAttrs` it did not meet. */
      readonly target: Schema.String
      /**
       * `read-only`: the server takes no writes; `read-write`: it does; `galera-not-ready`: a
       * Galera node outside the primary component, not Synced, or not ready.
       */
      readonly reason: Schema.Literals<readonly ["read-only", "read-write", "galera-not-ready"]>
      readonly message: Schema.String
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<HostRoleError>()("HostRoleError", {
  host: Schema.String,
  target: Schema.String,
  reason: Schema.Literals(["read-only", "read-write", "galera-not-ready"]),
  message: Schema.String
})

/** The server took the login but is not what `targetSessionAttrs` asks for; the connection was closed. */
export class HostRoleError extends HostRoleErrorBase {}

/** Why one host of a host list could not be used. */
export interface HostFailure {
  /** The server, as `host:port`. */
  readonly host: string
  readonly error: MysqlError
}

type HostFailureSchema = Schema.Struct<{
  readonly host: Schema.String
  readonly error: Schema.declare<MysqlError>
}>

const HostFailureSchema: HostFailureSchema = Schema.Struct({
  host: Schema.String,
  error: Schema.declare((u: unknown): u is MysqlError => typeof u === "object" && u !== null && "_tag" in u, {
    expected: "an error of a connection"
  })
})

const HostsUnavailableErrorBase: Schema.Class<
  HostsUnavailableError,
  Schema.TaggedStruct<
    "HostsUnavailableError",
    {
      /** Each host tried, in the order tried, with what it failed with. */
      readonly failures: Schema.$Array<HostFailureSchema>
      readonly message: Schema.String
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<HostsUnavailableError>()("HostsUnavailableError", {
  failures: Schema.Array(HostFailureSchema),
  message: Schema.String
})

/** No host of a host list took the connection; the message names every host with its reason. */
export class HostsUnavailableError extends HostsUnavailableErrorBase {}

/** Everything a connection can fail with. */
export type MysqlError =
  | ServerError
  | AuthenticationError
  | ConfigError
  | ArgumentError
  | LocalInfileError
  | SslConfigError
  | CompressionNegotiationError
  | TlsError
  | TransportError
  | TimeoutError
  | ProtocolError
  | StatementTimeoutError
  | HostRoleError
  | HostsUnavailableError

const LocalInfileErrorBase: Schema.Class<
  LocalInfileError,
  Schema.TaggedStruct<
    "LocalInfileError",
    {
      readonly reason: Schema.Literals<readonly ["refused", "source-failed"]>
      readonly fileName: Schema.String
      readonly message: Schema.String
      readonly cause: Schema.optional<Schema.Defect>
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<LocalInfileError>()("LocalInfileError", {
  reason: Schema.Literals(["refused", "source-failed"]),
  fileName: Schema.String,
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
})

/**
 * The server asked for a LOCAL INFILE that the caller did not offer (`refused`: nothing was read
 * and the connection stays usable), or the caller's source failed part-way (`source-failed`: the
 * connection is closed, so the server abandons the statement rather than load part of the file).
 */
export class LocalInfileError extends LocalInfileErrorBase {}

const StatementTimeoutErrorBase: Schema.Class<
  StatementTimeoutError,
  Schema.TaggedStruct<
    "StatementTimeoutError",
    {
      readonly timeoutMillis: Schema.Number
      readonly sql: Schema.optional<Schema.String>
      readonly message: Schema.String
      readonly cause: Schema.optional<Schema.Defect>
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<StatementTimeoutError>()("StatementTimeoutError", {
  timeoutMillis: Schema.Number,
  sql: Schema.optional(Schema.String),
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
})

/**
 * The statement outlived its timeout (`statementTimeout`, or the `timeout` of one query): the
 * server was told to stop it (KILL QUERY) and the connection was brought back to a known state, or
 * closed when that could not be done in time. `cause` is how the statement ended on the server.
 */
export class StatementTimeoutError extends StatementTimeoutErrorBase {}

const PoolTimeoutErrorBase: Schema.Class<
  PoolTimeoutError,
  Schema.TaggedStruct<
    "PoolTimeoutError",
    {
      readonly timeoutMillis: Schema.Number
      /** Connections open, borrowed and waited for when the wait ended. */
      readonly size: Schema.Number
      readonly borrowed: Schema.Number
      readonly waiting: Schema.Number
      readonly message: Schema.String
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<PoolTimeoutError>()("PoolTimeoutError", {
  timeoutMillis: Schema.Number,
  size: Schema.Number,
  borrowed: Schema.Number,
  waiting: Schema.Number,
  message: Schema.String
})

/** No pooled connection became free within the pool's `acquireTimeout`. */
export class PoolTimeoutError extends PoolTimeoutErrorBase {}
