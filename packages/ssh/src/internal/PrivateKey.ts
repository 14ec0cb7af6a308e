/**
 * The private key as ssh2 can use it on every runtime. ssh2 reads OpenSSH keys and classic PEM
 * keys, but not PKCS#8, and on Deno it cannot sign with a classic PEM key that is encrypted. Those
 * two kinds are decrypted and rewritten here through the runtime's own key parser (node:crypto),
 * once, when the tunnel is made: RSA as PKCS#1, EC as SEC1, Ed25519 (which has no classic PEM
 * form) in OpenSSH's format.
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
    return Result.succeed(key)
  })
}
