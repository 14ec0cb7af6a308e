/**
 * `ssh://user[:password]@host[:port]?host-key=SHA256:…&identity-file=/path…` as tunnel options,
 * with the names of OpenSSH's own settings (`IdentityFile`, `UserKnownHostsFile`,
 * `ServerAliveInterval`, `ServerAliveCountMax`, `ConnectTimeout`) in the URL's kebab case. Files
 * are returned as paths, read when the layer is built. Errors name the parameter and never repeat
 * a secret.
 */
import { Duration, Option, Redacted, Result } from "effect"
import type { SshTunnelOptions } from "../SshTunnel.ts"

export interface UrlSettings {
  readonly options: SshTunnelOptions
  /** Files to read: the private key, and known_hosts text. */
  readonly files: { readonly identity?: string; readonly knownHosts?: string }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

interface Draft {
  options: Mutable<SshTunnelOptions>
  keepAlive: { interval?: Duration.Duration | undefined; countMax?: number; off?: true }
  files: Mutable<UrlSettings["files"]>
}

/** Each parameter's effect on the draft, or what is wrong with its value. */
const parameters: Readonly<Record<string, (draft: Draft, value: string) => string | undefined>> = {
  "host-key": (draft, value) => {
    draft.options.hostKeys = [...(draft.options.hostKeys ?? []), ...value.split(",").map((key) => key.trim())]
    return undefined
  },
  "identity-file": (draft, value) => {
    draft.files.identity = value
    return value === "" ? "is empty: give the path of a private key" : undefined
  },
  "known-hosts-file": (draft, value) => {
    draft.files.knownHosts = value
    return value === "" ? "is empty: give the path of a known_hosts file" : undefined
  },
  passphrase: (draft, value) => {
    draft.options.passphrase = Redacted.make(value)
    return undefined
  },
  agent: (draft, value) => {
    draft.options.agent = value
    return value === "" ? "is empty: give the path of the agent's socket" : undefined
  },
  "server-alive-interval": (draft, value) => {
    if (value === "0") {
      draft.keepAlive.off = true
      return undefined
    }
    draft.keepAlive.interval = durationOf(value)
    return draft.keepAlive.interval === undefined ? notADuration(value) : undefined
  },
  "server-alive-count-max": (draft, value) => {
    draft.keepAlive.countMax = Number(value)
    return /^[1-9]\d{0,5}$/.test(value) ? undefined : `${value} is not a whole number of at least 1`
  },
  "connect-timeout": (draft, value) => {
    draft.options.connectTimeout = durationOf(value)
    return draft.options.connectTimeout === undefined ? notADuration(value) : undefined
  }
}

export const parameterNames: ReadonlyArray<string> = Object.keys(parameters)

/** A plain number is seconds, as in OpenSSH's settings; "500 millis" and the like work too. */
const durationOf = (value: string): Duration.Duration | undefined =>
  /^\d+$/.test(value)
    ? Duration.seconds(Number(value))
    : Option.getOrUndefined(Duration.fromInput(value as Duration.Input))

const notADuration = (value: string) => `${value} is not a duration (a number of seconds, or e.g. "500 millis")`

const decode = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

/** Applies parameters (from a URL, or variables) over `options`; `where` names one in messages. */
export const applyParameters = (
  options: SshTunnelOptions,
  entries: Iterable<readonly [string, string]>,
  where: (name: string) => string
): Result.Result<UrlSettings, string> => {
  const draft: Draft = { options: { ...options }, keepAlive: {}, files: {} }
  const seen = new Set<string>()
  for (const [name, value] of entries) {
    const apply = parameters[name]
    if (apply === undefined) {
      return Result.fail(`${where(name)} is not a known parameter (${parameterNames.join(", ")})`)
    }
    if (seen.has(name) && name !== "host-key") return Result.fail(`${where(name)} is given more than once`)
    seen.add(name)
    const problem = apply(draft, value)
    if (problem !== undefined) return Result.fail(`${where(name)} ${problem}`)
  }
  const { interval, countMax, off } = draft.keepAlive
  if (off === true) draft.options.keepAlive = false
  else if (interval !== undefined || countMax !== undefined) {
    draft.options.keepAlive = {
      ...(interval === undefined ? {} : { interval }),
      ...(countMax === undefined ? {} : { countMax })
    }
  }
  return Result.succeed({ options: draft.options, files: draft.files })
}

export const parse = (url: string | Redacted.Redacted<string>): Result.Result<UrlSettings, string> => {
  const text = Redacted.isRedacted(url) ? Redacted.value(url) : url
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    return Result.fail("url is not a URL (expected ssh://user@host:port?host-key=SHA256:…)")
  }
  if (parsed.protocol !== "ssh:") return Result.fail(`url: scheme ${parsed.protocol} is not ssh:`)
  const user = decode(parsed.username)
  const password = decode(parsed.password)
  if (user === undefined || password === undefined)
    return Result.fail("url: the user or password is not valid percent-encoding")
  if (parsed.pathname !== "" && parsed.pathname !== "/") return Result.fail("url: an ssh:// URL has no path")
  const options: Mutable<SshTunnelOptions> = { host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), user }
  if (parsed.port !== "") options.port = Number(parsed.port)
  if (password !== "") options.password = Redacted.make(password)
  return applyParameters(options, parsed.searchParams.entries(), (name) => `url parameter ${name}`)
}
