/**
 * The options of one connection, named as users of mysql2 and the MySQL client expect, and their
 * check: `resolve` refuses what cannot work before any socket is opened, naming the option.
 */

import type { CompressionOptions } from "@effect-mysql/compression"
import type { ValueOptions } from "@effect-mysql/protocol"
import { Endpoint, SslPolicy } from "@effect-mysql/transport"
import { Duration, Effect, Option, Redacted, Result } from "effect"
import { AuthenticationError, ConfigError } from "./Errors.ts"
import type { LocalInfileOptions } from "./LocalInfile.ts"

/**
 * A password, or an Effect that yields one for each new connection (short-lived IAM tokens). The
 * Effect may fail: the connection then fails with an `AuthenticationError` whose `cause` is that
 * failure.
 */
export type Password = string | Redacted.Redacted<string> | Effect.Effect<Redacted.Redacted<string>, unknown>

export interface ConnectionOptions {
  /** Default `localhost`. */
  readonly host?: string
  /** Default 3306. */
  readonly port?: number
  /** A Unix socket path; when set, `host` and `port` are not used. */
  readonly socketPath?: string
  readonly user: string
  readonly password?: Password
  /** The second and third factor of a multi-factor account (MySQL 8.0.27+). */
  readonly password2?: Password
  readonly password3?: Password
  readonly database?: string
  /** TLS: default `{ mode: "preferred" }`, as the MySQL client. */
  readonly ssl?: SslPolicy.SslOptions
  /** Default: no compression. */
  readonly compression?: CompressionOptions
  /** DNS, TCP, TLS and authentication together; default 10 seconds. */
  readonly connectTimeout?: Duration.Input
  /** TCP keepalive initial delay (default 60 seconds), or `false`. */
  readonly keepAlive?: Duration.Input | false
  /** Longest wait for the server's next bytes while a command runs; default none. */
  readonly readTimeout?: Duration.Input
  /**
   * Longest time a statement may run; default none. When it passes, the server is told to stop
   * the statement (KILL QUERY) and the statement fails with a `StatementTimeoutError`. A query's
   * own `timeout` overrides it.
   */
  readonly statementTimeout?: Duration.Input
  /**
   * On interruption or statement timeout, stop the statement on the server with `KILL QUERY` sent
   * over a second, short-lived connection, and keep this connection (default true). With false
   * the connection is closed instead, and the server may run the statement to its end.
   */
  readonly killQueryOnInterrupt?: boolean
  /**
   * How long the KILL QUERY and reading the rest of the stopped statement's response may take
   * before the connection is closed instead (default 5 seconds).
   */
  readonly cancelTimeout?: Duration.Input
  /**
   * caching_sha2_password and sha256_password over plaintext TCP encrypt the password with the
   * server's RSA key. Give the key (PEM) here, or allow fetching it from the server, which a man in
   * the middle could answer with a key of its own.
   */
  readonly serverPublicKey?: string
  readonly allowPublicKeyRetrieval?: boolean
  /** Send the password in the clear (mysql_clear_password) over plaintext TCP. Default false. */
  readonly allowCleartextPasswords?: boolean
  /** Allow several statements in one `query` (CLIENT_MULTI_STATEMENTS). Default false. */
  readonly multipleStatements?: boolean
  /** Sources LOAD DATA LOCAL INFILE may read; without it the server's requests are refused. */
  readonly localInfile?: LocalInfileOptions
  /** Prepared statements kept per connection, least recently used closed first; default 256. */
  readonly statementCacheSize?: number
  /** Largest packet accepted from the server, in bytes; default 64 MiB. */
  readonly maxPacketSize?: number
  /** Collation id of the connection (default 45, utf8mb4_general_ci, known to MySQL and MariaDB). */
  readonly collation?: number
  /** How values are decoded (bigint, decimal, dates, time zone, …). */
  readonly types?: ValueOptions
  /** Added to the connection attributes (`performance_schema.session_connect_attrs`). */
  readonly connectAttributes?: Readonly<Record<string, string>>
  /** `program_name` connection attribute. */
  readonly programName?: string
}

/** Options checked and completed with their defaults. */
export interface ResolvedOptions {
  readonly endpoint: Endpoint.Endpoint
  readonly user: string
  readonly password: Password | undefined
  readonly password2: Password | undefined
  readonly password3: Password | undefined
  readonly database: string | undefined
  readonly ssl: SslPolicy.SslPolicy
  readonly compression: CompressionOptions | undefined
  readonly connectTimeout: Duration.Input
  readonly keepAlive: Duration.Input | false
  readonly readTimeout: Duration.Input | undefined
  readonly statementTimeout: Duration.Duration | undefined
  readonly killQueryOnInterrupt: boolean
  readonly cancelTimeout: Duration.Duration
  readonly serverPublicKey: string | undefined
  readonly allowPublicKeyRetrieval: boolean
  readonly allowCleartextPasswords: boolean
  readonly multipleStatements: boolean
  readonly localInfile: LocalInfileOptions | undefined
  readonly statementCacheSize: number
  readonly maxPacketSize: number
  readonly collation: number
  readonly types: ValueOptions
  readonly connectAttributes: Readonly<Record<string, string>>
  readonly programName: string | undefined
}

const fail = (option: string, message: string) =>
  Result.fail(new ConfigError({ option, message: `${option}: ${message}` }))

const isPort = (port: number) => Number.isInteger(port) && port > 0 && port < 65536

/** A positive duration, or undefined when the input is not one. */
export const positiveDuration = (input: Duration.Input): Duration.Duration | undefined => {
  const duration = Duration.fromInput(input)
  return Option.isSome(duration) && Duration.isPositive(duration.value) ? duration.value : undefined
}

/** Checks the options; every refusal names the option and says what to change. */
export const resolve = (options: ConnectionOptions): Result.Result<ResolvedOptions, ConfigError> => {
  if (typeof options.user !== "string" || options.user.length === 0) return fail("user", "give the user to log in as")
  if (options.user.includes("\0")) return fail("user", "must not contain a NUL character")
  if (options.database?.includes("\0")) return fail("database", "must not contain a NUL character")
  const port = options.port ?? 3306
  if (!isPort(port)) return fail("port", `${port} is not a TCP port (1–65535)`)
  if (options.socketPath === "") return fail("socketPath", "is empty: give the path of the server's Unix socket")
  const endpoint =
    options.socketPath !== undefined
      ? Endpoint.unix(options.socketPath)
      : Endpoint.tcp(options.host === undefined || options.host === "" ? "localhost" : options.host, port)
  const ssl = SslPolicy.resolve(options.ssl ?? {}, endpoint)
  if (Result.isFailure(ssl)) return fail("ssl", ssl.failure.message.replace(/^ssl\.?\w*:?\s*/, ""))
  const cacheSize = options.statementCacheSize ?? 256
  if (!Number.isInteger(cacheSize) || cacheSize < 0) return fail("statementCacheSize", "must be an integer ≥ 0")
  const maxPacketSize = options.maxPacketSize ?? 64 * 1024 * 1024
  if (!Number.isSafeInteger(maxPacketSize) || maxPacketSize < 1024)
    return fail("maxPacketSize", "must be an integer of at least 1024 bytes")
  const collation = options.collation ?? 45
  if (!Number.isInteger(collation) || collation < 1 || collation > 255)
    return fail("collation", "must be a collation id from 1 to 255 (the handshake has one byte for it)")
  if (options.serverPublicKey !== undefined && !options.serverPublicKey.includes("-----BEGIN PUBLIC KEY-----"))
    return fail("serverPublicKey", "must be the PEM text of an RSA public key (-----BEGIN PUBLIC KEY-----)")
  for (const name of ["connectTimeout", "readTimeout", "statementTimeout", "cancelTimeout"] as const) {
    const value = options[name]
    if (value !== undefined && positiveDuration(value) === undefined)
      return fail(
        name,
        `${String(value)} is not a positive duration (use e.g. "5 seconds" or a number of milliseconds)`
      )
  }
  const statementTimeout =
    options.statementTimeout === undefined ? undefined : positiveDuration(options.statementTimeout)
  return Result.succeed({
    endpoint,
    user: options.user,
    password: options.password,
    password2: options.password2,
    password3: options.password3,
    database: options.database === "" ? undefined : options.database,
    ssl: ssl.success,
    compression: options.compression,
    connectTimeout: options.connectTimeout ?? "10 seconds",
    keepAlive: options.keepAlive ?? "60 seconds",
    readTimeout: options.readTimeout,
    statementTimeout,
    killQueryOnInterrupt: options.killQueryOnInterrupt ?? true,
    cancelTimeout: positiveDuration(options.cancelTimeout ?? "5 seconds")!,
    serverPublicKey: options.serverPublicKey,
    allowPublicKeyRetrieval: options.allowPublicKeyRetrieval ?? false,
    allowCleartextPasswords: options.allowCleartextPasswords ?? false,
    multipleStatements: options.multipleStatements ?? false,
    localInfile: options.localInfile,
    statementCacheSize: cacheSize,
    maxPacketSize,
    collation,
    types: options.types ?? {},
    connectAttributes: options.connectAttributes ?? {},
    programName: options.programName
  })
}

/** The password as text, whichever form it was given in; an Effect is run once per connection. */
export const passwordText = (
  password: Password | undefined,
  user: string
): Effect.Effect<string, AuthenticationError> => {
  if (password === undefined) return Effect.succeed("")
  if (typeof password === "string") return Effect.succeed(password)
  if (Redacted.isRedacted(password)) return Effect.succeed(Redacted.value(password))
  return Effect.mapBoth(password, {
    onSuccess: Redacted.value,
    onFailure: (cause) =>
      new AuthenticationError({
        user,
        message: `the password Effect failed, so no login was attempted: ${cause instanceof Error ? cause.message : String(cause)}`,
        cause
      })
  })
}
