import { Buffer } from "node:buffer"
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as Endpoint from "../src/Endpoint.ts"
import { type CachedSession, sessionKey, TlsSessionCache } from "../src/internal/TlsSessionCache.ts"
import * as SslPolicy from "../src/SslPolicy.ts"

const host = Endpoint.tcp("db.example.com", 3306)
const caPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
const otherCaPem = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"
const certPem = "-----BEGIN CERTIFICATE-----\nMIID\n-----END CERTIFICATE-----\n"
const keyPem = "-----BEGIN PRIVATE KEY-----\nsecret-key-text\n-----END PRIVATE KEY-----\n"
const otherKeyPem = "-----BEGIN PRIVATE KEY-----\nother-key-text\n-----END PRIVATE KEY-----\n"
const crlPem = "-----BEGIN X509 CRL-----\nMIIE\n-----END X509 CRL-----\n"
const fingerprint = `${"AB:".repeat(31)}AB`
const now = new Date("2026-12-01T00:00:00Z")

const settingsOf = (options: SslPolicy.SslOptions, endpoint: Endpoint.Endpoint = host) => {
  const policy = Result.getOrThrow(SslPolicy.resolve(options, endpoint))
  if (policy.mode === "disabled") throw new Error("expected TLS settings")
  return policy.tls
}

const entry = (name: string, validTo = "Jan  1 00:00:00 2027 GMT"): CachedSession => ({
  session: Buffer.from(name),
  peer: {
    authorized: true,
    authorizationError: undefined,
    certificate: { valid_to: validTo } as CachedSession["peer"]["certificate"]
  }
})

describe("TlsSessionCache", () => {
  it("keeps the newest session per key and drops the least recently used beyond its capacity", () => {
    const cache = new TlsSessionCache(2)
    cache.set("a", entry("a1"))
    cache.set("a", entry("a2"))
    cache.set("b", entry("b"))
    assert.strictEqual(cache.get("a", now)?.session.toString(), "a2")
    cache.set("c", entry("c"))
    assert.strictEqual(cache.size, 2)
    assert.isUndefined(cache.get("b", now))
    assert.strictEqual(cache.get("a", now)?.session.toString(), "a2")
    assert.strictEqual(cache.get("c", now)?.session.toString(), "c")
  })

  it("does not offer a session once the certificate it was verified with has expired", () => {
    const cache = new TlsSessionCache()
    cache.set("expired", entry("x", "Nov 30 23:59:59 2026 GMT"))
    cache.set("unknown", entry("y", "not a date"))
    assert.isUndefined(cache.get("expired", now))
    assert.isUndefined(cache.get("unknown", now))
    assert.strictEqual(cache.size, 0)
  })
})

describe("sessionKey", () => {
  const base: SslPolicy.SslOptions = { mode: "verify-identity", ca: caPem, cert: certPem, key: keyPem }
  const route = `Tcp:${Endpoint.format(host)}`
  const keyOf = (options: SslPolicy.SslOptions) => sessionKey(route, settingsOf(options))

  it("is the same for the same route and settings, however the key is given", () => {
    assert.strictEqual(keyOf(base), keyOf({ ...base }))
    assert.strictEqual(
      keyOf({ ...base, fingerprints: [fingerprint, "cd".repeat(32)] }),
      keyOf({ ...base, fingerprints: ["CD".repeat(32), fingerprint] })
    )
  })

  it("differs with anything that decides what is verified or presented", () => {
    const variants: ReadonlyArray<SslPolicy.SslOptions> = [
      { ...base, mode: "verify-ca" },
      { ...base, mode: "required" },
      { ...base, ca: [caPem, otherCaPem] },
      { ...base, ca: otherCaPem },
      { ...base, servername: "other.example.com" },
      { ...base, crl: crlPem },
      { ...base, fingerprints: [fingerprint] },
      { ...base, key: otherKeyPem },
      { mode: "verify-identity", ca: caPem },
      { ...base, minVersion: "TLSv1.3" },
      { ...base, maxVersion: "TLSv1.2" },
      { ...base, ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" },
      { ...base, ciphersuites: "TLS_AES_128_GCM_SHA256" }
    ]
    const keys = new Set([keyOf(base), ...variants.map(keyOf)])
    assert.strictEqual(keys.size, variants.length + 1)
  })

  it("differs with the route, and holds no secret", () => {
    const settings = settingsOf(base)
    assert.notStrictEqual(sessionKey("Tcp:db.example.com:3307", settings), sessionKey(route, settings))
    assert.notStrictEqual(
      sessionKey("ssh:jump-a Tcp:localhost:3306", settings),
      sessionKey("ssh:jump-b Tcp:localhost:3306", settings)
    )
    const key = keyOf({ ...base, passphrase: "hunter2" })
    assert.notInclude(key, "secret-key-text")
    assert.notInclude(key, "hunter2")
    assert.isTrue(key.startsWith(`${route} `))
  })
})
