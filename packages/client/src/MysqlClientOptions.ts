/**
 * The options of `MysqlClient`: those of every pooled connection, of the pool, and of effect/sql
 * (span attributes, name transforms).
 */
import { Result } from "effect"
import { type ConnectionOptions, hidePassword, type Password } from "./ConnectionOptions.ts"
import type { ConfigError } from "./Errors.ts"
import { ClientOptionsSchema, decodeOptions, poolKeys, sqlClientKeys } from "./internal/OptionsSchema.ts"
import type { PoolOptions } from "./MysqlPool.ts"

const passwordKeys: ReadonlyArray<string> = ["password", "password2", "password3"]

export interface MysqlClientOptions extends ConnectionOptions, PoolOptions {
  /** Added to every statement's span, before the client's own `db.*` attributes. */
  readonly spanAttributes?: Readonly<Record<string, unknown>>
  /** Renames result columns (e.g. snake_case to camelCase). */
  readonly transformResultNames?: (name: string) => string
  /** Renames identifiers written with `sql(name)`, `sql.insert`, `sql.update` (e.g. camelCase to snake_case). */
  readonly transformQueryNames?: (name: string) => string
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
    if (value === undefined || sqlClientKeys.includes(key)) continue
    if (poolKeys.includes(key)) pool[key] = value
    else connection[key] = passwordKeys.includes(key) ? hidePassword(value as Password) : value
  }
  return Result.succeed({ connection: connection as unknown as ConnectionOptions, pool: pool as PoolOptions })
}
