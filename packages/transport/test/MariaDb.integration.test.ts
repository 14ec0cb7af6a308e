// The transport against a real MariaDB: greeting in plaintext, SSL Request, upgrade, login.
import { assert, describe, it } from "@effect/vitest"
import { MariaDbServer, TestAccounts, type TestPki } from "@effect-mysql/testing"
import { Effect, Result } from "effect"
import { inject } from "vitest"
import * as Endpoint from "../src/Endpoint.ts"
import * as RuntimeTransport from "../src/RuntimeTransport.ts"
import * as SslPolicy from "../src/SslPolicy.ts"
import { Transport } from "../src/Transport.ts"
import {
  CLIENT_SSL,
  describeReply,
  handshakeResponse,
  packetReader,
  parseGreeting,
  sslRequest
} from "./support/MiniHandshake.ts"

const target = inject("mysqlTarget")

interface Login {
  readonly account: keyof typeof TestAccounts
  readonly ssl: SslPolicy.SslOptions
}

/** Greeting, then (as the mode decides) SSL Request and upgrade, then the login's reply. */
const login = (endpoint: Endpoint.Endpoint, { account, ssl }: Login) =>
  Effect.gen(function* () {
    const policy = yield* SslPolicy.make(ssl, endpoint)
    const connection = yield* (yield* Transport).connect(endpoint, { connectTimeout: "10 seconds" })
    const nextPacket = packetReader(connection)
    const greeting = parseGreeting((yield* nextPacket).payload)
    const decision = yield* Effect.fromResult(SslPolicy.decide(policy, (greeting.capabilities & CLIENT_SSL) !== 0))
    let sequenceId = 1
    const tls = decision === "tls" && policy.mode !== "disabled" ? policy.tls : undefined
    if (tls !== undefined) {
      yield* connection.write(sslRequest())
      yield* connection.upgradeTls(tls)
      sequenceId = 2
    }
    const { user, password } = TestAccounts[account]
    yield* connection.write(yield* handshakeResponse(user, password, greeting.scramble, sequenceId, tls !== undefined))
    const reply = describeReply((yield* nextPacket).payload)
    return { greeting, reply, info: yield* connection.info }
  }).pipe(Effect.scoped, Effect.provide(RuntimeTransport.layer))

const tcp = Endpoint.tcp(target.host, target.port)
const verified = { mode: "verify-identity", ca: target.tls.ca.pem } as const

describe("MariaDB", () => {
  it.live("logs in over plain TCP, reading the greeting", () =>
    Effect.gen(function* () {
      const { greeting, reply, info } = yield* login(tcp, { account: "plain", ssl: { mode: "disabled" } })
      assert.match(greeting.serverVersion, /MariaDB/)
      assert.isTrue((greeting.capabilities & CLIENT_SSL) !== 0)
      assert.strictEqual(reply, "OK")
      assert.isUndefined(info.tls)
      assert.strictEqual(info.remotePort, target.port)
    })
  )

  it.live("logs in over the Unix socket, in plaintext and over TLS", () =>
    Effect.gen(function* () {
      if (target.socketPath === undefined) return
      const socket = Endpoint.unix(target.socketPath)
      assert.strictEqual((yield* login(socket, { account: "plain", ssl: { mode: "disabled" } })).reply, "OK")
      // Over a socket the identity checked is localhost, which the server certificate names.
      const overTls = yield* login(socket, { account: "tlsOnly", ssl: verified })
      assert.strictEqual(overTls.reply, "OK")
      assert.strictEqual(overTls.info.tls?.verification.hostname, "localhost")
    })
  )

  it.live("upgrades after the 32-byte SSL Request and reports the session", () =>
    Effect.gen(function* () {
      assert.strictEqual(sslRequest().length, 4 + 32)
      const { reply, info } = yield* login(tcp, { account: "tlsOnly", ssl: verified })
      assert.strictEqual(reply, "OK")
      const tls = info.tls!
      assert.deepStrictEqual(tls.verification, {
        mode: "verify-identity",
        chain: true,
        hostname: target.host,
        fingerprint: false
      })
      if (tls.implementation === "node:tls") {
        assert.match(tls.version ?? "", /^TLSv1\.[23]$/)
        assert.isString(tls.cipher)
        assert.strictEqual(tls.peerCertificate?.subject, "CN=localhost")
      }
      const required = yield* login(tcp, { account: "tlsOnly", ssl: { mode: "required" } })
      assert.strictEqual(required.info.tls?.implementation.startsWith("node:tls"), true)
      assert.match(required.info.tls?.version ?? "", /^TLSv1\.[23]$/)
    })
  )

  it.live("REQUIRE SSL refuses plaintext; REQUIRE X509 wants the client certificate", () =>
    Effect.gen(function* () {
      const plaintext = yield* login(tcp, { account: "tlsOnly", ssl: { mode: "disabled" } })
      assert.match(plaintext.reply, /^ERR 1045/)
      const noCertificate = yield* login(tcp, { account: "x509", ssl: verified })
      assert.match(noCertificate.reply, /^ERR 1045/)
      const withCertificate = yield* login(tcp, {
        account: "x509",
        ssl: { ...verified, cert: target.tls.cert.pem, key: target.tls.key.pem }
      })
      assert.strictEqual(withCertificate.reply, "OK")
    })
  )

  describe("server certificates", () => {
    const expected = {
      wrongName: { required: "OK", "verify-ca": "OK", "verify-identity": "hostname-mismatch" },
      untrusted: { required: "OK", "verify-ca": "chain-not-trusted", "verify-identity": "chain-not-trusted" },
      expired: { required: "OK", "verify-ca": "certificate-expired", "verify-identity": "certificate-expired" }
    } as const

    for (const certificate of ["wrongName", "untrusted", "expired"] as const) {
      it.live(certificate, () =>
        Effect.gen(function* () {
          const pki = target.pki as TestPki.TestPki | undefined
          if (pki === undefined) return
          const server = yield* MariaDbServer.start({ pki, serverCertificate: certificate })
          const endpoint = Endpoint.tcp(server.host, server.port)
          const observed: Record<string, string> = {}
          for (const mode of ["required", "verify-ca", "verify-identity"] as const) {
            const result = yield* Effect.result(login(endpoint, { account: "plain", ssl: { mode, ca: pki.ca.pem } }))
            observed[mode] = Result.isSuccess(result)
              ? result.success.reply
              : "reason" in result.failure
                ? String(result.failure.reason)
                : result.failure._tag
          }
          assert.deepStrictEqual(observed, expected[certificate])
        }).pipe(Effect.scoped)
      )
    }
  })
})
