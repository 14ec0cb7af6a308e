import { assert, describe, it } from "@effect/vitest"
import { Redacted, Result } from "effect"
import * as Endpoint from "../src/Endpoint.ts"
import * as SslPolicy from "../src/SslPolicy.ts"

const host = Endpoint.tcp("db.example.com", 3306)
const caPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
const keyPem = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
const fingerprint = `${"AB:".repeat(31)}AB`

const settingsOf = (options: SslPolicy.SslOptions, endpoint: Endpoint.Endpoint = host) => {
  const policy = Result.getOrThrow(SslPolicy.resolve(options, endpoint))
  if (policy.mode === "disabled") throw new Error("expected TLS settings")
  return policy.tls
}

const refusal = (options: SslPolicy.SslOptions) => {
  const result = SslPolicy.resolve(options, host)
  if (Result.isSuccess(result)) throw new Error("expected a refusal")
  return result.failure.message
}

describe("SslPolicy.resolve", () => {
  it("defaults to preferred, as the MySQL client does", () => {
    const settings = settingsOf({})
    assert.strictEqual(settings.mode, "preferred")
    assert.isFalse(settings.verifyChain)
    assert.isFalse(settings.verifyHostname)
  })

  it("a CA or pinned fingerprints without a mode mean verify-identity: what is named as trusted is checked", () => {
    const implied = [
      { ca: caPem },
      { ca: [caPem] },
      { fingerprints: [fingerprint] },
      { ca: caPem, fingerprints: [fingerprint] }
    ]
    assert.deepStrictEqual(
      implied.map((options) => {
        const s = settingsOf(options)
        return [s.mode, s.verifyChain || s.fingerprints.length > 0, s.verifyHostname]
      }),
      implied.map(() => ["verify-identity", true, true])
    )
    // A mode given says otherwise.
    assert.strictEqual(settingsOf({ mode: "preferred", ca: caPem }).mode, "preferred")
    assert.strictEqual(settingsOf({ mode: "verify-ca", fingerprints: [fingerprint] }).verifyHostname, false)
    assert.deepStrictEqual(Result.getOrThrow(SslPolicy.resolve({ mode: "disabled", ca: caPem }, host)), {
      mode: "disabled"
    })
  })

  it("maps each mode to what it verifies", () => {
    const table = (["preferred", "required", "verify-ca", "verify-identity"] as const).map((mode) => {
      const s = settingsOf({ mode, ca: caPem })
      return [mode, s.verifyChain, s.verifyHostname]
    })
    assert.deepStrictEqual(table, [
      ["preferred", false, false],
      ["required", false, false],
      ["verify-ca", true, false],
      ["verify-identity", true, true]
    ])
  })

  it("disabled carries no TLS settings", () => {
    assert.deepStrictEqual(Result.getOrThrow(SslPolicy.resolve({ mode: "disabled", ca: "ignored" }, host)), {
      mode: "disabled"
    })
  })

  it("checks the host name, or the servername override, and sends SNI only for names", () => {
    assert.strictEqual(settingsOf({ mode: "verify-identity" }).servername, "db.example.com")
    const ip = settingsOf({ mode: "verify-identity" }, Endpoint.tcp("10.0.0.7", 3306))
    assert.strictEqual(ip.identity, "10.0.0.7")
    assert.isUndefined(ip.servername)
    assert.isUndefined(settingsOf({ mode: "verify-identity" }, Endpoint.tcp("::1", 3306)).servername)
    const override = settingsOf({ mode: "verify-identity", servername: "db.internal" }, Endpoint.tcp("10.0.0.7", 3306))
    assert.strictEqual(override.identity, "db.internal")
    assert.strictEqual(override.servername, "db.internal")
    assert.strictEqual(settingsOf({ mode: "verify-identity" }, Endpoint.unix("/run/mysqld.sock")).identity, "localhost")
  })

  it("takes one CA or several, and keeps the passphrase redacted", () => {
    assert.deepStrictEqual(settingsOf({ ca: caPem }).ca, [caPem])
    assert.deepStrictEqual(settingsOf({ ca: [caPem, caPem] }).ca, [caPem, caPem])
    assert.isUndefined(settingsOf({}).ca)
    const passphrase = settingsOf({ cert: caPem, key: keyPem, passphrase: "secret" }).passphrase
    assert.isTrue(passphrase !== undefined && Redacted.isRedacted(passphrase))
    assert.strictEqual(Redacted.value(passphrase!), "secret")
  })

  it("normalizes pinned fingerprints, which replace the chain check", () => {
    const settings = settingsOf({ mode: "verify-identity", fingerprints: [fingerprint.toLowerCase()] })
    assert.deepStrictEqual(settings.fingerprints, ["AB".repeat(32)])
    assert.isFalse(settings.verifyChain)
    assert.isTrue(settings.verifyHostname)
    assert.isTrue(settingsOf({ mode: "verify-ca", fingerprints: [fingerprint] }).fingerprints.length === 1)
  })

  it("refuses options that cannot work, saying what to change", () => {
    assert.match(refusal({ mode: "verify_ca" as SslPolicy.SslMode }), /not an ssl-mode: use one of disabled, preferred/)
    assert.match(refusal({ cert: caPem }), /without ssl\.key/)
    assert.match(refusal({ key: keyPem }), /without ssl\.cert/)
    assert.match(refusal({ passphrase: "x" }), /passphrase is set without ssl\.key/)
    assert.match(refusal({ mode: "verify-ca" }), /verify-ca needs ssl\.ca/)
    assert.match(refusal({ ca: "/etc/mysql/ca.pem" }), /PEM text.*not a file name/)
    assert.match(refusal({ ca: [] }), /empty list/)
    assert.match(refusal({ cert: "client.pem", key: keyPem }), /ssl\.cert must be PEM/)
    assert.match(refusal({ cert: caPem, key: "client.key" }), /ssl\.key must be a PEM private key/)
    assert.match(refusal({ minVersion: "TLSv1.3", maxVersion: "TLSv1.2" }), /no version is left/)
    assert.match(refusal({ minVersion: "TLSv1" as SslPolicy.TlsVersion }), /use TLSv1\.2 or TLSv1\.3/)
    assert.match(refusal({ ciphers: "TLS_AES_128_GCM_SHA256" }), /put those in ssl\.ciphersuites/)
    assert.match(refusal({ ciphersuites: "ECDHE-RSA-AES128-GCM-SHA256" }), /put TLS 1\.2 ciphers in ssl\.ciphers/)
    assert.match(refusal({ mode: "required", fingerprints: ["abc"] }), /not a SHA-256 fingerprint/)
    assert.match(refusal({ mode: "preferred", fingerprints: [fingerprint] }), /would fall back to plaintext/)
  })
})

describe("SslPolicy.resolve ssl.crl", () => {
  const crlPem = "-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n"

  it("resumes TLS sessions unless sessionReuse is false, and refuses a value that is not a boolean", () => {
    assert.isTrue(settingsOf({ mode: "required" }).sessionReuse)
    assert.isFalse(settingsOf({ mode: "required", sessionReuse: false }).sessionReuse)
    assert.match(
      refusal({ mode: "required", sessionReuse: "no" as unknown as boolean }),
      /ssl\.sessionReuse must be true or false/
    )
  })

  it("takes one CRL or several when the chain is verified", () => {
    assert.deepStrictEqual(settingsOf({ mode: "verify-ca", ca: caPem, crl: crlPem }).crl, [crlPem])
    assert.deepStrictEqual(settingsOf({ mode: "verify-identity", crl: [crlPem, crlPem] }).crl, [crlPem, crlPem])
    assert.isUndefined(settingsOf({ mode: "verify-identity" }).crl)
  })

  it("refuses a CRL that is not PEM, or that nothing would check", () => {
    assert.match(refusal({ mode: "verify-identity", crl: "/etc/ssl/crl.pem" }), /ssl\.crl must be PEM text/)
    for (const mode of ["preferred", "required"] as const) {
      assert.match(refusal({ mode, crl: crlPem }), /ssl\.crl is checked along with the certificate chain/)
    }
    assert.match(
      refusal({ mode: "verify-ca", fingerprints: [fingerprint], crl: crlPem }),
      /ssl\.crl is checked along with the certificate chain/
    )
  })
})

describe("SslPolicy.decide", () => {
  const decide = (mode: SslPolicy.SslMode, offered: boolean) => {
    const policy = Result.getOrThrow(SslPolicy.resolve({ mode, ca: caPem }, host))
    const decision = SslPolicy.decide(policy, offered)
    return Result.isSuccess(decision) ? decision.success : decision.failure.reason
  }

  it("follows the MySQL client's table", () => {
    const table = SslPolicy.sslModes.map((mode) => [mode, decide(mode, true), decide(mode, false)])
    assert.deepStrictEqual(table, [
      ["disabled", "plaintext", "plaintext"],
      ["preferred", "tls", "plaintext"],
      ["required", "tls", "server-has-no-tls"],
      ["verify-ca", "tls", "server-has-no-tls"],
      ["verify-identity", "tls", "server-has-no-tls"]
    ])
  })
})
