/**
 * Turns what a runtime's TLS stack reports (OpenSSL codes on Node, BoringSSL codes on Bun, rustls
 * messages on Deno) into one of our reasons, with a message that says what to change.
 */
import { TlsError, type TlsFailure } from "../TlsError.ts"

const patterns: ReadonlyArray<readonly [TlsFailure, RegExp]> = [
  ["hostname-mismatch", /ALTNAME_INVALID|not valid for name|NotValidForName|HOSTNAME_MISMATCH/i],
  ["certificate-expired", /CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|certificate expired|\bExpired\b|NotValidYet/i],
  ["certificate-revoked", /CERT_REVOKED|\bRevoked\b/i],
  [
    "chain-not-trusted",
    /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE|CERT_CHAIN_TOO_LONG|INVALID_CA|UnknownIssuer|BadSignature|invalid peer certificate/i
  ],
  [
    "client-certificate-rejected",
    /ALERT_CERTIFICATE_REQUIRED|ALERT_BAD_CERTIFICATE|ALERT_UNKNOWN_CA|ALERT_CERTIFICATE_UNKNOWN|ALERT_ACCESS_DENIED|CertificateRequired|BadCertificate|UnknownCA|CertificateUnknown|AccessDenied/i
  ],
  [
    "protocol-version-refused",
    /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|VERSION_TOO_LOW|VERSION_TOO_HIGH|ProtocolVersion|PeerIncompatible/i
  ]
]

const advice: Record<TlsFailure, string> = {
  "server-has-no-tls": "enable TLS on the server, or choose a mode that allows plaintext",
  "chain-not-trusted":
    "the server's certificate is not signed by a CA in ssl.ca (or the system store): give ssl.ca the CA that signed it, or pin it with ssl.fingerprints",
  "hostname-mismatch":
    "the server's certificate does not name the host connected to: connect by a name the certificate carries, set ssl.servername, or use verify-ca",
  "certificate-expired": "the server's certificate is outside its validity period: renew it on the server",
  "certificate-revoked":
    "the server's certificate is revoked by a CRL in ssl.crl: give the server a new certificate, or update ssl.crl if the list is wrong",
  "fingerprint-mismatch":
    "the server's certificate matches none of the pinned ssl.fingerprints: if its certificate was replaced on purpose, check the new fingerprint on the server (openssl x509 -noout -fingerprint -sha256 -in <its certificate>) and add it to ssl.fingerprints",
  "client-key-invalid":
    "the client certificate cannot be presented: give ssl.cert with its own private key in ssl.key, and ssl.passphrase if that key is encrypted",
  "client-certificate-rejected":
    "the server refused the client certificate (or wanted one): give ssl.cert and ssl.key signed by a CA the server trusts",
  "protocol-version-refused":
    "client and server share no TLS version: adjust ssl.minVersion/ssl.maxVersion or the server's tls_version",
  "handshake-failed": "the TLS handshake failed"
}

export const reasonOf = (text: string): TlsFailure => {
  for (const [reason, pattern] of patterns) if (pattern.test(text)) return reason
  return "handshake-failed"
}

export const tlsError = (reason: TlsFailure, detail?: string, code?: string): TlsError =>
  new TlsError({
    reason,
    message: detail === undefined ? advice[reason] : `${advice[reason]} (${detail})`,
    ...(detail === undefined ? {} : { detail }),
    ...(code === undefined ? {} : { code })
  })

/** The server's handshake_failure alert: it found nothing acceptable in what the client offered. */
const refusedOffer = /ALERT_HANDSHAKE_FAILURE|NO_SHARED_CIPHER|NoCipherSuitesInCommon|HandshakeFailure/i

/** Classifies a runtime error thrown or emitted by a TLS stack. */
export const fromRuntimeError = (error: unknown): TlsError => {
  const code = (error as { code?: unknown } | null)?.code
  const message = error instanceof Error ? error.message : String(error)
  const codeText = typeof code === "string" ? code : undefined
  const text = `${codeText ?? ""} ${message}`
  const reason = reasonOf(text)
  if (reason === "handshake-failed" && refusedOffer.test(text)) {
    return tlsError(
      reason,
      `the server accepted none of what the client offered, most often no cipher in common: compare ssl.ciphers and ssl.ciphersuites with the server's ssl_cipher and tls_version; ${message}`,
      codeText
    )
  }
  return tlsError(reason, message, codeText)
}

/** Whether an error on an established TLS socket is the peer's TLS alert rather than a socket error. */
export const isTlsAlert = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code
  const text = `${typeof code === "string" ? code : ""} ${error instanceof Error ? error.message : String(error)}`
  return /ERR_SSL_|alert|SSL routines/i.test(text)
}
