/**
 * The checks an ssl-mode asks for, made after the handshake on what node:tls reports. node:tls is
 * asked not to reject anything itself, so that the reasons come out the same on every runtime
 * (Deno's node:tls calls an expired certificate an unknown issuer) and so that pinned fingerprints
 * can stand in for the chain. Nothing is written on the connection before these checks pass.
 */
import { DateTime } from "effect"
import type { TlsSettings } from "../SslPolicy.ts"
import { normalizeFingerprint } from "../SslPolicy.ts"
import { TlsError } from "../TlsError.ts"
import type { PeerCertificate } from "../Transport.ts"
import { reasonOf, tlsError } from "./TlsFailure.ts"

/**
 * A subject or issuer: each attribute's value, or values. It names the attributes every typing of
 * node:tls declares (Deno's has no index signature there); the others node:tls gives are kept too.
 */
type DistinguishedName = {
  readonly [Attribute in "C" | "ST" | "L" | "O" | "OU" | "CN"]?: string | ReadonlyArray<string>
}

/** The subset of node:tls's `PeerCertificate` that we read. */
export interface NodePeerCertificate {
  readonly subject?: DistinguishedName
  readonly issuer?: DistinguishedName
  readonly valid_from?: string
  readonly valid_to?: string
  readonly fingerprint256?: string
}

export interface HandshakeOutcome {
  /** The chain verified against the trusted CAs (node:tls's `authorized`, host name not included). */
  readonly authorized: boolean
  readonly authorizationError: string | undefined
  readonly certificate: NodePeerCertificate | undefined
  /** node:tls's `checkServerIdentity`: an error when the certificate does not name `host`. */
  readonly checkIdentity: (host: string) => Error | undefined
  readonly now: Date
}

const distinguishedName = (name: DistinguishedName | undefined) =>
  name === undefined
    ? ""
    : Object.entries(name)
        .filter((entry): entry is [string, string | ReadonlyArray<string>] => entry[1] !== undefined)
        .map(([key, value]) => `${key}=${typeof value === "string" ? value : value.join("+")}`)
        .join(", ")

const dateOf = (text: string | undefined) => {
  const date = text === undefined ? Number.NaN : Date.parse(text)
  return Number.isNaN(date) ? undefined : new Date(date)
}

export const peerCertificate = (certificate: NodePeerCertificate | undefined): PeerCertificate | undefined => {
  const validFrom = dateOf(certificate?.valid_from)
  const validTo = dateOf(certificate?.valid_to)
  if (certificate?.fingerprint256 === undefined || validFrom === undefined || validTo === undefined) return undefined
  return {
    subject: distinguishedName(certificate.subject),
    issuer: distinguishedName(certificate.issuer),
    validFrom: DateTime.fromDateUnsafe(validFrom),
    validTo: DateTime.fromDateUnsafe(validTo),
    fingerprint256: certificate.fingerprint256.toUpperCase()
  }
}

const outsideValidity = (certificate: NodePeerCertificate | undefined, now: Date) => {
  const from = dateOf(certificate?.valid_from)
  const to = dateOf(certificate?.valid_to)
  return (from !== undefined && now < from) || (to !== undefined && now > to)
}

/**
 * Once ssl.crl is given, OpenSSL wants a current CRL from every CA in the chain: a missing, stale or
 * forged one leaves the certificate's revocation unknown, which calls for a CRL, not for a CA.
 */
const crlUnusable = (code: string) =>
  new TlsError({
    reason: "chain-not-trusted",
    message: `the revocation of the server's certificate cannot be checked: give ssl.crl a current CRL from the CA that issued it, and from each intermediate CA (${code})`,
    detail: code,
    code
  })

/** The first check the settings ask for that the peer fails, or undefined when it passes them all. */
export const verifyPeer = (settings: TlsSettings, outcome: HandshakeOutcome): TlsError | undefined => {
  if (settings.fingerprints.length > 0) {
    const presented = normalizeFingerprint(outcome.certificate?.fingerprint256 ?? "")
    if (presented === undefined || !settings.fingerprints.includes(presented)) {
      const fingerprint = outcome.certificate?.fingerprint256?.toUpperCase()
      return tlsError(
        "fingerprint-mismatch",
        fingerprint === undefined
          ? "the server presented no certificate"
          : `the server presented a certificate with SHA-256 fingerprint ${fingerprint}`
      )
    }
  } else if (settings.verifyChain && !outcome.authorized) {
    const code = outcome.authorizationError ?? "UNKNOWN"
    if (/CRL/.test(code)) return crlUnusable(code)
    const reason = outsideValidity(outcome.certificate, outcome.now) ? "certificate-expired" : reasonOf(code)
    return tlsError(reason === "handshake-failed" ? "chain-not-trusted" : reason, code, code)
  }
  if (settings.verifyHostname) {
    const mismatch = outcome.checkIdentity(settings.identity)
    if (mismatch !== undefined) {
      const code = (mismatch as { code?: unknown }).code
      return tlsError("hostname-mismatch", mismatch.message, typeof code === "string" ? code : undefined)
    }
  }
  return undefined
}
