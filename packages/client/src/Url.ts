/**
 * `mysql://user:password@host:port/database?option=value&…` as client options, with the option
 * names of MySQL's connection URIs (`ssl-mode=VERIFY_IDENTITY`, `ssl-ca=/path/ca.pem`, …) and a
 * few of our own for the pool and timeouts. User and password are percent-decoded; the password
 * becomes `Redacted` at once. `?socket=/path` connects over a Unix socket. Several hosts are
 * separated by commas (`mysql://user@h1:3306,h2:3307,[::1]/db`) and become the `hosts` option.
 *
 * Parsing is pure: `ssl-ca`, `ssl-cert`, `ssl-key` and `ssl-crl` name files, which are returned as paths for
 * the caller to read (`MysqlClient.layerFromUrl` does). Every refusal is a `ConfigError` naming the
 * parameter, and never repeats the password.
 *
 * The same parameters, as environment variables (`MYSQL_SSL_MODE` for `ssl-mode`), are what
 * `ClientConfig` reads.
 */
import { SslPolicy } from "@effect-mysql/transport"
import { Duration, Option, Redacted, Result } from "effect"
import { type HostOrder, type HostPort, type TargetSessionAttrs, timerInput } from "./ConnectionOptions.ts"
import { ConfigError } from "./Errors.ts"
import { parseHost } from "./internal/HostList.ts"
import type { OptionsWithUser } from "./MysqlClientOptions.ts"

/** Certificate and key files named by a URL, to be read before connecting. */
export interface SslFiles {
  readonly ca?: string
  readonly cert?: string
  readonly key?: string
  readonly crl?: string
}

export interface UrlSettings {
  readonly options: OptionsWithUser
  readonly sslFiles: SslFiles
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** What parameters build up; turned into `MysqlClientOptions` at the end. */
interface Draft {
  options: Mutable<OptionsWithUser>
  ssl: Mutable<NonNullable<OptionsWithUser["ssl"]>>
  compression: Mutable<NonNullable<OptionsWithUser["compression"]>>
  sslFiles: Mutable<SslFiles>
}

type Apply = (draft: Draft, value: string) => string | undefined

const fail = (parameter: string, message: string) =>
  new ConfigError({ option: parameter, message: `${parameter}: ${message}` })

const booleanValue = (value: string): boolean | undefined => {
  const v = value.toLowerCase()
  if (v === "true" || v === "1" || v === "yes" || v === "on") return true
  if (v === "false" || v === "0" || v === "no" || v === "off") return false
  return undefined
}

/**
 * A plain number is seconds, as in MySQL's `connect-timeout`; "500 millis" and the like also work.
 * The same bounds as the option's apply (no `Infinity`, nothing a timer cannot wait).
 */
const durationValue = (value: string): Duration.Duration | string => {
  const trimmed = value.trim()
  const parsed = /^\d+(\.\d+)?$/.test(trimmed)
    ? Option.some(Duration.seconds(Number(trimmed)))
    : Duration.fromInput(trimmed as Duration.Input)
  if (Option.isNone(parsed)) return `${value} is not a duration (a number of seconds, or e.g. "500 millis")`
  const checked = timerInput(parsed.value)
  return Result.isSuccess(checked) ? checked.success : `${value} ${checked.failure}`
}

const integerValue = (value: string, min: number, max: number): number | undefined => {
  if (!/^\d+$/.test(value.trim())) return undefined
  const n = Number(value)
  return n >= min && n <= max ? n : undefined
}

const list = (value: string) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0)

const duration =
  (set: (draft: Draft, value: Duration.Duration) => void): Apply =>
  (draft, value) => {
    const parsed = durationValue(value)
    if (typeof parsed === "string") return parsed
    set(draft, parsed)
    return undefined
  }

/** A duration, or `false` to turn off what it times. */
const durationOrOff =
  (set: (draft: Draft, value: Duration.Duration | false) => void): Apply =>
  (draft, value) => {
    if (booleanValue(value) === false) {
      set(draft, false)
      return undefined
    }
    const parsed = durationValue(value)
    if (typeof parsed === "string") return `${parsed}, or false`
    set(draft, parsed)
    return undefined
  }

const flag =
  (set: (draft: Draft, value: boolean) => void): Apply =>
  (draft, value) => {
    const parsed = booleanValue(value)
    if (parsed === undefined) return `${value} is not true or false`
    set(draft, parsed)
    return undefined
  }

const integer =
  (min: number, max: number, set: (draft: Draft, value: number) => void): Apply =>
  (draft, value) => {
    const parsed = integerValue(value, min, max)
    if (parsed === undefined) return `${value} is not an integer from ${min} to ${max}`
    set(draft, parsed)
    return undefined
  }

const path =
  (set: (draft: Draft, value: string) => void): Apply =>
  (draft, value) => {
    if (value.trim().length === 0) return "is empty: give a file path"
    set(draft, value)
    return undefined
  }

const oneOf =
  <const L extends string>(choices: ReadonlyArray<L>, set: (draft: Draft, value: L) => void): Apply =>
  (draft, value) => {
    const choice = choices.find((c) => c === value.trim().toLowerCase())
    if (choice === undefined) return `${value} is not one of ${choices.join(", ")}`
    set(draft, choice)
    return undefined
  }

/** A comma-separated host list (`h1:3306,h2,[::1]:3307`); the refusal names `name`. */
export const parseHostList = (text: string, name: string): Result.Result<ReadonlyArray<HostPort>, ConfigError> =>
  Result.all(text.split(",").map((entry) => Result.mapError(parseHost(entry), (problem) => fail(name, problem))))

/** Every parameter a URL (or the environment) may carry, by its URL name. */
export const parameters: Readonly<Record<string, Apply>> = {
  "ssl-mode": (draft, value) => {
    const mode = value.toLowerCase().replaceAll("_", "-")
    if (!(SslPolicy.sslModes as ReadonlyArray<string>).includes(mode))
      return `${value} is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY`
    draft.ssl.mode = mode as SslPolicy.SslMode
    return undefined
  },
  "ssl-ca": path((draft, value) => {
    draft.sslFiles.ca = value
  }),
  "ssl-cert": path((draft, value) => {
    draft.sslFiles.cert = value
  }),
  "ssl-key": path((draft, value) => {
    draft.sslFiles.key = value
  }),
  "ssl-crl": path((draft, value) => {
    draft.sslFiles.crl = value
  }),
  "ssl-fingerprint": (draft, value) => {
    const fingerprints = list(value)
    for (const fingerprint of fingerprints) {
      if (!/^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/.test(fingerprint))
        return `${fingerprint} is not a SHA-256 fingerprint (64 hex digits, colons allowed)`
    }
    draft.ssl.fingerprints = fingerprints
    return undefined
  },
  "ssl-cipher": (draft, value) => {
    draft.ssl.ciphers = value
    return undefined
  },
  "tls-ciphersuites": (draft, value) => {
    draft.ssl.ciphersuites = value
    return undefined
  },
  "tls-version": (draft, value) => {
    const versions = list(value)
    const known = SslPolicy.tlsVersions as ReadonlyArray<string>
    const unknown = versions.find((version) => !known.includes(version))
    if (versions.length === 0 || unknown !== undefined)
      return `${unknown ?? value} is not one of ${SslPolicy.tlsVersions.join(", ")} (a comma-separated list)`
    const sorted = known.filter((version) => versions.includes(version)) as Array<SslPolicy.TlsVersion>
    draft.ssl.minVersion = sorted[0]!
    draft.ssl.maxVersion = sorted.at(-1)!
    return undefined
  },
  "compression-algorithms": (draft, value) => {
    const algorithms = list(value.toLowerCase())
    const unknown = algorithms.find((a) => a !== "zstd" && a !== "zlib" && a !== "uncompressed")
    if (algorithms.length === 0 || unknown !== undefined)
      return `${unknown ?? value} is not one of zstd, zlib, uncompressed (a comma-separated list)`
    draft.compression.algorithms = algorithms as Array<"zstd" | "zlib" | "uncompressed">
    return undefined
  },
  "zstd-compression-level": integer(1, 22, (draft, value) => {
    draft.compression.zstdLevel = value
  }),
  "connect-timeout": duration((draft, value) => {
    draft.options.connectTimeout = value
  }),
  "read-timeout": duration((draft, value) => {
    draft.options.readTimeout = value
  }),
  "busy-poll": duration((draft, value) => {
    draft.options.busyPoll = value
  }),
  "statement-timeout": duration((draft, value) => {
    draft.options.statementTimeout = value
  }),
  "stall-check-after": durationOrOff((draft, value) => {
    draft.options.stallCheckAfter = value
  }),
  "get-server-public-key": flag((draft, value) => {
    draft.options.allowPublicKeyRetrieval = value
  }),
  "multi-statements": flag((draft, value) => {
    draft.options.multipleStatements = value
  }),
  socket: path((draft, value) => {
    draft.options.socketPath = value
  }),
  "host-order": oneOf<HostOrder>(["sequential", "random"], (draft, value) => {
    draft.options.hostOrder = value
  }),
  "target-session-attrs": oneOf<TargetSessionAttrs>(
    ["any", "read-write", "read-only", "prefer-replica"],
    (draft, value) => {
      draft.options.targetSessionAttrs = value
    }
  ),
  "host-check-interval": duration((draft, value) => {
    draft.options.hostCheckInterval = value
  }),
  "host-check-timeout": duration((draft, value) => {
    draft.options.hostCheckTimeout = value
  }),
  "max-replica-lag": durationOrOff((draft, value) => {
    draft.options.replicaReads = { ...draft.options.replicaReads, maxLag: value }
  }),
  "read-your-writes": flag((draft, value) => {
    draft.options.replicaReads = { ...draft.options.replicaReads, readYourWrites: value }
  }),
  "replica-wait-timeout": duration((draft, value) => {
    draft.options.replicaReads = { ...draft.options.replicaReads, waitTimeout: value }
  }),
  "min-connections": integer(0, 10_000, (draft, value) => {
    draft.options.minConnections = value
  }),
  "max-connections": integer(1, 10_000, (draft, value) => {
    draft.options.maxConnections = value
  }),
  "acquire-timeout": duration((draft, value) => {
    draft.options.acquireTimeout = value
  }),
  "idle-timeout": duration((draft, value) => {
    draft.options.idleTimeout = value
  }),
  "max-lifetime": duration((draft, value) => {
    draft.options.maxLifetime = value
  }),
  "validate-after": duration((draft, value) => {
    draft.options.validateAfter = value
  }),
  "heartbeat-interval": durationOrOff((draft, value) => {
    draft.options.heartbeatInterval = value
  }),
  "reset-on-release": flag((draft, value) => {
    draft.options.resetOnRelease = value
  })
}

const emptyDraft = (options: OptionsWithUser): Draft => ({
  options: { ...options },
  ssl: { ...options.ssl },
  compression: { ...options.compression },
  sslFiles: {}
})

const finish = (draft: Draft): UrlSettings => {
  const options: Mutable<OptionsWithUser> = draft.options
  if (Object.keys(draft.ssl).length > 0) options.ssl = draft.ssl
  if (Object.keys(draft.compression).length > 0) options.compression = draft.compression
  return { options, sslFiles: draft.sslFiles }
}

/** Applies named parameters (URL names) on top of `base`; the first bad one is refused. */
export const applyParameters = (
  base: OptionsWithUser,
  entries: Iterable<readonly [name: string, value: string]>,
  describe: (name: string) => string = (name) => name
): Result.Result<UrlSettings, ConfigError> => {
  const draft = emptyDraft(base)
  for (const [name, value] of entries) {
    const apply = parameters[name]
    if (apply === undefined) {
      return Result.fail(fail(describe(name), `unknown parameter; known: ${Object.keys(parameters).join(", ")}`))
    }
    const problem = apply(draft, value)
    if (problem !== undefined) return Result.fail(fail(describe(name), problem))
  }
  return Result.succeed(finish(draft))
}

const decode = (part: string, name: string): string | ConfigError => {
  try {
    return decodeURIComponent(part)
  } catch {
    return fail(name, "is not valid percent-encoding")
  }
}

/**
 * What makes a URL mean something else than it seems to: a second `@` (an unencoded one in the
 * password, which the URL parser would take as part of the user information or the host), a
 * fragment (dropped by the URL parser, with any `?` parameters after it). Checked on the raw text.
 */
const ambiguity = (text: string): ConfigError | undefined => {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(text)?.[1] ?? ""
  if (authority.indexOf("@") !== authority.lastIndexOf("@"))
    return fail("url", "has more than one @ before the host: write an @ in the user or password as %40")
  if (text.includes("#"))
    return fail("url", "has a fragment (#…), which a URL drops: write a # in the password or a value as %23")
  return undefined
}

/** A parameter given twice would silently override the first: refused instead. */
const duplicate = (params: URLSearchParams): string | undefined => {
  const seen = new Set<string>()
  for (const name of params.keys()) {
    if (seen.has(name)) return name
    seen.add(name)
  }
  return undefined
}

/**
 * A URL whose authority lists several hosts, which the URL parser refuses: the list, and the URL
 * with one placeholder host in its place for the parser to read the rest.
 */
const hostListOf = (text: string): { readonly url: string; readonly hosts: string | undefined } => {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(text)
  if (match === null) return { url: text, hosts: undefined }
  const [, scheme, authority, rest] = match as unknown as [string, string, string, string]
  const at = authority.lastIndexOf("@")
  const hosts = authority.slice(at + 1)
  if (!hosts.includes(",")) return { url: text, hosts: undefined }
  return { url: `${scheme}${authority.slice(0, at + 1)}localhost${rest}`, hosts }
}

/** Parses a connection URL; the password never appears in an error. */
export const parse = (url: string | Redacted.Redacted<string>): Result.Result<UrlSettings, ConfigError> => {
  const whole = Redacted.isRedacted(url) ? Redacted.value(url) : url
  const ambiguous = ambiguity(whole)
  if (ambiguous !== undefined) return Result.fail(ambiguous)
  const { url: text, hosts: hostList } = hostListOf(whole)
  const hosts = hostList === undefined ? undefined : parseHostList(hostList, "url.hosts")
  if (hosts !== undefined && Result.isFailure(hosts)) return Result.fail(hosts.failure)
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    return Result.fail(fail("url", "is not a URL (expected mysql://user:password@host:port/database?…)"))
  }
  if (parsed.protocol !== "mysql:" && parsed.protocol !== "mariadb:")
    return Result.fail(fail("url", `scheme ${parsed.protocol} is not mysql: or mariadb:`))
  const user = decode(parsed.username, "url.user")
  if (user instanceof ConfigError) return Result.fail(user)
  const password = decode(parsed.password, "url.password")
  if (password instanceof ConfigError) return Result.fail(password)
  const database = decode(parsed.pathname.replace(/^\//, ""), "url.database")
  if (database instanceof ConfigError) return Result.fail(database)
  if (database.includes("/"))
    return Result.fail(
      fail(
        "url.database",
        database.includes("@")
          ? "contains @ and /: is there an unencoded / in the password? Write / as %2F and @ as %40"
          : `${database} is not a database name`
      )
    )
  let port: number | undefined
  if (parsed.port !== "") {
    port = Number(parsed.port)
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      return Result.fail(fail("url.port", `${parsed.port} is not a TCP port`))
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1")
  const base: Mutable<OptionsWithUser> = { user }
  if (hosts !== undefined) base.hosts = hosts.success
  else if (host !== "") base.host = host
  if (port !== undefined) base.port = port
  if (parsed.password !== "") base.password = Redacted.make(password)
  if (database !== "") base.database = database
  const twice = duplicate(parsed.searchParams)
  if (twice !== undefined)
    return Result.fail(fail(`url parameter ${twice}`, "is given more than once: give each parameter once"))
  return applyParameters(base, parsed.searchParams.entries(), (name) => `url parameter ${name}`)
}
