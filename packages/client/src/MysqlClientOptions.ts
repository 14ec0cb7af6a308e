/**
 * The options of `MysqlClient`: those of every pooled connection, of the pool, of effect/sql
 * (span attributes, name transforms), and of a host list's topology (host checks, replica reads).
 */
import type { Duration } from "effect"
import { Redacted, Result } from "effect"
import { type ConnectionOptions, hidePassword, type Password } from "./ConnectionOptions.ts"
import type { ConfigError } from "./Errors.ts"
import { ClientOptionsSchema, clientKeys, decodeOptions, poolKeys } from "./internal/OptionsSchema.ts"
import type { PoolOptions } from "./MysqlPool.ts"

const passwordKeys: ReadonlyArray<string> = ["password", "password2", "password3"]

export interface MysqlClientOptions extends Omit<ConnectionOptions, "user">, PoolOptions {
  /** Required, here or as `username` or in `url`. */
  readonly user?: string
  /** Added to every statement's span, before the client's own `db.*` attributes. */
  readonly spanAttributes?: Readonly<Record<string, unknown>>
  /** Renames result columns (e.g. snake_case to camelCase). */
  readonly transformResultNames?: (name: string) => string
  /** Renames identifiers written with `sql(name)`, `sql.insert`, `sql.update` (e.g. camelCase to snake_case). */
  readonly transformQueryNames?: (name: string) => string
  /** With a host list: which replicas `MysqlClient.withReplicaReads` reads from (docs/clusters.md). */
  readonly replicaReads?: ReplicaReadOptions
  /** With a host list: how often each host's health and role are checked in the background; default 1 second. */
  readonly hostCheckInterval?: Duration.Input
  /** With a host list: how long a host check may take before the host counts as down; default 2 seconds. */
  readonly hostCheckTimeout?: Duration.Input
  /**
   * Every statement goes as text (COM_QUERY, values written into it escaped) instead of a prepared
   * statement: for proxies that cannot prepare. Default false.
   */
  readonly disablePreparedStatements?: boolean
  /**
   * @effect/sql-mysql2's spelling: the options a `mysql://` URL stands for (see `optionsFromUrl`);
   * the options given beside it win.
   */
  readonly url?: string | Redacted.Redacted<string>
  /** @effect/sql-mysql2's spelling of `user`. */
  readonly username?: string
  /** @effect/sql-mysql2's spelling of `maxLifetime`. */
  readonly connectionTTL?: Duration.Input
  /**
   * @effect/sql-mysql2's pass-through to mysql2's pool: options of ours under our names, which the
   * options given beside it override; a mysql2 name is refused, naming ours.
   */
  readonly poolConfig?: Readonly<Record<string, unknown>>
}

/**
 * What `MysqlClient.fromPool` and `fromConnection` take: the connections are there already, so only
 * effect/sql's options, how statements go, and the `database` the spans name. Give `types` as the
 * connections were given them.
 */
export type ExistingConnectionOptions = Pick<
  MysqlClientOptions,
  "spanAttributes" | "transformResultNames" | "transformQueryNames" | "types" | "database" | "disablePreparedStatements"
>

export interface ReplicaReadOptions {
  /**
   * A replica further behind its primary than this (`Seconds_Behind_Master`), or not replicating,
   * is not read from; `false` reads from any replica that is up. Default 30 seconds.
   */
  readonly maxLag?: Duration.Input | false
  /**
   * A replica read waits until the replica has applied every transaction this client committed
   * before it (`MASTER_GTID_WAIT`, `WAIT_FOR_EXECUTED_GTID_SET`); default true.
   */
  readonly readYourWrites?: boolean
  /** How long that wait may take before the read goes to the primary instead; default 1 second. */
  readonly waitTimeout?: Duration.Input
}

/**
 * Checks the client's options against the one options schema, then splits them into those of each
 * connection and those of the pool. Passwords given as strings become `Redacted` here, so nothing
 * that keeps the options prints them.
 */
export const split = (
  options: MysqlClientOptions
): Result.Result<{ readonly connection: ConnectionOptions; readonly pool: PoolOptions }, ConfigError> => {
  const decoded = decodeOptions(ClientOptionsSchema, options)
  if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
  const connection: Record<string, unknown> = {}
  const pool: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || clientKeys.includes(key)) continue
    if (poolKeys.includes(key)) pool[key] = value
    else connection[key] = passwordKeys.includes(key) ? hidePassword(value as Password) : value
  }
  return Result.succeed({ connection: connection as unknown as ConnectionOptions, pool: pool as PoolOptions })
}

const hideSecrets = (options: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const hidden: Record<string, unknown> = { ...options }
  for (const key of passwordKeys) if (key in hidden) hidden[key] = hidePassword(hidden[key] as Password)
  return hidden
}

const redacted = (value: string | Redacted.Redacted<string>) =>
  typeof value === "string" ? Redacted.make(value) : value

/**
 * The options as given, for `MysqlClient.config`: every password, a URL (which may hold one), and
 * the client certificate's key and its passphrase Redacted, in `poolConfig` as well.
 */
export const redactOptions = (options: MysqlClientOptions): MysqlClientOptions => {
  const hidden = hideSecrets(options as Readonly<Record<string, unknown>>)
  if (options.url !== undefined) hidden.url = redacted(options.url)
  if (options.poolConfig !== undefined) hidden.poolConfig = hideSecrets(options.poolConfig)
  const ssl = options.ssl
  if (ssl !== undefined) {
    hidden.ssl = {
      ...ssl,
      ...(ssl.key === undefined ? {} : { key: redacted(ssl.key) }),
      ...(ssl.passphrase === undefined ? {} : { passphrase: redacted(ssl.passphrase) })
    }
  }
  return hidden as unknown as MysqlClientOptions
}

/** Options that name their user, as a URL's always do: what a single connection takes as well. */
export type OptionsWithUser = MysqlClientOptions & { readonly user: string }
