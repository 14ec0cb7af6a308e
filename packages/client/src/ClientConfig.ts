/**
 * Client options from effect's `Config` (environment variables by default): `MYSQL_URL`, then
 * `MYSQL_HOST`, `MYSQL_PORT` (or `MYSQL_HOSTS`, a host list: `h1:3306,h2,[::1]:3307`),
 * `MYSQL_USER`, `MYSQL_PASSWORD`, `MYSQL_DATABASE` and every URL parameter as `MYSQL_` + its
 * name in upper snake case (`ssl-mode` is `MYSQL_SSL_MODE`, `ssl-ca` is `MYSQL_SSL_CA`,
 * `max-connections` is `MYSQL_MAX_CONNECTIONS`). A variable overrides the same setting in the URL.
 * The URL and the password are read as `Redacted`.
 */
import { Config, Effect, Option, type Redacted, Result } from "effect"
import { SourceError } from "effect/ConfigProvider"
import type { OptionsWithUser } from "./MysqlClientOptions.ts"
import { applyParameters, parameters, parse, parseHostList, type UrlSettings } from "./Url.ts"

/** The variable that carries a URL parameter: `ssl-mode` → `MYSQL_SSL_MODE`. */
export const variableName = (parameter: string, prefix = "MYSQL"): string =>
  `${prefix}_${parameter.toUpperCase().replaceAll("-", "_")}`

const optional = (name: string) => Config.option(Config.String(name))

const configError = (message: string) => new Config.ConfigError(new SourceError({ message }))

/** The settings the environment (or any `ConfigProvider`) describes, under `prefix` (default MYSQL). */
export const settings = (prefix = "MYSQL"): Config.Config<UrlSettings> => {
  const names = Object.keys(parameters)
  const values = Config.all({
    url: Config.option(Config.Redacted(`${prefix}_URL`)),
    host: optional(`${prefix}_HOST`),
    hosts: optional(`${prefix}_HOSTS`),
    port: optional(`${prefix}_PORT`),
    user: optional(`${prefix}_USER`),
    password: Config.option(Config.Redacted(`${prefix}_PASSWORD`)),
    database: optional(`${prefix}_DATABASE`),
    parameters: Config.all(Object.fromEntries(names.map((name) => [name, optional(variableName(name, prefix))])))
  })
  return Config.mapEffect(values, (found) => {
    const fromUrl = Option.match(found.url, {
      onNone: () => Result.succeed<UrlSettings>({ options: { user: "" }, sslFiles: {} }),
      onSome: (url: Redacted.Redacted<string>) => parse(url)
    })
    if (Result.isFailure(fromUrl)) return Effect.fail(configError(`${prefix}_URL: ${fromUrl.failure.message}`))
    const base: { -readonly [K in keyof OptionsWithUser]: OptionsWithUser[K] } = { ...fromUrl.success.options }
    // A variable naming where to connect replaces what the URL named there.
    if (Option.isSome(found.hosts)) {
      const hosts = parseHostList(found.hosts.value, `${prefix}_HOSTS`)
      if (Result.isFailure(hosts)) return Effect.fail(configError(hosts.failure.message))
      delete base.host
      delete base.port
      base.hosts = hosts.success
    } else if (Option.isSome(found.host)) delete base.hosts
    if (Option.isSome(found.host)) base.host = found.host.value
    if (Option.isSome(found.port)) {
      const port = Number(found.port.value)
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        return Effect.fail(configError(`${prefix}_PORT: ${found.port.value} is not a TCP port`))
      base.port = port
    }
    if (Option.isSome(found.user)) base.user = found.user.value
    if (Option.isSome(found.password)) base.password = found.password.value
    if (Option.isSome(found.database)) base.database = found.database.value
    const given = Object.entries(found.parameters).flatMap(([name, value]) =>
      Option.isSome(value) ? [[name, value.value] as const] : []
    )
    const applied = applyParameters(base, given, (name) => variableName(name, prefix))
    if (Result.isFailure(applied)) return Effect.fail(configError(applied.failure.message))
    if (applied.success.options.user === "")
      return Effect.fail(
        configError(
          `no user to log in as: set ${prefix}_URL (mysql://user:password@host:port/database), or ${prefix}_USER ` +
            `with ${prefix}_HOST, ${prefix}_PASSWORD and ${prefix}_DATABASE as needed`
        )
      )
    return Effect.succeed({
      options: applied.success.options,
      sslFiles: { ...fromUrl.success.sslFiles, ...applied.success.sslFiles }
    })
  })
}
