/**
 * RSA public-key encryption of a password for caching_sha2_password and sha256_password over a
 * plaintext channel. Not public.
 *
 * The server's key arrives as PEM, either SubjectPublicKeyInfo ("BEGIN PUBLIC KEY", what MySQL
 * 8 sends) or PKCS#1 ("BEGIN RSA PUBLIC KEY"); the latter is wrapped into SubjectPublicKeyInfo
 * because WebCrypto imports only "spki". The padding is RSA-OAEP with SHA-1 (MySQL >= 8.0.5).
 */
import { Effect } from "effect"
import { concatBytes } from "../../Bytes.ts"
import { encodeError, type ProtocolError } from "../../ProtocolError.ts"

/** RSA padding of the encrypted password. Only OAEP exists in WebCrypto. */
export type RsaPadding = "oaep" | "pkcs1-v1_5"

const decodeBase64 = (text: string): Uint8Array | undefined => {
  const clean = text.replace(/[\s]/g, "")
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return undefined
  let binary: string
  try {
    binary = atob(clean)
  } catch {
    return undefined
  }
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

const derLength = (length: number): Uint8Array => {
  if (length < 0x80) return Uint8Array.of(length)
  if (length < 0x100) return Uint8Array.of(0x81, length)
  if (length < 0x10000) return Uint8Array.of(0x82, length >> 8, length & 0xff)
  return Uint8Array.of(0x83, length >> 16, (length >> 8) & 0xff, length & 0xff)
}

const derNode = (tag: number, content: Uint8Array): Uint8Array =>
  concatBytes([Uint8Array.of(tag), derLength(content.length), content])

/** AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL } */
const RSA_ALGORITHM_IDENTIFIER = Uint8Array.of(
  0x30,
  0x0d,
  0x06,
  0x09,
  0x2a,
  0x86,
  0x48,
  0x86,
  0xf7,
  0x0d,
  0x01,
  0x01,
  0x01,
  0x05,
  0x00
)

/** SubjectPublicKeyInfo around a PKCS#1 RSAPublicKey (RFC 5280 §4.1, RFC 8017 appendix A.1.1). */
const spkiFromPkcs1 = (pkcs1: Uint8Array): Uint8Array =>
  derNode(0x30, concatBytes([RSA_ALGORITHM_IDENTIFIER, derNode(0x03, concatBytes([Uint8Array.of(0), pkcs1]))]))

const PEM = /-----BEGIN (PUBLIC KEY|RSA PUBLIC KEY)-----([\s\S]*?)-----END \1-----/

/** DER SubjectPublicKeyInfo from a PEM public key, or a message saying what is wrong. */
export const spkiFromPem = (pem: string | Uint8Array): Uint8Array | string => {
  const text = typeof pem === "string" ? pem : new TextDecoder().decode(pem)
  const match = PEM.exec(text)
  if (match === null) return "the server's public key is not a PEM 'PUBLIC KEY' or 'RSA PUBLIC KEY'"
  const der = decodeBase64(match[2])
  if (der === undefined || der.length === 0) return "the server's public key PEM has invalid base64"
  return match[1] === "PUBLIC KEY" ? der : spkiFromPkcs1(der)
}

/**
 * RSA-encrypts `message` with the PEM public key. `pkcs1-v1_5` fails: WebCrypto has no RSA
 * PKCS#1 v1.5 encryption.
 */
export const rsaEncrypt = (
  plugin: string,
  message: Uint8Array,
  publicKeyPem: string | Uint8Array,
  padding: RsaPadding
): Effect.Effect<Uint8Array, ProtocolError> => {
  if (padding !== "oaep") {
    return Effect.fail(
      encodeError(
        plugin,
        "RSA PKCS#1 v1.5 padding (used by sha256_password on MySQL before 8.0.5) is not available in WebCrypto " +
          "on any runtime; connect over TLS (the password then travels in clear inside the tunnel), or use a " +
          "server that pads with RSA-OAEP",
        "publicKey"
      )
    )
  }
  const spki = spkiFromPem(publicKeyPem)
  if (typeof spki === "string") return Effect.fail(encodeError(plugin, spki, "publicKey"))
  return Effect.tryPromise({
    try: async () => {
      const key = await globalThis.crypto.subtle.importKey(
        "spki",
        spki as Uint8Array<ArrayBuffer>,
        { name: "RSA-OAEP", hash: "SHA-1" },
        false,
        ["encrypt"]
      )
      return new Uint8Array(
        await globalThis.crypto.subtle.encrypt({ name: "RSA-OAEP" }, key, message as Uint8Array<ArrayBuffer>)
      )
    },
    catch: (cause) =>
      encodeError(plugin, `RSA-OAEP encryption with the server's public key failed: ${String(cause)}`, "publicKey")
  })
}
