// The client on Cloudflare Workers: workers/MysqlWorker.ts, bundled and run by workerd (from npm),
// connects through WorkersTransport to the run's MariaDB. Two instances of the Worker differ in
// what their network trusts: `operator` trusts the test CA, as a workerd operator can configure;
// `platform` trusts only what it was given, none of it the test CA, as on Cloudflare, where only
// publicly trusted certificates verify.
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Process, Workerd } from "@effect-mysql/testing"
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll } from "vitest"
import type { ConnectionOptions } from "../src/index.ts"
import { optionsFor, target } from "./support.ts"
import type { WorkerReply, WorkerRequest } from "./workers/MysqlWorker.ts"

type Network = "operator" | "platform"

const scope = Effect.runSync(Scope.make())
let workerd: Workerd.Workerd

beforeAll(async () => {
  const start = Effect.gen(function* () {
    const script = yield* Workerd.bundle({
      entry: Path.join(import.meta.dirname, "workers/MysqlWorker.ts"),
      conditions: ["@effect-mysql/source"]
    })
    return yield* Workerd.start({
      script,
      networks: { operator: { trustedCertificates: [target.tls.ca.pem] }, platform: {} }
    })
  })
  workerd = await Effect.runPromise(Scope.provide(start, scope))
})

afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

/** What the Worker on `network` got from the server over `options`. */
const ask = (
  network: Network,
  options: ConnectionOptions.ConnectionOptions,
  via: WorkerRequest["via"] = "connection"
) =>
  Effect.promise(async () => {
    const response = await fetch(workerd.urls[network]!, { method: "POST", body: JSON.stringify({ via, options }) })
    assert.strictEqual(response.status, 200, workerd.log.join("\n"))
    return (await response.json()) as WorkerReply
  })

type Ssl = NonNullable<ConnectionOptions.ConnectionOptions["ssl"]>

const tlsOnly = (ssl: Ssl, extra = {}) => optionsFor("tlsOnly", { ssl, ...extra })

describe("Workers", () => {
  it.live("opens a transport connection that reads the greeting and reports the address dialed", () =>
    Effect.gen(function* () {
      const reply = yield* ask("platform", optionsFor("plain"), "transport")
      assert.deepStrictEqual(reply.remote, { address: target.host, port: target.port })
      assert.match(reply.greeting ?? "", /MariaDB/)
    })
  )

  it.live("runs text and prepared statements in plaintext", () =>
    Effect.gen(function* () {
      const reply = yield* ask("platform", optionsFor("plain", { ssl: { mode: "disabled" } }))
      assert.deepStrictEqual(reply, { user: "plain@%", tlsVersion: "", compression: "OFF", sum: 42 })
    })
  )

  it.live("upgrades to TLS after the SSL Request, verifying the chain and the host whatever the mode", () =>
    Effect.gen(function* () {
      for (const mode of ["preferred", "required", "verify-identity"] as const) {
        const reply = yield* ask("operator", tlsOnly({ mode }))
        assert.strictEqual(reply.user, "tls_only@%", JSON.stringify(reply))
        assert.match(reply.tlsVersion ?? "", /^TLSv1\.[23]$/)
        assert.deepStrictEqual(reply.tls, {
          verification: { mode, chain: true, hostname: target.host, fingerprint: false },
          implementation: "cloudflare:sockets startTls"
        })
      }
      const byName = yield* ask("operator", tlsOnly({ mode: "verify-identity" }, { host: "localhost" }))
      assert.strictEqual(byName.user, "tls_only@%", JSON.stringify(byName))
    })
  )

  it.live("compresses with zlib inside TLS, from nodejs_compat's node:zlib", () =>
    Effect.gen(function* () {
      const reply = yield* ask(
        "operator",
        tlsOnly({ mode: "verify-identity" }, { compression: { algorithms: ["zlib"] } })
      )
      assert.strictEqual(reply.compression, "ON", JSON.stringify(reply))
      assert.match(reply.tlsVersion ?? "", /^TLSv1\.[23]$/)
      assert.strictEqual(reply.sum, 42)
    })
  )

  it.live("serves SqlClient through MysqlClient.layer and its pool", () =>
    Effect.gen(function* () {
      const reply = yield* ask("operator", tlsOnly({ mode: "verify-identity" }), "sql")
      assert.strictEqual(reply.user, "tls_only@%", JSON.stringify(reply))
      assert.strictEqual(reply.sum, 42)
      assert.match(reply.tlsVersion ?? "", /^TLSv1\.[23]$/)
    })
  )

  it.live("fails with a TlsError when the platform does not trust the server's CA, in every TLS mode", () =>
    Effect.gen(function* () {
      for (const mode of ["required", "verify-identity"] as const) {
        const { error } = yield* ask("platform", tlsOnly({ mode }))
        assert.strictEqual(error?._tag, "TlsError")
        assert.strictEqual(error?.reason, "handshake-failed")
        assert.match(error?.message ?? "", /does not pass it on/)
      }
    })
  )

  it.live("refuses the TLS settings startTls cannot pass on, before the handshake", () =>
    Effect.gen(function* () {
      const refusals: ReadonlyArray<readonly [Ssl, RegExp]> = [
        [{ mode: "verify-identity", ca: target.tls.ca.pem }, /ssl\.ca cannot be honoured on Workers/],
        [{ mode: "verify-ca", ca: target.tls.ca.pem }, /ssl\.ca cannot be honoured on Workers/],
        [
          { mode: "verify-identity", cert: target.tls.cert.pem, key: target.tls.key.pem },
          /ssl\.cert cannot be honoured on Workers/
        ],
        [{ mode: "required", fingerprints: ["00".repeat(32)] }, /ssl\.fingerprints cannot be honoured on Workers/],
        [{ mode: "required", minVersion: "TLSv1.3" }, /ssl\.minVersion cannot be honoured on Workers/],
        [{ mode: "required", maxVersion: "TLSv1.2" }, /ssl\.maxVersion cannot be honoured on Workers/],
        [{ mode: "required", ciphers: "ECDHE-RSA-AES128-GCM-SHA256" }, /ssl\.ciphers cannot be honoured on Workers/],
        [{ mode: "required", ciphersuites: "TLS_AES_128_GCM_SHA256" }, /ssl\.ciphersuites cannot be honoured/],
        [{ mode: "verify-identity", servername: "localhost" }, /ssl\.servername localhost cannot be honoured/]
      ]
      for (const [ssl, message] of refusals) {
        const { error } = yield* ask("operator", tlsOnly(ssl))
        assert.strictEqual(error?._tag, "SslConfigError", JSON.stringify(ssl))
        assert.match(error?.message ?? "", message)
      }
    })
  )

  it.live("refuses the connect options its sockets cannot honour, before connecting", () =>
    Effect.gen(function* () {
      const refusals: ReadonlyArray<readonly [Partial<ConnectionOptions.ConnectionOptions>, RegExp]> = [
        [{ socketPath: "/run/mysqld/mysqld.sock" }, /a Unix socket .* cannot be reached from Workers/],
        [{ keepAlive: "30 seconds" }, /keepAlive cannot be honoured on Workers/],
        [{ keepAlive: false }, /keepAlive cannot be honoured on Workers/],
        [{ busyPoll: "200 micros" }, /busyPoll cannot be honoured on Workers/]
      ]
      for (const [extra, message] of refusals) {
        const { error } = yield* ask("platform", optionsFor("plain", { ssl: { mode: "disabled" }, ...extra }))
        assert.strictEqual(error?._tag, "TransportError", JSON.stringify(extra))
        assert.strictEqual(error?.reason, "invalid-option")
        assert.match(error?.message ?? "", message)
      }
    })
  )

  it.live("gives up on a connect that is never answered at the connect timeout", () =>
    Effect.gen(function* () {
      const { port } = yield* Process.unansweredPort
      const started = Date.now()
      const { error } = yield* ask(
        "platform",
        optionsFor("plain", { port, connectTimeout: "500 millis", ssl: { mode: "disabled" } })
      )
      assert.strictEqual(error?._tag, "TimeoutError", JSON.stringify(error))
      assert.isBelow(Date.now() - started, 5_000)
    }).pipe(Effect.scoped)
  )

  it.live("fails with connect-failed where nothing listens", () =>
    Effect.gen(function* () {
      const { error } = yield* ask("platform", optionsFor("plain", { port: 1, ssl: { mode: "disabled" } }))
      assert.strictEqual(error?._tag, "TransportError")
      assert.strictEqual(error?.reason, "connect-failed")
    })
  )
})
