/**
 * Host-key verification, as OpenSSH's client decides it (`hostfile.c`, `match.c`, `sshconnect.c`):
 * the key an SSH server presents is checked against pinned `SHA256:` fingerprints or against
 * known_hosts text, and anything short of a match refuses the connection.
 *
 * Keys travel as their SSH wire blob (RFC 4253 §6.6): what the server sends in its key exchange,
 * and what the base64 field of a known_hosts or authorized_keys line decodes to. The module is pure
 * apart from WebCrypto (SHA-256 for fingerprints, HMAC-SHA1 for hashed host names), which Node,
 * Deno and Bun all offer.
 *
 * known_hosts support: comments and blank lines, comma-separated host patterns with `*`, `?` and
 * `!` negation, `[host]:port` for ports other than 22, hashed names (`|1|salt|hmac`, as written by
 * `ssh-keygen -H` and `HashKnownHosts yes`), and `@revoked`. Lines that cannot be used are never an
 * error: they are set aside with their line number and the reason (`KnownHosts.ignored`), and so is
 * `@cert-authority`, since host certificates are not supported. Unlike OpenSSH's `CheckHostIP`, the
 * host is matched by the name the tunnel dials, not also by its resolved address.
 */
import { type Cause, Effect, Schema } from "effect"

/** A `hostKeys` or `knownHosts` option that cannot be used; the message says what to write instead. */
const HostKeyOptionErrorBase: Schema.Class<
  HostKeyOptionError,
  Schema.TaggedStruct<"HostKeyOptionError", { readonly message: Schema.String }>,
  Cause.YieldableError
> = Schema.TaggedError<HostKeyOptionError>()("HostKeyOptionError", { message: Schema.String })

export class HostKeyOptionError extends HostKeyOptionErrorBase {}

/** How the tunnel knows its server: pinned fingerprints, or known_hosts text. */
export type HostKeyOption = { readonly fingerprints: ReadonlyArray<string> } | { readonly knownHosts: string }

/** Which names a known_hosts line stands for. */
export type HostNames =
  | {
      readonly _tag: "Patterns"
      readonly patterns: ReadonlyArray<{ readonly pattern: string; readonly negated: boolean }>
    }
  | { readonly _tag: "Hashed"; readonly salt: Uint8Array<ArrayBuffer>; readonly hash: Uint8Array }

export interface KnownHostsEntry {
  /** 1-based, as editors and OpenSSH's messages count. */
  readonly line: number
  readonly revoked: boolean
  readonly names: HostNames
  readonly keyType: string
  readonly key: Uint8Array
}

export interface IgnoredLine {
  readonly line: number
  readonly reason: string
}

export type HostKeyPolicy =
  | { readonly _tag: "Fingerprints"; readonly fingerprints: ReadonlyArray<string> }
  | {
      readonly _tag: "KnownHosts"
      readonly entries: ReadonlyArray<KnownHostsEntry>
      readonly ignored: ReadonlyArray<IgnoredLine>
    }

interface Presented {
  /** `SHA256:<base64>` of the presented key, to pin or to compare with `ssh-keygen -lf`. */
  readonly fingerprint: string
  /** The key's algorithm name from its blob (`ssh-ed25519`, `ssh-rsa`, ...), or `unknown`. */
  readonly keyType: string
}

/**
 * What to do with a presented key. Every verdict but `Accepted` refuses the connection, and its
 * message says why and what to change.
 * - `Unknown`: nothing is known about this host; `knownHostsLine` is the line that would trust it.
 * - `Mismatch`: the host is known by other keys. `changed`: a different key of the same type,
 *   OpenSSH's "REMOTE HOST IDENTIFICATION HAS CHANGED"; `otherType`: only keys of other types are
 *   known; `notPinned`: none of the pinned fingerprints. `known` holds the known keys' fingerprints.
 * - `Revoked`: a `@revoked` line names this key for this host.
 */
export type Verdict =
  | ({ readonly _tag: "Accepted" } & Presented)
  | ({ readonly _tag: "Unknown"; readonly knownHostsLine: string; readonly message: string } & Presented)
  | ({
      readonly _tag: "Mismatch"
      readonly reason: "changed" | "otherType" | "notPinned"
      readonly known: ReadonlyArray<string>
      readonly message: string
    } & Presented)
  | ({ readonly _tag: "Revoked"; readonly message: string } & Presented)

// --- key blobs -------------------------------------------------------------------------------

/**
 * The algorithm name a key blob starts with (an SSH `string`: uint32 length, then bytes), or
 * `undefined` when the blob is too short for the length it claims or the name is not printable.
 */
export const keyType = (blob: Uint8Array): string | undefined => {
  if (blob.length < 4) return undefined
  const length = ((blob[0]! << 24) | (blob[1]! << 16) | (blob[2]! << 8) | blob[3]!) >>> 0
  // Algorithm names are short ASCII (RFC 4250 §4.6.1 caps them at 64 characters).
  if (length === 0 || length > 64 || length > blob.length - 4) return undefined
  let name = ""
  for (let i = 4; i < 4 + length; i++) {
    const byte = blob[i]!
    if (byte <= 0x20 || byte >= 0x7f) return undefined
    name += String.fromCharCode(byte)
  }
  return name
}

const toBase64 = (bytes: Uint8Array) => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Strict base64 (padded, no whitespace), or `undefined`. */
const fromBase64 = (text: string): Uint8Array<ArrayBuffer> | undefined => {
  if (text.length === 0 || !base64Pattern.test(text)) return undefined
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i])

/** OpenSSH's default fingerprint: `SHA256:` and the unpadded base64 of SHA-256 over the key blob. */
export const fingerprint = (keyBlob: Uint8Array): Effect.Effect<string> =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", new Uint8Array(keyBlob))).pipe(
    Effect.map((digest) => `SHA256:${toBase64(new Uint8Array(digest)).replace(/=+$/, "")}`)
  )

/** The name a known_hosts line uses for a host: bare on port 22, `[host]:port` on any other. */
const hostName = (host: string, port: number) => {
  const lower = host.toLowerCase()
  return port === 22 ? lower : `[${lower}]:${port}`
}

/** A known_hosts line that trusts `keyBlob` for `host` at `port`. */
export const knownHostsLine = (host: string, port: number, keyBlob: Uint8Array): string =>
  `${hostName(host, port)} ${keyType(keyBlob) ?? "unknown"} ${toBase64(keyBlob)}`

// --- the option ------------------------------------------------------------------------------

const sha256Pattern = /^SHA256:([A-Za-z0-9+/]{43})=?$/
const md5Pattern = /^(?:MD5:)?[0-9a-f]{2}(?::[0-9a-f]{2}){15}$/i

const parseFingerprint = (text: string): string | HostKeyOptionError => {
  const trimmed = text.trim()
  const match = sha256Pattern.exec(trimmed)
  if (match !== null) return `SHA256:${match[1]}`
  if (md5Pattern.test(trimmed))
    return new HostKeyOptionError({
      message: `the host key fingerprint ${trimmed} is an MD5 fingerprint, which is too weak to trust; pin the SHA256: fingerprint instead (ssh-keygen -lf <host key> prints it)`
    })
  return new HostKeyOptionError({
    message: `the host key fingerprint ${JSON.stringify(trimmed)} is not an OpenSSH SHA256 fingerprint, which looks like SHA256: followed by 43 base64 characters (ssh-keygen -lf <host key> prints it)`
  })
}

/** Reads the `hostKeys` or `knownHosts` option; only malformed or MD5 fingerprints fail (known_hosts text never does). */
export const policy = (option: HostKeyOption): Effect.Effect<HostKeyPolicy, HostKeyOptionError> => {
  if ("knownHosts" in option) return Effect.succeed(parseKnownHosts(option.knownHosts))
  const fingerprints: Array<string> = []
  for (const text of option.fingerprints) {
    const parsed = parseFingerprint(text)
    if (typeof parsed !== "string") return Effect.fail(parsed)
    fingerprints.push(parsed)
  }
  return Effect.succeed({ _tag: "Fingerprints", fingerprints })
}

// --- known_hosts text ------------------------------------------------------------------------

const parseNames = (field: string): HostNames | string => {
  if (!field.startsWith("|")) {
    const patterns = field
      .split(",")
      .filter((pattern) => pattern !== "")
      .map((pattern) =>
        pattern.startsWith("!")
          ? { pattern: pattern.slice(1).toLowerCase(), negated: true }
          : { pattern: pattern.toLowerCase(), negated: false }
      )
    return patterns.length === 0 ? "it names no host" : { _tag: "Patterns", patterns }
  }
  const [, magic, salt, hash, ...rest] = field.split("|")
  if (magic !== "1" || rest.length > 0) return "its hashed host name is not in the |1|salt|hash form"
  const saltBytes = fromBase64(salt ?? "")
  const hashBytes = fromBase64(hash ?? "")
  // Both are HMAC-SHA1 sized (hostfile.c refuses other salt lengths).
  if (saltBytes?.length !== 20 || hashBytes?.length !== 20) return "its hashed host name is malformed"
  return { _tag: "Hashed", salt: saltBytes, hash: hashBytes }
}

const parseLine = (text: string, line: number): KnownHostsEntry | IgnoredLine | undefined => {
  const fields = text.trim().split(/[ \t]+/)
  if (fields[0] === undefined || fields[0] === "" || fields[0].startsWith("#")) return undefined
  let revoked = false
  if (fields[0].startsWith("@")) {
    const marker = fields.shift()
    if (marker === "@cert-authority") return { line, reason: "@cert-authority lines are not supported" }
    if (marker !== "@revoked") return { line, reason: `unknown marker ${marker}` }
    revoked = true
  }
  const [hosts, type, encoded] = fields
  if (hosts === undefined || type === undefined || encoded === undefined)
    return { line, reason: "it needs a host, a key type and a base64 key" }
  const names = parseNames(hosts)
  if (typeof names === "string") return { line, reason: names }
  const key = fromBase64(encoded)
  if (key === undefined) return { line, reason: "its key is not valid base64" }
  const blobType = keyType(key)
  if (blobType === undefined) return { line, reason: "its key is not an SSH public key" }
  if (blobType !== type) return { line, reason: `it says ${type} but holds a ${blobType} key` }
  return { line, revoked, names, keyType: type, key }
}

/** Reads known_hosts text. Never fails: lines it cannot use are listed in `ignored`. */
export const parseKnownHosts = (text: string): HostKeyPolicy => {
  const entries: Array<KnownHostsEntry> = []
  const ignored: Array<IgnoredLine> = []
  text.split(/\r?\n/).forEach((content, index) => {
    const parsed = parseLine(content, index + 1)
    if (parsed === undefined) return
    if ("reason" in parsed) ignored.push(parsed)
    else entries.push(parsed)
  })
  return { _tag: "KnownHosts", entries, ignored }
}

/**
 * `*` and `?` wildcards, as `match_pattern` in OpenSSH's match.c. Backtracks only to the last `*`,
 * so it runs in O(name × pattern) at worst rather than exponentially.
 */
const wildcardMatch = (name: string, pattern: string) => {
  let n = 0
  let p = 0
  let star = -1
  let resume = 0
  while (n < name.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === name[n])) {
      n++
      p++
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++
      resume = n
    } else if (star >= 0) {
      p = star + 1
      n = ++resume
    } else return false
  }
  while (pattern[p] === "*") p++
  return p === pattern.length
}

const hmacSha1 = (salt: Uint8Array<ArrayBuffer>, name: string) =>
  Effect.promise(async () => {
    const key = await crypto.subtle.importKey("raw", salt, { name: "HMAC", hash: "SHA-1" }, false, ["sign"])
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(name)))
  })

/** A negated pattern that matches vetoes the whole line, as in `match_hostname`. */
const namesMatch = (names: HostNames, name: string): Effect.Effect<boolean> => {
  if (names._tag === "Hashed") return Effect.map(hmacSha1(names.salt, name), (hash) => equalBytes(hash, names.hash))
  let matched = false
  for (const { pattern, negated } of names.patterns) {
    if (!wildcardMatch(name, pattern)) continue
    if (negated) return Effect.succeed(false)
    matched = true
  }
  return Effect.succeed(matched)
}

// --- verification ----------------------------------------------------------------------------

const describe = (host: string, port: number, presented: Presented) =>
  [`the SSH server ${host} port ${port}`, `the ${presented.keyType} key ${presented.fingerprint}`] as const

const unknown = (host: string, port: number, keyBlob: Uint8Array, presented: Presented): Verdict => {
  const [server, key] = describe(host, port, presented)
  const line = knownHostsLine(host, port, keyBlob)
  return {
    _tag: "Unknown",
    ...presented,
    knownHostsLine: line,
    message: `${server} is not known: it presented ${key}. Check that fingerprint against the server's own (ssh-keygen -lf on its host key), then pin it in hostKeys or add this line to knownHosts: ${line}`
  }
}

const checkFingerprints = (
  fingerprints: ReadonlyArray<string>,
  host: string,
  port: number,
  keyBlob: Uint8Array,
  presented: Presented
): Verdict => {
  if (fingerprints.includes(presented.fingerprint)) return { _tag: "Accepted", ...presented }
  if (fingerprints.length === 0) return unknown(host, port, keyBlob, presented)
  const [server, key] = describe(host, port, presented)
  return {
    _tag: "Mismatch",
    ...presented,
    reason: "notPinned",
    known: fingerprints,
    message: `${server} presented ${key}, which is none of the pinned fingerprints (${fingerprints.join(", ")}): someone may be intercepting the connection, or the server's key was replaced`
  }
}

const fingerprintsOf = (entries: ReadonlyArray<KnownHostsEntry>) =>
  Effect.forEach(entries, (entry) => Effect.map(fingerprint(entry.key), (print) => `${print} (line ${entry.line})`))

/**
 * OpenSSH's precedence (`check_hostkeys_by_key_or_type`): a revoked key is refused even where
 * another line accepts it; then an equal key accepts; then any other key for the host refuses.
 */
const checkKnownHosts = Effect.fnUntraced(function* (
  entries: ReadonlyArray<KnownHostsEntry>,
  host: string,
  port: number,
  keyBlob: Uint8Array,
  presented: Presented
) {
  const name = hostName(host, port)
  const matching = yield* Effect.filter(entries, (entry) => namesMatch(entry.names, name))
  const [server, key] = describe(host, port, presented)
  const revoked = matching.find((entry) => entry.revoked && equalBytes(entry.key, keyBlob))
  if (revoked !== undefined) {
    const message = `${server} presented ${key}, which the known_hosts text revokes (line ${revoked.line})`
    return { _tag: "Revoked", ...presented, message } satisfies Verdict
  }
  const trusted = matching.filter((entry) => !entry.revoked)
  if (trusted.some((entry) => equalBytes(entry.key, keyBlob)))
    return { _tag: "Accepted", ...presented } satisfies Verdict
  if (trusted.length === 0) return unknown(host, port, keyBlob, presented)
  const sameType = trusted.filter((entry) => entry.keyType === presented.keyType)
  if (sameType.length > 0) {
    const known = yield* fingerprintsOf(sameType)
    const message = `the host key of ${server} has changed: it presented ${key}, but the known_hosts text holds another ${presented.keyType} key for it (${known.join(", ")}). Someone may be intercepting the connection, or the key was replaced: update the known_hosts text only after checking the new key with the server's administrator`
    return { _tag: "Mismatch", ...presented, reason: "changed", known, message } satisfies Verdict
  }
  const known = yield* fingerprintsOf(trusted)
  const types = Array.from(new Set(trusted.map((entry) => entry.keyType))).join(", ")
  const message = `${server} presented ${key}, but the known_hosts text knows it only by keys of other types (${types}: ${known.join(", ")}); add its ${presented.keyType} key after checking it with the server's administrator, or make the tunnel ask for a known type`
  return { _tag: "Mismatch", ...presented, reason: "otherType", known, message } satisfies Verdict
})

/** Decides whether the key an SSH server at `host`:`port` presented may be trusted. */
export const verify = (
  policy: HostKeyPolicy,
  host: string,
  port: number,
  keyBlob: Uint8Array
): Effect.Effect<Verdict> =>
  Effect.flatMap(fingerprint(keyBlob), (print): Effect.Effect<Verdict> => {
    const presented: Presented = { fingerprint: print, keyType: keyType(keyBlob) ?? "unknown" }
    return policy._tag === "Fingerprints"
      ? Effect.succeed(checkFingerprints(policy.fingerprints, host, port, keyBlob, presented))
      : checkKnownHosts(policy.entries, host, port, keyBlob, presented)
  })
