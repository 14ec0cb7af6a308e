/**
 * The MySQL client's ssl-modes as one pure decision table, shared by every runtime's layer.
 *
 * `resolve` turns the user's `ssl` options and the endpoint into a policy, refusing options that
 * cannot work before any connection is attempted; `decide` tells the handshake, once the server's
 * greeting has said whether it offers TLS, whether to upgrade, go on in plaintext, or stop.
 *
 * | mode              | upgrades              | chain checked | host name checked |
 * |-------------------|-----------------------|---------------|-------------------|
 * | `disabled`        | never                 | –             | –                 |
 * | `preferred`       | if the server offers  | no            | no                |
 * | `required`        | always, else fails    | no            | no                |
 * | `verify-ca`       | always, else fails    | yes           | no                |
 * | `verify-identity` | always, else fails    | yes           | yes               |
 *
 * Pinned `fingerprints` replace the chain check: the server's certificate must be one of them,
 * whoever signed it.
 *
 * Without a `mode`, a given `ca` or `fingerprints` means `verify-identity`: whoever names what to
 * trust wants it checked, and `preferred` would accept any certificate, or none.
 */
import { Effect, Redacted, Result } from "effect"
import type { Endpoint } from "./Endpoint.ts"
import { SslConfigError } from "./SslConfigError.ts"
import { TlsError } from "./TlsError.ts"

export const sslModes = ["disabled", "preferred", "required", "verify-ca", "verify-identity"] as const
export type SslMode = (typeof sslModes)[number]

export const tlsVersions = ["TLSv1.2", "TLSv1.3"] as const
export type TlsVersion = (typeof tlsVersions)[number]

/** The `ssl` options, named as the MySQL client and mysql2 name them. */
export interface SslOptions {
  /**
   * Default `verify-identity` when `ca` or `fingerprints` is given, `preferred` (as in the MySQL
   * client) otherwise.
   */
  readonly mode?: SslMode | undefined
  /** PEM text of the CA certificates to trust instead of the system store; one string may hold several. */
  readonly ca?: string | ReadonlyArray<string> | undefined
  /** PEM text of the client certificate (chain) for `REQUIRE X509` accounts; needs `key`. */
  readonly cert?: string | undefined
  /** PEM text of the client certificate's private key. */
  readonly key?: string | Redacted.Redacted<string> | undefined
  /** Decrypts an encrypted `key`. */
  readonly passphrase?: string | Redacted.Redacted<string> | undefined
  /** The name to send as SNI and to check the certificate against, when it differs from the host. */
  readonly servername?: string | undefined
  readonly minVersion?: TlsVersion | undefined
  readonly maxVersion?: TlsVersion | undefined
  /** TLS 1.2 cipher list in OpenSSL syntax, e.g. `ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256`. */
  readonly ciphers?: string | undefined
  /** TLS 1.3 cipher suites, e.g. `TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256`. */
  readonly ciphersuites?: string | undefined
  /** SHA-256 fingerprints of the server certificates to accept (hex, colons optional). */
  readonly fingerprints?: ReadonlyArray<string> | undefined
  /** PEM text of certificate revocation lists (-----BEGIN X509 CRL-----), checked with the chain. */
  readonly crl?: string | ReadonlyArray<string> | undefined
  /**
   * Offer the TLS session of an earlier connection to the same server with the same settings, so
   * that a reconnect skips the certificate exchange (default true; see docs/tls.md). `false` makes
   * every connection a full handshake.
   */
  readonly sessionReuse?: boolean | undefined
}

/** What to do once TLS is to be set up: everything a layer needs, already checked. */
export interface TlsSettings {
  readonly mode: Exclude<SslMode, "disabled">
  /** Trusted CAs; `undefined` means the runtime's system store. */
  readonly ca: ReadonlyArray<string> | undefined
  readonly cert: string | undefined
  /** Redacted, like the passphrase, so that printing the settings shows no secret. */
  readonly key: Redacted.Redacted<string> | undefined
  readonly passphrase: Redacted.Redacted<string> | undefined
  /** The name the certificate must carry (verify-identity) and, unless it is an IP address, the SNI. */
  readonly identity: string
  /** SNI to send: never an IP address, which SNI cannot carry. */
  readonly servername: string | undefined
  readonly verifyChain: boolean
  readonly verifyHostname: boolean
  /** Upper-case hex without colons. */
  readonly fingerprints: ReadonlyArray<string>
  readonly minVersion: TlsVersion | undefined
  readonly maxVersion: TlsVersion | undefined
  readonly ciphers: string | undefined
  readonly ciphersuites: string | undefined
  /** CRLs to check the server's certificate against; only set when the chain is verified. */
  readonly crl: ReadonlyArray<string> | undefined
  readonly sessionReuse: boolean
}

export type SslPolicy =
  | { readonly mode: "disabled" }
  | { readonly mode: Exclude<SslMode, "disabled">; readonly tls: TlsSettings }

/** Whether the connection goes on in plaintext or is upgraded right after the SSL Request. */
export type Decision = "plaintext" | "tls"

const ipv4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/

/** SNI may not carry an IP address; an IPv6 literal is the only kind of host with a colon. */
export const isIpAddress = (host: string): boolean => ipv4.test(host) || host.includes(":")

const pemBlock = (pem: string, label: RegExp) => label.test(pem)

const certificateLabel = /-----BEGIN CERTIFICATE-----/
const keyLabel = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/
const crlLabel = /-----BEGIN X509 CRL-----/

/** Accepts `AB:CD:…` or `abcd…`, returns upper-case hex, or undefined when it is not 32 bytes of hex. */
export const normalizeFingerprint = (fingerprint: string): string | undefined => {
  const hex = fingerprint.replace(/:/g, "").trim().toUpperCase()
  return /^[0-9A-F]{64}$/.test(hex) ? hex : undefined
}

const redacted = (secret: string | Redacted.Redacted<string>): Redacted.Redacted<string> =>
  Redacted.isRedacted(secret) ? secret : Redacted.make(secret)

const fail = (message: string) => Result.fail(new SslConfigError({ message }))

/** The mode asked for, or the one that checks what the options say to trust. */
const modeOf = (options: SslOptions): SslMode =>
  options.mode ?? (options.ca !== undefined || options.fingerprints !== undefined ? "verify-identity" : "preferred")

/** Checks the options against the endpoint; every refusal says what to change. */
export const resolve = (options: SslOptions, endpoint: Endpoint): Result.Result<SslPolicy, SslConfigError> => {
  const mode = modeOf(options)
  if (!(sslModes as ReadonlyArray<string>).includes(mode)) {
    return fail(`ssl.mode "${String(mode)}" is not an ssl-mode: use one of ${sslModes.join(", ")}`)
  }
  if (mode === "disabled") return Result.succeed({ mode })

  const ca = options.ca === undefined ? undefined : typeof options.ca === "string" ? [options.ca] : [...options.ca]
  if (ca !== undefined && ca.length === 0) {
    return fail("ssl.ca is an empty list: give the PEM text of at least one CA, or leave ssl.ca out")
  }
  if (ca?.some((pem) => !pemBlock(pem, certificateLabel))) {
    return fail("ssl.ca must be PEM text (-----BEGIN CERTIFICATE-----), not a file name: read the file first")
  }
  if (options.cert !== undefined && options.key === undefined) {
    return fail("ssl.cert is set without ssl.key: a client certificate needs its private key")
  }
  if (options.key !== undefined && options.cert === undefined) {
    return fail("ssl.key is set without ssl.cert: give the client certificate that goes with the key")
  }
  if (options.cert !== undefined && !pemBlock(options.cert, certificateLabel)) {
    return fail("ssl.cert must be PEM text (-----BEGIN CERTIFICATE-----), not a file name: read the file first")
  }
  const key = options.key === undefined ? undefined : redacted(options.key)
  if (key !== undefined && !pemBlock(Redacted.value(key), keyLabel)) {
    return fail("ssl.key must be a PEM private key (-----BEGIN PRIVATE KEY-----), not a file name")
  }
  if (options.passphrase !== undefined && options.key === undefined) {
    return fail("ssl.passphrase is set without ssl.key: the passphrase decrypts the client key")
  }
  for (const version of [options.minVersion, options.maxVersion]) {
    if (version !== undefined && !(tlsVersions as ReadonlyArray<string>).includes(version)) {
      return fail(`TLS version "${version}" is not supported: use ${tlsVersions.join(" or ")}`)
    }
  }
  if (options.minVersion === "TLSv1.3" && options.maxVersion === "TLSv1.2") {
    return fail("ssl.minVersion TLSv1.3 is above ssl.maxVersion TLSv1.2: no version is left to negotiate")
  }
  const ciphers = options.ciphers?.split(":").filter((name) => name.length > 0)
  if (ciphers?.some((name) => name.startsWith("TLS_"))) {
    return fail("ssl.ciphers holds TLS 1.3 suites (TLS_…): put those in ssl.ciphersuites")
  }
  const suites = options.ciphersuites?.split(":").filter((name) => name.length > 0)
  if (suites?.some((name) => !name.startsWith("TLS_"))) {
    return fail("ssl.ciphersuites takes TLS 1.3 suites (TLS_AES_128_GCM_SHA256, …): put TLS 1.2 ciphers in ssl.ciphers")
  }
  const fingerprints: Array<string> = []
  for (const fingerprint of options.fingerprints ?? []) {
    const normalized = normalizeFingerprint(fingerprint)
    if (normalized === undefined) {
      return fail(`ssl.fingerprints: "${fingerprint}" is not a SHA-256 fingerprint (64 hex digits, colons optional)`)
    }
    fingerprints.push(normalized)
  }
  if (fingerprints.length > 0 && mode === "preferred") {
    return fail(
      "ssl.fingerprints with mode preferred would fall back to plaintext when the server offers no TLS: use required, verify-ca or verify-identity"
    )
  }
  // A public CA vouches for names, not for "this is our database": verify-ca against the system
  // store would accept any server with any publicly issued certificate.
  if (mode === "verify-ca" && ca === undefined && fingerprints.length === 0) {
    return fail(
      "ssl.mode verify-ca needs ssl.ca (the CA that signed the server's certificate) or ssl.fingerprints; to rely on the system's CAs use verify-identity"
    )
  }

  const crl = options.crl === undefined ? undefined : typeof options.crl === "string" ? [options.crl] : [...options.crl]
  if (crl?.some((pem) => !pemBlock(pem, crlLabel))) {
    return fail("ssl.crl must be PEM text (-----BEGIN X509 CRL-----), not a file name: read the file first")
  }
  if (crl !== undefined && (fingerprints.length > 0 || (mode !== "verify-ca" && mode !== "verify-identity"))) {
    return fail(
      "ssl.crl is checked along with the certificate chain: use it with verify-ca or verify-identity and no ssl.fingerprints"
    )
  }

  if (options.sessionReuse !== undefined && typeof options.sessionReuse !== "boolean") {
    return fail(`ssl.sessionReuse must be true or false, not ${String(options.sessionReuse)}`)
  }

  const identity = options.servername ?? (endpoint._tag === "Tcp" ? endpoint.host : "localhost")
  const verifies = mode === "verify-ca" || mode === "verify-identity"
  return Result.succeed({
    mode,
    tls: {
      mode,
      ca,
      cert: options.cert,
      key,
      passphrase: options.passphrase === undefined ? undefined : redacted(options.passphrase),
      identity,
      servername: isIpAddress(identity) ? undefined : identity,
      verifyChain: verifies && fingerprints.length === 0,
      verifyHostname: mode === "verify-identity",
      fingerprints,
      minVersion: options.minVersion,
      maxVersion: options.maxVersion,
      ciphers: ciphers?.join(":"),
      ciphersuites: suites?.join(":"),
      crl,
      sessionReuse: options.sessionReuse ?? true
    }
  })
}

/** `resolve` as an Effect, for configuration code. */
export const make = (options: SslOptions, endpoint: Endpoint): Effect.Effect<SslPolicy, SslConfigError> =>
  Effect.fromResult(resolve(options, endpoint))

/** Given whether the server's greeting offers TLS (CLIENT_SSL), what the handshake does next. */
export const decide = (policy: SslPolicy, serverOffersTls: boolean): Result.Result<Decision, TlsError> => {
  if (policy.mode === "disabled") return Result.succeed("plaintext")
  if (serverOffersTls) return Result.succeed("tls")
  if (policy.mode === "preferred") return Result.succeed("plaintext")
  return Result.fail(
    new TlsError({
      reason: "server-has-no-tls",
      message: `ssl.mode ${policy.mode} requires TLS, but the server does not offer it (CLIENT_SSL is not set): enable TLS on the server (ssl_cert, ssl_key) or choose ssl.mode preferred or disabled`
    })
  )
}

/** What was checked, for `TlsInfo`: a person reading it should see at once how much was verified. */
export interface Verification {
  readonly mode: Exclude<SslMode, "disabled">
  readonly chain: boolean
  /** The name checked against the certificate, when one was. */
  readonly hostname: string | undefined
  readonly fingerprint: boolean
}

export const verificationOf = (settings: TlsSettings): Verification => ({
  mode: settings.mode,
  chain: settings.verifyChain,
  hostname: settings.verifyHostname ? settings.identity : undefined,
  fingerprint: settings.fingerprints.length > 0
})
