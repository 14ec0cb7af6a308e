/**
 * The options of one connection, named as users of mysql2 and the MySQL client expect, and their
 * check: `resolve` refuses what cannot work before any socket is opened, naming the option.
 */

import type { CompressionOptions } from "@effect-mysql/compression"
import { Collations, timeZoneProblem, type ValueOptions } from "@effect-mysql/protocol"
import { Endpoint, SslPolicy } from "@effect-mysql/transport"
import { Duration, Effect, Option, Redacted, Result } from "effect"
import { AuthenticationError, ConfigError } from "./Errors.ts"
import { type HostOrder, type HostPort, isPort, parseHost } from "./internal/HostList.ts"
import { ConnectionOptionsSchema, decodeOptions } from "./internal/OptionsSchema.ts"
import type { LocalInfileOptions } from "./LocalInfile.ts"

export type { HostOrder, HostPort } from "./internal/HostList.ts"

/** A host of a host list: `"h"`, `"h:3307"`, `"[::1]:3307"`, or `{ host, port }`; the port defaults to 3306. */
export type HostEntry = string | HostPort

/**
 * What a connect accepts of a host, as libpq's `target_session_attrs`: `read-write` a server that
 * takes writes, `read-only` one with `read_only` or `innodb_read_only` on, `prefer-replica` a
 * read-only one if any host is, else any. `any` (the default) checks nothing.
 */
export type TargetSessionAttrs = "any" | "read-write" | "read-only" | "prefer-replica"

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
  /**
   * Several servers, tried in turn until one takes the connection (see docs/clusters.md); instead
   * of `host`, `port` and `socketPath`. A host that failed backs off (1 s, doubling, at most 30 s)
   * and is tried after the others meanwhile. `connectTimeout` applies to each host's attempt.
   */
  readonly hosts?: ReadonlyArray<HostEntry>
  /** `sequential` (default): the list's order; `random`: shuffled for each connect, to spread load. */
  readonly hostOrder?: HostOrder
  /** Which servers a connect accepts, checked after login with one query; default `any`. */
  readonly targetSessionAttrs?: TargetSessionAttrs
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
  /**
   * DNS, TCP, TLS and authentication together (and the role query of `targetSessionAttrs`); with
   * `hosts`, for each host's attempt. Default 10 seconds.
   */
  readonly connectTimeout?: Duration.Input
  /**
   * TCP keepalive initial delay, or `false`. Default 60 seconds; on Deno, which cannot set the
   * delay, the operating system's (and a delay given there is refused).
   */
  readonly keepAlive?: Duration.Input | false
  /**
   * Low-latency mode, off by default: after sending a command, poll for the reply this long (at
   * most 10 ms, e.g. `"200 micros"`) before sleeping, saving the kernel's wake-up on each round
   * trip at the price of a busy core while a reply is due. Node and Bun; refused on Deno.
   */
  readonly busyPoll?: Duration.Input
  /**
   * Longest wait for the server's next bytes while a command runs, and longest time one write may
   * take; default none (see `stallCheckAfter`, which needs no guess at the slowest statement).
   */
  readonly readTimeout?: Duration.Input
  /**
   * After this long without an answer (or with a write that cannot complete), ask the server over a
   * short-lived second connection whether this connection still runs a statement; fail at once with
   * a `TransportError` when the server no longer knows it, reports it idle, or cannot be reached
   * within `connectTimeout`. Default 5 seconds; `false` turns the check off.
   */
  readonly stallCheckAfter?: Duration.Input | false
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
  /**
   * Let the password travel as it is where it otherwise may not: always needed for
   * mysql_clear_password, and for caching_sha2/sha256 over TLS that verified no certificate.
   * Default false.
   */
  readonly allowCleartextPasswords?: boolean
  /** Allow several statements in one `query` (CLIENT_MULTI_STATEMENTS). Default false. */
  readonly multipleStatements?: boolean
  /** Sources LOAD DATA LOCAL INFILE may read; without it the server's requests are refused. */
  readonly localInfile?: LocalInfileOptions
  /** Prepared statements kept per connection, least recently used closed first; default 256. */
  readonly statementCacheSize?: number
  /** Largest packet accepted from the server, in bytes; default 64 MiB. */
  readonly maxPacketSize?: number
  /**
   * Most results one response may hold (one per statement of a multi-statement query or CALL);
   * default 10,000. Past it the statement fails with a `ProtocolError` and the connection is closed.
   */
  readonly maxResults?: number
  /**
   * Most bytes of packets a buffered (not streamed) response may hold; default 256 MiB. Past it
   * the statement fails with a `ProtocolError` and the connection is closed: stream larger results.
   */
  readonly maxResponseSize?: number
  /** Collation id of the connection (default 45, utf8mb4_general_ci, known to MySQL and MariaDB). */
  readonly collation?: number
  /** How values are decoded (bigint, decimal, dates, time zone, …). */
  readonly types?: ValueOptions
  /**
   * Session variables set right after login, in one `SET SESSION`, and again after every reset of
   * the session (`resetConnection`, `changeUser`, a pool's reset): `{ time_zone: "+00:00",
   * sql_mode: "STRICT_ALL_TABLES" }`.
   */
  readonly sessionVariables?: Readonly<Record<string, SessionValue>>
  /** Statements run after `sessionVariables`, in order, on every new session and after every reset. */
  readonly initSql?: string | ReadonlyArray<string>
  /**
   * Ask the server to report each commit's GTID in its OK packet (`MysqlConnection.lastGtid`):
   * MariaDB's `last_gtid` added to `session_track_system_variables`, MySQL's `session_track_gtids`
   * set to OWN_GTID; set up with the session, and again after every reset. Default false; a
   * `MysqlClient` with read-your-writes turns it on for its pools.
   */
  readonly trackGtids?: boolean
  /** Added to the connection attributes (`performance_schema.session_connect_attrs`). */
  readonly connectAttributes?: Readonly<Record<string, string>>
  /** `program_name` connection attribute. */
  readonly programName?: string
}

export type SessionValue = string | number | boolean

/** A password that no printer shows: `util.inspect`, `JSON.stringify` and `Formatter` see `<redacted>`. */
export type HiddenPassword = Exclude<Password, string>

/** A server to connect to, with the TLS policy for its name. */
export interface ResolvedHost {
  readonly endpoint: Endpoint.Endpoint
  readonly ssl: SslPolicy.SslPolicy
}

/** Options checked and completed with their defaults. */
export interface ResolvedOptions {
  /** Where this connection goes: the first of `hosts` until a connect has chosen one. */
  readonly endpoint: Endpoint.Endpoint
  /** Every host, in the order given (one without a host list). */
  readonly hosts: ReadonlyArray<ResolvedHost>
  readonly hostOrder: HostOrder
  readonly targetSessionAttrs: TargetSessionAttrs
  readonly user: string
  readonly password: HiddenPassword | undefined
  readonly password2: HiddenPassword | undefined
  readonly password3: HiddenPassword | undefined
  readonly database: string | undefined
  readonly ssl: SslPolicy.SslPolicy
  readonly compression: CompressionOptions | undefined
  readonly connectTimeout: Duration.Duration
  /** undefined: the transport's default (60 seconds, or the system's where a runtime cannot set it). */
  readonly keepAlive: Duration.Duration | false | undefined
  /** Checked by the transport, which knows whether its runtime can poll. */
  readonly busyPoll: Duration.Input | undefined
  readonly readTimeout: Duration.Duration | undefined
  readonly stallCheckAfter: Duration.Duration | undefined
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
  readonly maxResults: number
  readonly maxResponseSize: number
  readonly collation: number
  readonly types: ValueOptions
  readonly connectAttributes: Readonly<Record<string, string>>
  readonly programName: string | undefined
  readonly sessionVariables: ReadonlyArray<readonly [name: string, value: SessionValue]>
  readonly initSql: ReadonlyArray<string>
  readonly trackGtids: boolean
}

const fail = (option: string, message: string) =>
  Result.fail(new ConfigError({ option, message: `${option}: ${message}` }))

/** A positive duration, or undefined when the input is not one. */
export const positiveDuration = (input: Duration.Input): Duration.Duration | undefined => {
  const duration = Duration.fromInput(input)
  return Option.isSome(duration) && Duration.isPositive(duration.value) ? duration.value : undefined
}

/** The longest delay a timer takes on every runtime (2³¹−1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MILLIS = 2 ** 31 - 1

/**
 * A duration as the timers that use it need it: positive, finite and at most `MAX_TIMER_MILLIS`;
 * otherwise what is wrong with it, to follow the value in a message.
 */
export const timerInput = (input: Duration.Input): Result.Result<Duration.Duration, string> => {
  const duration = Duration.fromInput(input)
  if (Option.isNone(duration) || !Duration.isPositive(duration.value))
    return Result.fail('is not a positive duration (use e.g. "5 seconds" or a number of milliseconds)')
  if (!Duration.isFinite(duration.value) || Duration.toMillis(duration.value) > MAX_TIMER_MILLIS)
    return Result.fail(
      `is longer than the longest timer, ${MAX_TIMER_MILLIS} ms (about 24 days): leave the option out for no limit`
    )
  return Result.succeed(duration.value)
}

/** A duration option checked by `timerInput`; the refusal names the option. */
export const timerDuration = (option: string, input: Duration.Input): Result.Result<Duration.Duration, ConfigError> =>
  Result.mapError(
    timerInput(input),
    (problem) => new ConfigError({ option, message: `${option}: ${String(input)} ${problem}` })
  )

/** The option an `SslPolicy` refusal is about, from the `ssl.…` name it starts with. */
const sslOption = (message: string): string => /^ssl\.\w+/.exec(message)?.[0] ?? "ssl"

const utf8Charsets: ReadonlyArray<string> = ["utf8mb4", "utf8mb3", "utf8"]

/** Refuses a collation whose character set is not UTF-8: text and parameters are sent as UTF-8. */
const checkCollation = (id: number): Result.Result<number, ConfigError> => {
  if (!Number.isInteger(id) || id < 1 || id > 255)
    return fail("collation", "must be a collation id from 1 to 255 (the handshake has one byte for it)")
  const known = Collations.collation(id)
  if (known === undefined) return fail("collation", `${id} is not a known collation id: use 45 (utf8mb4_general_ci)`)
  if (!utf8Charsets.includes(known.charset))
    return fail(
      "collation",
      `${id} is ${known.name}, character set ${known.charset}: this client sends text and parameters as UTF-8, ` +
        "so the connection's character set must be utf8mb4 (or utf8mb3); use 45 (utf8mb4_general_ci) or " +
        `224 (utf8mb4_unicode_ci). Columns may keep ${known.charset}: the server converts.`
    )
  return Result.succeed(id)
}

/** A string password as `Redacted`; other forms are hidden already. */
export const hidePassword = (password: Password | undefined): HiddenPassword | undefined =>
  typeof password === "string" ? Redacted.make(password) : password

/** The one endpoint of `host`, `port` or `socketPath`. */
const singleEndpoint = (options: ConnectionOptions): Result.Result<Endpoint.Endpoint, ConfigError> => {
  const port = options.port ?? 3306
  if (!isPort(port)) return fail("port", `${port} is not a TCP port (1–65535)`)
  if (options.socketPath === "") return fail("socketPath", "is empty: give the path of the server's Unix socket")
  return Result.succeed(
    options.socketPath !== undefined
      ? Endpoint.unix(options.socketPath)
      : Endpoint.tcp(options.host === undefined || options.host === "" ? "localhost" : options.host, port)
  )
}

const hostEntry = (entry: HostEntry, index: number): Result.Result<Endpoint.Endpoint, ConfigError> => {
  const option = `hosts[${index}]`
  const parsed = typeof entry === "string" ? parseHost(entry) : Result.succeed(entry)
  if (Result.isFailure(parsed)) return fail(option, parsed.failure)
  const { host, port = 3306 } = parsed.success
  if (host.trim() === "") return fail(option, "has an empty host")
  if (!isPort(port)) return fail(option, `${port} is not a TCP port (1–65535)`)
  return Result.succeed(Endpoint.tcp(host, port))
}

/** The endpoints of `hosts`, which excludes `host`, `port` and `socketPath`. */
const endpoints = (options: ConnectionOptions): Result.Result<ReadonlyArray<Endpoint.Endpoint>, ConfigError> => {
  if (options.hosts === undefined) return Result.map(singleEndpoint(options), (endpoint) => [endpoint])
  const single = (["host", "port", "socketPath"] as const).filter((key) => options[key] !== undefined)
  if (single.length > 0)
    return fail("hosts", `give either hosts or ${single.join(" and ")}, not both (hosts entries carry their ports)`)
  if (options.hosts.length === 0) return fail("hosts", "is empty: give at least one host")
  return Result.all(options.hosts.map(hostEntry))
}

/** Each host with its own TLS policy: verify-identity checks each server against its own name. */
const resolveHosts = (options: ConnectionOptions): Result.Result<ReadonlyArray<ResolvedHost>, ConfigError> =>
  Result.flatMap(endpoints(options), (list) =>
    Result.all(
      list.map((endpoint) =>
        Result.mapBoth(SslPolicy.resolve(options.ssl ?? {}, endpoint), {
          onFailure: (error) => new ConfigError({ option: sslOption(error.message), message: error.message }),
          onSuccess: (ssl): ResolvedHost => ({ endpoint, ssl })
        })
      )
    )
  )

/** Checks the options; every refusal names the option and says what to change. */
export const resolve = (options: ConnectionOptions): Result.Result<ResolvedOptions, ConfigError> => {
  const decoded = decodeOptions(ConnectionOptionsSchema, options)
  if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
  if (typeof options.user !== "string" || options.user.length === 0) return fail("user", "give the user to log in as")
  if (options.user.includes("\0")) return fail("user", "must not contain a NUL character")
  if (options.database?.includes("\0")) return fail("database", "must not contain a NUL character")
  const hosts = resolveHosts(options)
  if (Result.isFailure(hosts)) return Result.fail(hosts.failure)
  const cacheSize = options.statementCacheSize ?? 256
  if (!Number.isInteger(cacheSize) || cacheSize < 0) return fail("statementCacheSize", "must be an integer ≥ 0")
  const maxPacketSize = options.maxPacketSize ?? 64 * 1024 * 1024
  if (!Number.isSafeInteger(maxPacketSize) || maxPacketSize < 1024)
    return fail("maxPacketSize", "must be an integer of at least 1024 bytes")
  const maxResults = options.maxResults ?? 10_000
  if (!Number.isSafeInteger(maxResults) || maxResults < 1) return fail("maxResults", "must be an integer ≥ 1")
  const maxResponseSize = options.maxResponseSize ?? 256 * 1024 * 1024
  if (!Number.isSafeInteger(maxResponseSize) || maxResponseSize < 1024)
    return fail("maxResponseSize", "must be an integer of at least 1024 bytes")
  const collation = checkCollation(options.collation ?? 45)
  if (Result.isFailure(collation)) return Result.fail(collation.failure)
  if (options.serverPublicKey !== undefined && !options.serverPublicKey.includes("-----BEGIN PUBLIC KEY-----"))
    return fail("serverPublicKey", "must be the PEM text of an RSA public key (-----BEGIN PUBLIC KEY-----)")
  const connectTimeout = timerDuration("connectTimeout", options.connectTimeout ?? "10 seconds")
  if (Result.isFailure(connectTimeout)) return Result.fail(connectTimeout.failure)
  const cancelTimeout = timerDuration("cancelTimeout", options.cancelTimeout ?? "5 seconds")
  if (Result.isFailure(cancelTimeout)) return Result.fail(cancelTimeout.failure)
  const keepAlive =
    options.keepAlive === undefined || options.keepAlive === false
      ? undefined
      : timerDuration("keepAlive", options.keepAlive)
  if (keepAlive !== undefined && Result.isFailure(keepAlive)) return Result.fail(keepAlive.failure)
  const readTimeout = options.readTimeout === undefined ? undefined : timerDuration("readTimeout", options.readTimeout)
  if (readTimeout !== undefined && Result.isFailure(readTimeout)) return Result.fail(readTimeout.failure)
  const zoneProblem = options.types?.timeZone === undefined ? undefined : timeZoneProblem(options.types.timeZone)
  if (zoneProblem !== undefined) return fail("types.timeZone", zoneProblem)
  const stallCheckAfter =
    options.stallCheckAfter === false
      ? undefined
      : timerDuration("stallCheckAfter", options.stallCheckAfter ?? "5 seconds")
  if (stallCheckAfter !== undefined && Result.isFailure(stallCheckAfter)) return Result.fail(stallCheckAfter.failure)
  const statementTimeout =
    options.statementTimeout === undefined ? undefined : timerDuration("statementTimeout", options.statementTimeout)
  if (statementTimeout !== undefined && Result.isFailure(statementTimeout)) return Result.fail(statementTimeout.failure)
  const sessionVariables = Object.entries(options.sessionVariables ?? {})
  const badName = sessionVariables.find(([name]) => !variableName.test(name))
  if (badName !== undefined)
    return fail(
      `sessionVariables.${badName[0]}`,
      "is not a system variable name (letters, digits and underscores, not starting with a digit)"
    )
  const initSql = typeof options.initSql === "string" ? [options.initSql] : (options.initSql ?? [])
  if (initSql.some((sql) => sql.trim() === "")) return fail("initSql", "holds an empty statement")
  return Result.succeed({
    endpoint: hosts.success[0]!.endpoint,
    hosts: hosts.success,
    hostOrder: options.hostOrder ?? "sequential",
    targetSessionAttrs: options.targetSessionAttrs ?? "any",
    user: options.user,
    password: hidePassword(options.password),
    password2: hidePassword(options.password2),
    password3: hidePassword(options.password3),
    database: options.database === "" ? undefined : options.database,
    ssl: hosts.success[0]!.ssl,
    compression: options.compression,
    connectTimeout: connectTimeout.success,
    keepAlive: options.keepAlive === false ? false : keepAlive?.success,
    busyPoll: options.busyPoll,
    readTimeout: readTimeout?.success,
    stallCheckAfter: stallCheckAfter?.success,
    statementTimeout: statementTimeout?.success,
    killQueryOnInterrupt: options.killQueryOnInterrupt ?? true,
    cancelTimeout: cancelTimeout.success,
    serverPublicKey: options.serverPublicKey,
    allowPublicKeyRetrieval: options.allowPublicKeyRetrieval ?? false,
    allowCleartextPasswords: options.allowCleartextPasswords ?? false,
    multipleStatements: options.multipleStatements ?? false,
    localInfile: options.localInfile,
    statementCacheSize: cacheSize,
    maxPacketSize,
    maxResults,
    maxResponseSize,
    collation: collation.success,
    types: valueDefaults(options.types),
    connectAttributes: options.connectAttributes ?? {},
    programName: options.programName,
    sessionVariables,
    initSql,
    trackGtids: options.trackGtids ?? false
  })
}

/**
 * The client's value options over the protocol's defaults. One default for BIGINT wherever the
 * client reads a value (MysqlConnection, SqlClient, the change stream): a number while it is safe,
 * a bigint beyond 2^53 (`bigint: "bigint"` for always a bigint). The protocol's codecs keep
 * bigint as their own default.
 */
export const valueDefaults = (types: ValueOptions | undefined): ValueOptions => ({ bigint: "number", ...types })

/** A system variable's name, as `SET SESSION` takes it unquoted. */
const variableName = /^[A-Za-z_][A-Za-z0-9_]*$/

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
