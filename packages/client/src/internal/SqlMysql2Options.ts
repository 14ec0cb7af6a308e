/**
 * @effect/sql-mysql2's config as options of ours, so that its users change only the import and
 * the layer's transport: `username` is `user`, `connectionTTL` is `maxLifetime`, the options in
 * `poolConfig` go beneath those given beside it, and a `url`'s beneath them all (the reverse of
 * sql-mysql2, where the URL wins: explicit options winning is how `layerFromUrl` already reads).
 * A name of theirs given with ours and a different value is refused rather than guessed at.
 */
import { type Redacted, Result } from "effect"
import { timerDuration } from "../ConnectionOptions.ts"
import { ConfigError } from "../Errors.ts"
import type { MysqlClientOptions } from "../MysqlClientOptions.ts"
import { ClientOptionsSchema, decodeOptions } from "./OptionsSchema.ts"

export interface MappedOptions {
  /** The URL whose options go beneath `options`. */
  readonly url: string | Redacted.Redacted<string> | undefined
  /** Only our names. */
  readonly options: MysqlClientOptions
}

const synonyms = [
  ["username", "user"],
  ["connectionTTL", "maxLifetime"]
] as const

const defined = (options: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined))

/** Checks the options, sql-mysql2's names included, and maps those names onto ours. */
export const fromSqlMysql2 = (options: MysqlClientOptions): Result.Result<MappedOptions, ConfigError> => {
  const decoded = decodeOptions(ClientOptionsSchema, options)
  if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
  const { url, poolConfig, ...given } = defined(options as Readonly<Record<string, unknown>>) as MysqlClientOptions
  const mapped: Record<string, unknown> = { ...defined(poolConfig ?? {}), ...given }
  // Checked here too, so that a bad duration is refused under the name it was given.
  const ttl = given.connectionTTL === undefined ? undefined : timerDuration("connectionTTL", given.connectionTTL)
  if (ttl !== undefined && Result.isFailure(ttl)) return Result.fail(ttl.failure)
  for (const [theirs, name] of synonyms) {
    const value = given[theirs]
    if (value === undefined) continue
    delete mapped[theirs]
    if (given[name] !== undefined && given[name] !== value)
      return Result.fail(
        new ConfigError({ option: theirs, message: `${theirs}: means ${name}, which is given too; give only one` })
      )
    mapped[name] = value
  }
  return Result.succeed({ url, options: mapped as unknown as MysqlClientOptions })
}
