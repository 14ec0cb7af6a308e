// The in-band upgrade against local TLS servers, one per certificate of the test PKI.
import { createPrivateKey } from "node:crypto"
import { assert, describe, layer } from "@effect/vitest"
import { DateTime, Effect, Result } from "effect"
import { runtime } from "../src/RuntimeTransport.ts"
import * as SslPolicy from "../src/SslPolicy.ts"
import type { TlsFailure } from "../src/TlsError.ts"
import { Transport } from "../src/Transport.ts"
import { Fixture, fingerprintOf, layer as fixture, localhost, readExactly, tryTls } from "./support/Fixture.ts"

type Certificate = "good" | "wrongName" | "untrusted" | "expired"
type Outcome = "accepted" | "plaintext" | TlsFailure

const expected: Record<SslPolicy.SslMode, Record<Certificate, Outcome>> = {
  disabled: { good: "plaintext", wrongName: "plaintext", untrusted: "plaintext", expired: "plaintext" },
  preferred: { good: "accepted", wrongName: "accepted", untrusted: "accepted", expired: "accepted" },
  required: { good: "accepted", wrongName: "accepted", untrusted: "accepted", expired: "accepted" },
  "verify-ca": {
    good: "accepted",
    wrongName: "accepted",
    untrusted: "chain-not-trusted",
    expired: "certificate-expired"
  },
  "verify-identity": {
    good: "accepted",
    wrongName: "hostname-mismatch",
    untrusted: "chain-not-trusted",
    expired: "certificate-expired"
  }
}

const outcome = (result: Result.Result<unknown, { readonly _tag: string; readonly reason?: string }>): string =>
  Result.isSuccess(result)
    ? result.success === "plaintext"
      ? "plaintext"
      : "accepted"
    : (result.failure.reason ?? result.failure._tag)

layer(fixture, { timeout: 60_000, excludeTestServices: true })("TLS upgrade", (it) => {
  describe("ssl-mode × server certificate", () => {
    for (const mode of SslPolicy.sslModes) {
      it.effect(mode, () =>
        Effect.gen(function* () {
          const { pki, servers } = yield* Fixture
          const observed: Record<string, string> = {}
          for (const certificate of ["good", "wrongName", "untrusted", "expired"] as const) {
            const result = yield* Effect.result(tryTls(servers.ports[certificate], { mode, ca: pki.ca.pem }))
            observed[certificate] = outcome(result)
          }
          assert.deepStrictEqual(observed, expected[mode])
        })
      )
    }

    it.effect("verify-identity checks the servername override, not the address", () =>
      Effect.gen(function* () {
        const { pki, servers } = yield* Fixture
        const ssl = { mode: "verify-identity", ca: pki.ca.pem } as const
        const byName = yield* tryTls(servers.ports.good, { ...ssl, servername: "localhost" })
        assert.strictEqual(byName === "plaintext" ? undefined : byName.verification.hostname, "localhost")
        const wrong = yield* Effect.flip(tryTls(servers.ports.good, { ...ssl, servername: "db.example.com" }))
        assert.strictEqual(wrong._tag === "TlsError" ? wrong.reason : wrong._tag, "hostname-mismatch")
      })
    )
  })

  it.effect("reports the negotiated session and what was verified", () =>
    Effect.gen(function* () {
      const { pki, servers } = yield* Fixture
      const info = yield* tryTls(servers.ports.good, { mode: "required" })
      assert.notStrictEqual(info, "plaintext")
      if (info === "plaintext") return
      assert.strictEqual(info.version, "TLSv1.3")
      assert.match(info.cipher ?? "", /^TLS_/)
      assert.strictEqual(info.peerCertificate?.subject, "CN=localhost")
      assert.strictEqual(info.peerCertificate?.issuer, "CN=effect-mysql test CA")
      assert.strictEqual(info.peerCertificate?.fingerprint256, fingerprintOf(pki.servers.good.cert.pem))
      assert.isTrue(DateTime.isGreaterThan(info.peerCertificate!.validTo, DateTime.nowUnsafe()))
      assert.deepStrictEqual(info.verification, {
        mode: "required",
        chain: false,
        hostname: undefined,
        fingerprint: false
      })

      const verified = yield* tryTls(servers.ports.good, { mode: "verify-identity", ca: pki.ca.pem })
      if (verified === "plaintext") return
      assert.deepStrictEqual(verified.verification, {
        mode: "verify-identity",
        chain: true,
        hostname: "127.0.0.1",
        fingerprint: false
      })
      // Deno.startTls reveals nothing about the session; node:tls does everywhere.
      assert.strictEqual(verified.implementation, runtime === "deno" ? "Deno.startTls" : "node:tls")
      if (runtime !== "deno") assert.strictEqual(verified.version, "TLSv1.3")
    })
  )

  it.effect("presents a client certificate to a server that requires one", () =>
    Effect.gen(function* () {
      const { pki, servers } = yield* Fixture
      const client = { cert: pki.client.cert.pem, key: pki.client.key.pem }
      for (const mode of ["required", "verify-ca", "verify-identity"] as const) {
        const info = yield* tryTls(servers.ports.mutual, { mode, ca: pki.ca.pem, ...client })
        assert.notStrictEqual(info, "plaintext")
      }
      // TLS 1.3 servers refuse a missing certificate after the handshake: the first read reports it.
      const refused = yield* Effect.flip(tryTls(servers.ports.mutual, { mode: "verify-identity", ca: pki.ca.pem }))
      assert.strictEqual(refused._tag === "TlsError" ? refused.reason : refused._tag, "client-certificate-rejected")
      const untrusted = { cert: pki.servers.untrusted.cert.pem, key: pki.servers.untrusted.key.pem }
      const wrongCa = yield* Effect.flip(tryTls(servers.ports.mutual, { mode: "required", ...untrusted }))
      // A node:tls server drops a client certificate it does not trust without sending an alert,
      // so all a client can see is the connection closing right after the handshake.
      assert.include(["client-certificate-rejected", "closed-by-peer"], "reason" in wrongCa ? wrongCa.reason : "")
    })
  )

  it.effect("accepts only pinned certificates, whoever signed them", () =>
    Effect.gen(function* () {
      const { pki, servers } = yield* Fixture
      const pinned = fingerprintOf(pki.servers.untrusted.cert.pem)
      const info = yield* tryTls(servers.ports.untrusted, { mode: "verify-ca", fingerprints: [pinned] })
      assert.strictEqual(info === "plaintext" ? undefined : info.verification.fingerprint, true)
      const other = yield* Effect.flip(tryTls(servers.ports.good, { mode: "required", fingerprints: [pinned] }))
      assert.strictEqual(other._tag === "TlsError" ? other.reason : other._tag, "fingerprint-mismatch")
      // Says what was pinned against, what the server showed, and how to pin it; not CA advice.
      assert.include(other.message, fingerprintOf(pki.servers.good.cert.pem))
      assert.match(other.message, /matches none of the pinned ssl\.fingerprints/)
      assert.match(other.message, /add it to ssl\.fingerprints/)
      assert.notMatch(other.message, /ssl\.ca/)
    })
  )

  it.effect("honours TLS versions", () =>
    Effect.gen(function* () {
      const { servers } = yield* Fixture
      const refused = yield* Effect.flip(tryTls(servers.ports.tls12, { mode: "required", minVersion: "TLSv1.3" }))
      assert.strictEqual(refused._tag === "TlsError" ? refused.reason : refused._tag, "protocol-version-refused")
      const tls12 = yield* tryTls(servers.ports.good, { mode: "required", maxVersion: "TLSv1.2" })
      assert.strictEqual(tls12 === "plaintext" ? undefined : tls12.version, "TLSv1.2")
    })
  )

  // Deno's rustls takes no cipher choice and Bun's BoringSSL no TLS 1.3 suites: there the setting
  // is refused before the handshake, never dropped.
  it.effect("honours ssl.ciphers where the runtime can, and refuses it where it cannot", () =>
    Effect.gen(function* () {
      const { pki, servers } = yield* Fixture
      const ssl = { mode: "verify-identity", ca: pki.ca.pem } as const
      const chosen = Effect.flip(tryTls(servers.ports.tls12, { ...ssl, ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" }))
      // The server's key is ECDSA: an RSA-only cipher list shares nothing with it.
      const unshared = Effect.flip(tryTls(servers.ports.tls12, { ...ssl, ciphers: "ECDHE-RSA-AES128-GCM-SHA256" }))
      if (runtime === "deno") {
        for (const refused of [yield* chosen, yield* unshared]) {
          assert.strictEqual(refused._tag, "SslConfigError")
          assert.match(refused.message, /ssl\.ciphers cannot be honoured on Deno/)
        }
        return
      }
      const tls12 = yield* tryTls(servers.ports.tls12, { ...ssl, ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" })
      assert.strictEqual(tls12 === "plaintext" ? undefined : tls12.version, "TLSv1.2")
      assert.strictEqual(tls12 === "plaintext" ? undefined : tls12.cipher, "ECDHE-ECDSA-AES128-GCM-SHA256")
      const failed = yield* unshared
      assert.strictEqual(failed._tag === "TlsError" ? failed.reason : failed._tag, "handshake-failed")
      assert.match(failed.message, /no cipher in common: compare ssl\.ciphers/)
    })
  )

  it.effect("honours ssl.ciphersuites where the runtime can, and refuses it where it cannot", () =>
    Effect.gen(function* () {
      const { servers } = yield* Fixture
      const chacha = { mode: "required", ciphersuites: "TLS_CHACHA20_POLY1305_SHA256" } as const
      if (runtime === "node") {
        const suite = yield* tryTls(servers.ports.good, chacha)
        assert.strictEqual(suite === "plaintext" ? undefined : suite.cipher, "TLS_CHACHA20_POLY1305_SHA256")
        return
      }
      const refused = yield* Effect.flip(tryTls(servers.ports.good, chacha))
      assert.strictEqual(refused._tag, "SslConfigError")
      assert.match(
        refused.message,
        new RegExp(`ssl\\.ciphersuites cannot be honoured on ${runtime === "deno" ? "Deno" : "Bun"}`)
      )
    })
  )

  it.effect("refuses a revoked server certificate given ssl.crl, or refuses ssl.crl where it cannot be checked", () =>
    Effect.gen(function* () {
      const { crl, pki, servers } = yield* Fixture
      const ssl = { mode: "verify-identity", ca: pki.ca.pem } as const
      const revoked = yield* Effect.result(tryTls(servers.ports.good, { ...ssl, crl: crl.revokesGood }))
      const notRevoked = yield* Effect.result(tryTls(servers.ports.good, { ...ssl, crl: crl.empty }))
      if (runtime === "deno") {
        for (const refused of [revoked, notRevoked]) {
          assert.isTrue(Result.isFailure(refused) && refused.failure._tag === "SslConfigError")
          assert.match(Result.isFailure(refused) ? refused.failure.message : "", /ssl\.crl cannot be honoured on Deno/)
        }
        return
      }
      assert.strictEqual(outcome(revoked), "certificate-revoked")
      assert.match(Result.isFailure(revoked) ? revoked.failure.message : "", /revoked/)
      assert.strictEqual(outcome(notRevoked), "accepted")
      // A CRL from some other CA leaves revocation unknown: refused, with advice about the CRL.
      const unknown = yield* Effect.flip(tryTls(servers.ports.good, { ...ssl, crl: crl.fromOtherCa }))
      assert.strictEqual(unknown._tag === "TlsError" ? unknown.reason : unknown._tag, "chain-not-trusted")
      assert.match(unknown.message, /revocation of the server's certificate cannot be checked: give ssl\.crl/)
    })
  )

  it.effect("names the client key when it cannot be used", () =>
    Effect.gen(function* () {
      const { pki, servers } = yield* Fixture
      const cert = pki.client.cert.pem
      const encrypted = createPrivateKey(pki.client.key.pem)
        .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "right" })
        .toString()
      const ssl = { mode: "verify-identity", ca: pki.ca.pem, cert } as const
      const decrypted = yield* tryTls(servers.ports.mutual, { ...ssl, key: encrypted, passphrase: "right" })
      assert.notStrictEqual(decrypted, "plaintext")
      const cases = [
        [{ key: encrypted, passphrase: "wrong" }, /wrong passphrase/],
        [{ key: encrypted }, /ssl\.key is encrypted and no ssl\.passphrase/],
        [
          { key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" },
          /ssl\.key is not a valid private key/
        ],
        [{ key: pki.servers.good.key.pem }, /key does not match certificate/]
      ] as const
      for (const [key, message] of cases) {
        const error = yield* Effect.flip(tryTls(servers.ports.mutual, { ...ssl, ...key }))
        assert.strictEqual(error._tag === "TlsError" ? error.reason : error._tag, "client-key-invalid")
        assert.match(error.message, message)
      }
    })
  )

  it.effect("refuses plaintext bytes that arrived before the handshake", () =>
    Effect.gen(function* () {
      const { servers } = yield* Fixture
      const transport = yield* Transport
      const endpoint = localhost(servers.ports.plain)
      const connection = yield* transport.connect(endpoint)
      yield* connection.write(new TextEncoder().encode("injected"))
      // The echo is now waiting, unread, in front of where the TLS session would start.
      yield* Effect.sleep("200 millis")
      const policy = yield* SslPolicy.make({ mode: "required" }, endpoint)
      if (policy.mode === "disabled") return
      const error = yield* Effect.flip(connection.upgradeTls(policy.tls))
      assert.strictEqual(error._tag === "TlsError" ? error.reason : error._tag, "handshake-failed")
      // Deno's native reads are pull-based, so the bytes are still in the kernel and the handshake
      // itself chokes on them; elsewhere they sit in our buffer and are refused before it starts.
      if (runtime !== "deno") assert.match(error.message, /plaintext bytes arrived before the TLS handshake/)
    }).pipe(Effect.scoped)
  )

  it.effect("upgrades over a Unix socket", () =>
    Effect.gen(function* () {
      const { servers } = yield* Fixture
      const transport = yield* Transport
      const connection = yield* transport.connect({ _tag: "Unix", path: servers.unixPath })
      yield* connection.write(new Uint8Array([1, 2, 3]))
      assert.deepStrictEqual([...(yield* readExactly(connection, 3))], [1, 2, 3])
    }).pipe(Effect.scoped)
  )
})
