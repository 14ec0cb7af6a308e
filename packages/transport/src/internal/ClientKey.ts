/**
 * Checks the client key before the handshake, the same way on every runtime: Deno's node:tls
 * drops a key it cannot decrypt and connects without a certificate, and reports a key that does
 * not match the certificate only as a failed handshake.
 */
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto"
import { Redacted } from "effect"
import type { TlsSettings } from "../SslPolicy.ts"
import type { TlsError } from "../TlsError.ts"
import { tlsError } from "./TlsFailure.ts"

const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/

const spki = (key: KeyObject) => createPublicKey(key).export({ type: "spki", format: "der" })

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

export const checkClientKey = (settings: TlsSettings): TlsError | undefined => {
  if (settings.cert === undefined || settings.key === undefined) return undefined
  const pem = Redacted.value(settings.key)
  let key: KeyObject
  try {
    key = createPrivateKey({
      key: pem,
      ...(settings.passphrase === undefined ? {} : { passphrase: Redacted.value(settings.passphrase) })
    })
  } catch (error) {
    if (!encrypted.test(pem)) {
      return tlsError("client-key-invalid", `ssl.key is not a valid private key: ${messageOf(error)}`)
    }
    return tlsError(
      "client-key-invalid",
      settings.passphrase === undefined
        ? "ssl.key is encrypted and no ssl.passphrase is set"
        : "ssl.passphrase does not decrypt ssl.key (wrong passphrase)"
    )
  }
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(settings.cert)
  } catch (error) {
    return tlsError("client-key-invalid", `ssl.cert is not a valid certificate: ${messageOf(error)}`)
  }
  return spki(key).equals(certificate.publicKey.export({ type: "spki", format: "der" }))
    ? undefined
    : tlsError("client-key-invalid", "ssl.key is not the private key of ssl.cert (key does not match certificate)")
}
