/**
 * The private key as ssh2 can use it on every runtime. ssh2 reads OpenSSH keys and classic PEM
 * keys, but not PKCS#8; on Deno it cannot sign with a classic PEM key that is encrypted, nor with
 * about every other OpenSSH ECDSA key (see `canonicalEcdsa`). Those kinds are decrypted and
 * rewritten here through the runtime's own key parser (node:crypto), once, when the tunnel is
 * made: RSA as PKCS#1, EC as SEC1, Ed25519 (which has no classic PEM form) in OpenSSH's format.
 */
import * as Crypto from "node:crypto"
import { Redacted, Result } from "effect"
import ssh2 from "ssh2"

export interface UsableKey {
  readonly privateKey: string
  readonly passphrase: string | undefined
}

const pkcs8 = /-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/
const encryptedClassicPem = /-----BEGIN (RSA|EC|DSA) PRIVATE KEY-----[\s\S]*Proc-Type:\s*4,ENCRYPTED/
const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/

/** Re-encodes a key that node:crypto can read; a failure is the key's text or the passphrase. */
const rewrite = (text: string, passphrase: string | undefined): Result.Result<string, string> => {
  if (passphrase === undefined && encrypted.test(text))
    return Result.fail("the private key is encrypted: give its passphrase")
  let key: Crypto.KeyObject
  try {
    key = Crypto.createPrivateKey({ key: text, format: "pem", ...(passphrase === undefined ? {} : { passphrase }) })
  } catch (error) {
    return Result.fail(`the private key cannot be read (is the passphrase right?): ${(error as Error).message}`)
  }
  switch (key.asymmetricKeyType) {
    case "rsa":
      return Result.succeed(String(key.export({ type: "pkcs1", format: "pem" })))
    case "ec":
      return Result.succeed(String(key.export({ type: "sec1", format: "pem" })))
    case "ed25519":
      return Result.succeed(openSshEd25519(key))
    default:
      return Result.fail(`private keys of type ${key.asymmetricKeyType} cannot be used for SSH here`)
  }
}

/** An Ed25519 key in OpenSSH's own unencrypted format (PROTOCOL.key in the OpenSSH sources). */
const openSshEd25519 = (key: Crypto.KeyObject): string => {
  const jwk = key.export({ format: "jwk" })
  const seed = Buffer.from(jwk.d ?? "", "base64url")
  const publicKey = Buffer.from(jwk.x ?? "", "base64url")
  const string = (bytes: Uint8Array | string) => {
    const body = typeof bytes === "string" ? Buffer.from(bytes) : bytes
    const length = Buffer.alloc(4)
    length.writeUInt32BE(body.length)
    return Buffer.concat([length, body])
  }
  const uint32 = (value: number) => {
    const bytes = Buffer.alloc(4)
    bytes.writeUInt32BE(value)
    return bytes
  }
  const publicBlob = Buffer.concat([string("ssh-ed25519"), string(publicKey)])
  const check = Crypto.randomBytes(4).readUInt32BE()
  const secret = Buffer.concat([
    uint32(check),
    uint32(check),
    string("ssh-ed25519"),
    string(publicKey),
    string(Buffer.concat([seed, publicKey])),
    string("")
  ])
  // Padded with 1, 2, 3, … to the cipher's block size, 8 for "none".
  const padding = Buffer.from(Array.from({ length: (8 - (secret.length % 8)) % 8 }, (_, i) => i + 1))
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    string("none"),
    string("none"),
    string(""),
    uint32(1),
    string(publicBlob),
    string(Buffer.concat([secret, padding]))
  ])
  const lines = body.toString("base64").match(/.{1,70}/g) ?? []
  return ["-----BEGIN OPENSSH PRIVATE KEY-----", ...lines, "-----END OPENSSH PRIVATE KEY-----", ""].join("\n")
}

/**
 * P-521 keys stay as they are: their scalar's top byte holds a single bit, so its mpint has no
 * extra zero byte, and ssh2 could not read them back as SEC1 on Deno, which lacks P-521 ECDH.
 */
const curves: Record<string, { readonly jwk: string; readonly size: number }> = {
  "ecdsa-sha2-nistp256": { jwk: "P-256", size: 32 },
  "ecdsa-sha2-nistp384": { jwk: "P-384", size: 48 }
}

/** A DER length at `at`: its value and where the content starts. */
const derLength = (der: Uint8Array, at: number) => {
  const first = der[at] ?? 0
  if (first < 0x80) return { length: first, start: at + 1 }
  let length = 0
  for (let i = 1; i <= (first & 0x7f); i++) length = length * 256 + (der[at + i] ?? 0)
  return { length, start: at + 1 + (first & 0x7f) }
}

/** `bytes` as exactly `size` bytes: an SSH mpint carries a leading zero, or fewer bytes. */
const fixedSize = (bytes: Uint8Array, size: number) => {
  const out = new Uint8Array(size)
  const from = Math.max(0, bytes.length - size)
  out.set(bytes.subarray(from), size - (bytes.length - from))
  return Buffer.from(out)
}

/**
 * An OpenSSH ECDSA key rewritten as canonical SEC1. ssh2 turns the key's scalar, an SSH mpint,
 * into SEC1 as it is, which strict parsers (Deno's) refuse when the mpint has a leading zero byte
 * or fewer bytes than the curve: about every other key. Going through JWK fixes the length.
 */
const canonicalEcdsa = (parsed: ssh2.ParsedKey): string | undefined => {
  const curve = curves[parsed.type]
  if (curve === undefined) return undefined
  // SEC1 ECPrivateKey as ssh2 writes it: SEQUENCE { INTEGER 1, OCTET STRING scalar, … }.
  const der = Buffer.from(parsed.getPrivatePEM().replace(/-----[^-]+-----|\s/g, ""), "base64")
  const sequence = derLength(der, 1)
  const scalar = derLength(der, sequence.start + 4)
  const d = der.subarray(scalar.start, scalar.start + scalar.length)
  // The public blob ends with the point: 0x04, then x and y.
  const point = parsed.getPublicSSH().subarray(-(1 + 2 * curve.size))
  const key = Crypto.createPrivateKey({
    format: "jwk",
    key: {
      kty: "EC",
      crv: curve.jwk,
      d: fixedSize(d, curve.size).toString("base64url"),
      x: Buffer.from(point.subarray(1, 1 + curve.size)).toString("base64url"),
      y: Buffer.from(point.subarray(1 + curve.size)).toString("base64url")
    }
  })
  return String(key.export({ type: "sec1", format: "pem" }))
}

/** The key and passphrase to give ssh2, or why the key cannot be used. */
export const usableKey = (
  privateKey: Redacted.Redacted<string>,
  passphrase: Redacted.Redacted<string> | undefined
): Result.Result<UsableKey, string> => {
  const text = Redacted.value(privateKey)
  const secret = passphrase === undefined ? undefined : Redacted.value(passphrase)
  const rewritten =
    pkcs8.test(text) || encryptedClassicPem.test(text)
      ? Result.map(rewrite(text, secret), (pem) => ({ privateKey: pem, passphrase: undefined }))
      : Result.succeed({ privateKey: text, passphrase: secret })
  return Result.flatMap(rewritten, (key) => {
    const parsed = ssh2.utils.parseKey(key.privateKey, key.passphrase)
    if (parsed instanceof Error) {
      return Result.fail(
        /passphrase/i.test(parsed.message)
          ? `the private key cannot be decrypted: ${parsed.message} (is the passphrase right?)`
          : `the private key cannot be read: ${parsed.message}`
      )
    }
    const ecdsa = canonicalEcdsa(parsed)
    return Result.succeed(ecdsa === undefined ? key : { privateKey: ecdsa, passphrase: undefined })
  })
}
