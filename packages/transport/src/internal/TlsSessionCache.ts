/**
 * TLS sessions kept for resumption, one per route and TLS settings, with what the full handshake
 * that created each session verified. A resumed handshake shows no certificate (node:tls's
 * `getPeerCertificate()` is empty then), so the checks an ssl-mode asks for are made again on the
 * certificate kept here, which the resumed session is bound to.
 *
 * A cache belongs to whoever opens the connections (one per `Transport` layer), never to the
 * process: two layers, or two tunnels that both reach a `localhost:3306`, keep apart.
 */
import type { Buffer } from "node:buffer"
import { createHash } from "node:crypto"
import type { PeerCertificate } from "node:tls"
import { Redacted } from "effect"
import { type Endpoint, format } from "../Endpoint.ts"
import type { TlsSettings } from "../SslPolicy.ts"

/** What the full handshake established about the server, as `verifyPeer` reads it. */
export interface VerifiedPeer {
  readonly authorized: boolean
  readonly authorizationError: string | undefined
  /** node:tls's certificate object, kept whole for `checkServerIdentity`. */
  readonly certificate: PeerCertificate
}

export interface CachedSession {
  /** node:tls's serialized session (a TLS 1.2 session or ticket, or a TLS 1.3 ticket). */
  readonly session: Buffer
  readonly peer: VerifiedPeer
}

/** Enough for every route a pool talks to, and for a few settings each. */
const defaultCapacity = 100

/** Least recently used entries go first once `capacity` is reached; a newer session replaces an older one. */
export class TlsSessionCache {
  readonly #entries = new Map<string, CachedSession>()
  readonly capacity: number

  constructor(capacity: number = defaultCapacity) {
    this.capacity = capacity
  }

  get size(): number {
    return this.#entries.size
  }

  /** The session under `key`, if its certificate is still valid at `now`. */
  get(key: string, now: Date): CachedSession | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    this.#entries.delete(key)
    const validTo = Date.parse(entry.peer.certificate.valid_to ?? "")
    // A session would otherwise outlive the certificate it was verified with.
    if (!(now.getTime() <= validTo)) return undefined
    this.#entries.set(key, entry)
    return entry
  }

  set(key: string, entry: CachedSession): void {
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    if (this.#entries.size > this.capacity) {
      this.#entries.delete(this.#entries.keys().next().value as string)
    }
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }
}

/**
 * Everything that decides whether a certificate is accepted or what the client presents. The
 * passphrase is left out: it only unlocks `key`, which is in.
 */
const verificationFields = (settings: TlsSettings) => [
  settings.mode,
  settings.verifyChain,
  settings.verifyHostname,
  settings.identity,
  settings.servername ?? null,
  settings.ca ?? null,
  settings.crl ?? null,
  [...settings.fingerprints].sort(),
  settings.cert ?? null,
  settings.key === undefined ? null : Redacted.value(settings.key),
  settings.minVersion ?? null,
  settings.maxVersion ?? null,
  settings.ciphers ?? null,
  settings.ciphersuites ?? null
]

/** The route of a connection to `endpoint` as its carrier reaches it: `Tcp:db:3306`, `Unix:/run/mysqld.sock`. */
export const routeOf = (endpoint: Endpoint): string => `${endpoint._tag}:${format(endpoint)}`

/**
 * The cache key of `settings` on `route` (how the server is reached, e.g. `Tcp:db:3306`). The
 * settings enter as a SHA-256 digest, so that no key or certificate text sits in a readable key.
 */
export const sessionKey = (route: string, settings: TlsSettings): string =>
  `${route} ${createHash("sha256")
    .update(JSON.stringify(verificationFields(settings)))
    .digest("base64url")}`
