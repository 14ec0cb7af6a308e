// Each certificate of the test PKI checked with `openssl verify`, so the TLS tests that rely on a
// particular verification outcome rely on something true.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestPki } from "../src/index.ts"
import { run } from "../src/Process.ts"

const verify = (ca: TestPki.PemFile, cert: TestPki.PemFile, ...options: Array<string>) =>
  run("openssl", ["verify", "-CAfile", ca.path, ...options, cert.path]).pipe(
    Effect.as("ok"),
    Effect.catch((error) => Effect.succeed(error.message))
  )

describe("TestPki", () => {
  it.effect(
    "issues certificates with the verification outcomes the TLS tests need",
    () =>
      Effect.gen(function* () {
        const pki = yield* TestPki.generate
        const { good, wrongName, untrusted, expired } = pki.servers
        const host = ["-purpose", "sslserver", "-verify_hostname", "localhost"]
        assert.strictEqual(yield* verify(pki.ca, good.cert, ...host), "ok")
        assert.strictEqual(yield* verify(pki.ca, good.cert, "-verify_ip", "127.0.0.1"), "ok")
        assert.strictEqual(yield* verify(pki.ca, good.cert, "-verify_ip", "::1"), "ok")
        assert.strictEqual(yield* verify(pki.ca, wrongName.cert), "ok")
        assert.include(yield* verify(pki.ca, wrongName.cert, ...host), "hostname mismatch")
        assert.include(yield* verify(pki.ca, untrusted.cert, ...host), "unable to get local issuer certificate")
        assert.strictEqual(yield* verify(pki.untrustedCa, untrusted.cert, ...host), "ok")
        assert.include(yield* verify(pki.ca, expired.cert, ...host), "certificate has expired")
        assert.strictEqual(yield* verify(pki.ca, pki.client.cert, "-purpose", "sslclient"), "ok")
        const subject = yield* run("openssl", ["x509", "-noout", "-subject", "-in", pki.client.cert.path])
        assert.include(subject, "CN = x509_user")
      }).pipe(Effect.scoped),
    30_000
  )
})
