import { describe, expect, it } from "@effect/vitest"
import { ed25519 } from "@noble/curves/ed25519.js"
import { Effect } from "effect"
import * as CachingSha2Password from "../src/auth/CachingSha2Password.ts"
import * as ClientEd25519 from "../src/auth/ClientEd25519.ts"
import * as MysqlClearPassword from "../src/auth/MysqlClearPassword.ts"
import * as MysqlNativePassword from "../src/auth/MysqlNativePassword.ts"
import * as Sha256Password from "../src/auth/Sha256Password.ts"
import { authVectors } from "./fixtures/authVectors.ts"

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
const unhex = (text: string): Uint8Array => {
  const out = new Uint8Array(text.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16)
  return out
}

const pemBody = (pem: string, label: string): Uint8Array<ArrayBuffer> => {
  const body = pem.replace(`-----BEGIN ${label}-----`, "").replace(`-----END ${label}-----`, "").replace(/\s/g, "")
  const bin = atob(body)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

const decryptOaep = (ciphertext: Uint8Array) =>
  Effect.promise(async () => {
    const key = await crypto.subtle.importKey(
      "pkcs8",
      pemBody(authVectors.rsa.privateKeyPkcs8Pem, "PRIVATE KEY"),
      { name: "RSA-OAEP", hash: "SHA-1" },
      false,
      ["decrypt"]
    )
    return new Uint8Array(await crypto.subtle.decrypt({ name: "RSA-OAEP" }, key, ciphertext as Uint8Array<ArrayBuffer>))
  })

describe("mysql_native_password", () => {
  for (const v of authVectors.mysqlNativePassword) {
    it.effect(`scramble and verify: ${JSON.stringify(v.password.slice(0, 12))}`, () =>
      Effect.gen(function* () {
        const response = yield* MysqlNativePassword.scramble(v.password, unhex(v.nonce))
        expect(hex(response)).toBe(v.response)
        expect(hex(yield* MysqlNativePassword.storedHash(v.password))).toBe(v.storedHash)
        const ok = yield* MysqlNativePassword.verify({
          nonce: unhex(v.nonce),
          response,
          storedHash: unhex(v.storedHash)
        })
        expect(ok).toBe(true)
      })
    )
  }

  it.effect("a trailing NUL on the nonce (AuthSwitchRequest) is ignored", () =>
    Effect.gen(function* () {
      const v = authVectors.mysqlNativePassword[0]
      const withNul = new Uint8Array([...unhex(v.nonce), 0])
      expect(hex(yield* MysqlNativePassword.scramble(v.password, withNul))).toBe(v.response)
    })
  )

  it.effect("verify rejects a wrong password, a wrong nonce and a wrong length", () =>
    Effect.gen(function* () {
      const v = authVectors.mysqlNativePassword[0]
      const nonce = unhex(v.nonce)
      const storedHash = unhex(v.storedHash)
      const wrong = yield* MysqlNativePassword.scramble("Secret", nonce)
      expect(yield* MysqlNativePassword.verify({ nonce, response: wrong, storedHash })).toBe(false)
      const otherNonce = nonce.map((b) => b ^ 1)
      expect(yield* MysqlNativePassword.verify({ nonce: otherNonce, response: unhex(v.response), storedHash })).toBe(
        false
      )
      expect(yield* MysqlNativePassword.verify({ nonce, response: new Uint8Array(0), storedHash })).toBe(false)
      expect(
        yield* MysqlNativePassword.verify({ nonce, response: unhex(v.response), storedHash: new Uint8Array(0) })
      ).toBe(false)
    })
  )
})

describe("caching_sha2_password", () => {
  for (const v of authVectors.cachingSha2Password) {
    it.effect(`scramble and fast-path verify: ${JSON.stringify(v.password.slice(0, 12))}`, () =>
      Effect.gen(function* () {
        const nonce = unhex(v.nonce)
        const response = yield* CachingSha2Password.scramble(v.password, nonce)
        expect(hex(response)).toBe(v.response)
        expect(hex(yield* CachingSha2Password.cacheEntry(v.password))).toBe(v.cacheEntry)
        expect(yield* CachingSha2Password.verify({ nonce, response, cacheEntry: unhex(v.cacheEntry) })).toBe(true)
        const wrong = yield* CachingSha2Password.scramble(`${v.password}!`, nonce)
        expect(yield* CachingSha2Password.verify({ nonce, response: wrong, cacheEntry: unhex(v.cacheEntry) })).toBe(
          false
        )
      })
    )

    it.effect(
      `full auth over RSA-OAEP decrypts to (password+NUL) XOR nonce: ${JSON.stringify(v.password.slice(0, 12))}`,
      () =>
        Effect.gen(function* () {
          for (const pem of [authVectors.rsa.publicKeySpkiPem, authVectors.rsa.publicKeyPkcs1Pem]) {
            const ciphertext = yield* CachingSha2Password.fullAuthRsa(v.password, unhex(v.nonce), pem)
            expect(ciphertext.length).toBe(256)
            expect(hex(yield* decryptOaep(ciphertext))).toBe(v.rsaPlaintext)
          }
        })
    )
  }

  it("full auth over a secure channel is password + NUL", () => {
    expect(hex(CachingSha2Password.fullAuthSecure("secret"))).toBe("73656372657400")
    expect(hex(CachingSha2Password.fullAuthSecure(""))).toBe("00")
  })

  it.effect("a malformed public key is a ProtocolError naming the plugin", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(CachingSha2Password.fullAuthRsa("pw", new Uint8Array(20), "not a key"))
      expect(error._tag).toBe("ProtocolError")
      expect(error.packet).toBe("caching_sha2_password")
      const garbage = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
      const error2 = yield* Effect.flip(CachingSha2Password.fullAuthRsa("pw", new Uint8Array(20), garbage))
      expect(error2._tag).toBe("ProtocolError")
    })
  )
})

describe("sha256_password", () => {
  it.effect("RSA-OAEP payload decrypts to (password+NUL) XOR nonce", () =>
    Effect.gen(function* () {
      const v = authVectors.cachingSha2Password[1]
      const ciphertext = yield* Sha256Password.encryptPassword(
        v.password,
        unhex(v.nonce),
        authVectors.rsa.publicKeySpkiPem
      )
      expect(hex(yield* decryptOaep(ciphertext))).toBe(v.rsaPlaintext)
    })
  )

  it.effect("PKCS#1 v1.5 padding fails with a clear error", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Sha256Password.encryptPassword("pw", new Uint8Array(20), authVectors.rsa.publicKeySpkiPem, "pkcs1-v1_5")
      )
      expect(error.packet).toBe("sha256_password")
      expect(error.message).toMatch(/PKCS#1 v1\.5.*not available in WebCrypto/)
    })
  )

  it("secure response and clear password are password + NUL", () => {
    expect(hex(Sha256Password.secureResponse("ab"))).toBe("616200")
    expect(hex(MysqlClearPassword.response("pässwörd"))).toBe(`${hex(new TextEncoder().encode("pässwörd"))}00`)
  })
})

describe("client_ed25519", () => {
  for (const v of authVectors.clientEd25519) {
    it.effect(`signature matches the independent vector and verifies: ${JSON.stringify(v.password.slice(0, 12))}`, () =>
      Effect.gen(function* () {
        const nonce = unhex(v.nonce)
        const publicKey = yield* ClientEd25519.publicKey(v.password)
        expect(hex(publicKey)).toBe(v.publicKey)
        const signature = yield* ClientEd25519.sign(v.password, nonce)
        expect(hex(signature)).toBe(v.signature)
        expect(ed25519.verify(signature, nonce, publicKey, { zip215: false })).toBe(true)
        expect(yield* ClientEd25519.verify({ nonce, signature, publicKey })).toBe(true)
        const tampered = signature.slice()
        tampered[40] ^= 1
        expect(yield* ClientEd25519.verify({ nonce, signature: tampered, publicKey })).toBe(false)
        expect(yield* ClientEd25519.verify({ nonce, signature: new Uint8Array(3), publicKey })).toBe(false)
      })
    )
  }

  it.effect("the public key matches what MariaDB 10.11 stores for the password", () =>
    Effect.gen(function* () {
      // mysql.user.authentication_string after
      //   CREATE USER e@localhost IDENTIFIED VIA ed25519 USING PASSWORD('secret')
      // (unpadded base64 of the 32-byte public key), recorded from MariaDB 10.11.19.
      const key = yield* ClientEd25519.publicKey("secret")
      expect(btoa(String.fromCharCode(...key)).replace(/=+$/, "")).toBe("ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY")
    })
  )
})
