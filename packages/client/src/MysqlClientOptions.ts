/**
 * The options of `MysqlClient`: those of every pooled connection, of the pool, and of effect/sql
 * (span attributes, name transforms).
 */
import type { ConnectionOptions } from "./ConnectionOptions.ts"
import type { PoolOptions } from "./MysqlPool.ts"

export interface MysqlClientOptions extends ConnectionOptions, PoolOptions {
  /** Added to every statement's span, before the client's own `db.*` attributes. */
  readonly spanAttributes?: Readonly<Record<string, unknown>>
  /** Renames result columns (e.g. snake_case to camelCase). */
  readonly transformResultNames?: (name: string) => string
  /** Renames identifiers written with `sql(name)`, `sql.insert`, `sql.update` (e.g. camelCase to snake_case). */
  readonly transformQueryNames?: (name: string) => string
}

const poolKeys = [
  "minConnections",
  "maxConnections",
  "acquireTimeout",
  "idleTimeout",
  "maxLifetime",
  "validateAfter",
  "validationTimeout",
  "heartbeatInterval",
  "resetOnRelease"
] as const satisfies ReadonlyArray<keyof PoolOptions>

const clientKeys = ["spanAttributes", "transformResultNames", "transformQueryNames"] as const

/** Splits the client's options into those of each connection and those of the pool. */
export const split = (
  options: MysqlClientOptions
): { readonly connection: ConnectionOptions; readonly pool: PoolOptions } => {
  const connection: Record<string, unknown> = {}
  const pool: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue
    if ((poolKeys as ReadonlyArray<string>).includes(key)) pool[key] = value
    else if (!(clientKeys as ReadonlyArray<string>).includes(key)) connection[key] = value
  }
  return { connection: connection as unknown as ConnectionOptions, pool: pool as PoolOptions }
}
