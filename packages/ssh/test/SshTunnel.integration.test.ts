// MySQL connections through a real OpenSSH server the suite starts on loopback, to the run's
// MariaDB: every kind of key and the agent; REQUIRE SSL and REQUIRE X509 accounts verified end to
// end inside the tunnel; unknown and changed host keys refused before any credential; a server that
// refuses the channel; a server killed mid-query and a pool that heals when it returns; a frozen
// server found by keepalive; a Unix socket on the far side; a jump host.
import { assert, describe, layer } from "@effect/vitest"
import { type ConnectionOptions, MysqlClient, MysqlConnection } from "@effect-mysql/client"
import { SshAgent, SshKeys, SshServer, TempDirectory, TestAccounts, type TestTarget } from "@effect-mysql/testing"
import { RuntimeTransport, type TimeoutError, type Transport, TransportError } from "@effect-mysql/transport"
import { Clock, Context, Effect, Exit, Fiber, Layer, Schedule } from "effect"
import * as Cause from "effect/Cause"
import { SqlClient } from "effect/sql"
import { inject } from "vitest"
import { SshError, SshTunnel } from "../src/index.ts"

const target: TestTarget.TestTarget = inject("mysqlTarget")

/** One SSH server for the file's harmless tests, with every client key authorized. */
class Fixture extends Context.Service<
  Fixture,
  { readonly server: SshServer.SshServer; readonly keys: SshKeys.ClientKeys }
>()("test/SshFixture") {}

const FixtureLive = Layer.effect(
  Fixture,
  Effect.orDie(
    Effect.gen(function* () {
      const keys = yield* SshKeys.generateAll
      const server = yield* SshServer.start({ authorizedKeys: Object.values(keys).map((key) => key.publicKey) })
      return { server, keys }
    })
  )
)

const tunnelTo = (
  server: SshServer.SshServer,
  key: SshKeys.SshKey,
  extra: Partial<SshTunnel.SshTunnelOptions> = {}
): SshTunnel.SshTunnelOptions => ({
  host: server.host,
  port: server.port,
  user: server.user,
  privateKey: key.privateKey,
  ...(key.passphrase === undefined ? {} : { passphrase: key.passphrase }),
  hostKeys: server.fingerprints,
  ...extra
})

const through = (options: SshTunnel.SshTunnelOptions) =>
  SshTunnel.layer(options).pipe(Layer.provide(RuntimeTransport.layer))

const database = (account: "root" | "tlsOnly" | "x509", extra: Partial<ConnectionOptions.ConnectionOptions> = {}) => ({
  host: "127.0.0.1",
  port: target.port,
  user: TestAccounts[account].user,
  password: TestAccounts[account].password,
  database: target.database,
  ...extra
})

const verifyIdentity = { mode: "verify-identity", ca: target.tls.ca.pem } as const

/** Runs `sql` on a connection made through `tunnel`. */
const queryThrough = <A>(
  tunnel: Layer.Layer<Transport, SshError | TransportError | TimeoutError>,
  options: ConnectionOptions.ConnectionOptions,
  sql: string
) =>
  Effect.gen(function* () {
    const connection = yield* MysqlConnection.connect(options)
    return (yield* connection.query<A>(sql)).rows
  }).pipe(Effect.scoped, Effect.provide(tunnel))

/** The SshError behind a failure, whether the layer's own or a TransportError's cause. */
const sshErrorOf = (error: unknown): SshError | undefined => {
  if (error instanceof SshError) return error
  const cause = (error as { cause?: unknown } | undefined)?.cause
  return cause === undefined || cause === error ? undefined : sshErrorOf(cause)
}

/** The log lines written since `before` (a length of the log). */
const logSince = (server: SshServer.SshServer, before: number) => Effect.map(server.log, (log) => log.slice(before))

/** The log since `before`, once sshd has logged the end of a connection that never authenticated. */
const preauthLogSince = (server: SshServer.SshServer, before: number) =>
  logSince(server, before).pipe(
    Effect.filterOrFail((log) => log.includes("[preauth]")),
    Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 100 })
  )

layer(FixtureLive, { timeout: 120_000, excludeTestServices: true })("SshTunnel", (it) => {
  describe("credentials", () => {
    it.effect(
      "logs in with every kind of key: OpenSSH, classic PEM and PKCS#8; Ed25519, RSA and ECDSA; encrypted",
      () =>
        Effect.gen(function* () {
          const { server, keys } = yield* Fixture
          for (const [name, key] of Object.entries(keys)) {
            const rows = yield* queryThrough<{ one: number }>(
              through(tunnelTo(server, key)),
              database("root"),
              "SELECT 1 AS one"
            ).pipe(Effect.mapError((error) => new Error(`${name}: ${error}`)))
            assert.deepStrictEqual(rows, [{ one: 1 }], name)
          }
          const log = yield* server.log
          for (const key of Object.values(keys)) assert.include(log, key.fingerprint)
        })
    )

    it.effect("logs in through an SSH agent", () =>
      Effect.gen(function* () {
        const { server, keys } = yield* Fixture
        const agent = yield* SshAgent.start([keys.rsa])
        const { privateKey: _, ...withoutKey } = tunnelTo(server, keys.rsa)
        const rows = yield* queryThrough<{ one: number }>(
          through({ ...withoutKey, agent: agent.socketPath }),
          database("root"),
          "SELECT 1 AS one"
        )
        assert.deepStrictEqual(rows, [{ one: 1 }])
      })
    )

    it.effect("a key the server does not know fails the layer with authentication-failed", () =>
      Effect.gen(function* () {
        const { server } = yield* Fixture
        const dir = yield* TempDirectory.make("ssh-key-")
        const stranger = yield* SshKeys.generate(`${dir}/stranger`, { type: "ed25519" })
        const error = yield* Effect.flip(Layer.build(through(tunnelTo(server, stranger))))
        assert.strictEqual(sshErrorOf(error)?.reason, "authentication-failed")
      })
    )

    it.effect("sends a password where the server asks for one, and reports its refusal", () =>
      Effect.gen(function* () {
        const server = yield* SshServer.start({ config: ["PasswordAuthentication yes"] })
        const { privateKey: _, ...withoutKey } = tunnelTo(server, (yield* Fixture).keys.ed25519)
        const error = yield* Effect.flip(Layer.build(through({ ...withoutKey, password: "not the password" })))
        assert.strictEqual(sshErrorOf(error)?.reason, "authentication-failed")
        assert.include(sshErrorOf(error)?.message, "(password)")
        assert.include(yield* server.log, `Failed password for ${server.user}`)
      })
    )
  })

  describe("TLS inside the tunnel", () => {
    it.effect("REQUIRE SSL and REQUIRE X509 accounts log in with verify-identity and compression", () =>
      Effect.gen(function* () {
        const { server, keys } = yield* Fixture
        const tunnel = through(tunnelTo(server, keys.ed25519))
        const status =
          "SELECT (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version') AS tls," +
          " (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Compression') AS compression"
        const x509 = { ...verifyIdentity, cert: target.tls.cert.pem, key: target.tls.key.pem }
        for (const options of [
          database("tlsOnly", { ssl: verifyIdentity, compression: { algorithms: ["zlib"], required: true } }),
          database("x509", { ssl: x509 })
        ]) {
          const rows = yield* queryThrough<{ tls: string; compression: string }>(tunnel, options, status)
          assert.match(rows[0]!.tls, /^TLSv1\.[23]$/)
          assert.strictEqual(rows[0]!.compression, options.compression === undefined ? "OFF" : "ON")
        }
        // Without TLS the REQUIRE SSL account is refused: the tunnel is no substitute for it.
        const refused = yield* Effect.flip(
          queryThrough(tunnel, database("tlsOnly", { ssl: { mode: "disabled" } }), "SELECT 1")
        )
        assert.strictEqual((refused as { _tag?: string })._tag, "AuthenticationError", String(refused))
      })
    )

    it.effect("a second connection through the tunnel resumes the first one's TLS session, where the runtime can", () =>
      Effect.gen(function* () {
        const { server, keys } = yield* Fixture
        const login = Effect.scoped(
          Effect.map(MysqlConnection.connect(database("root", { ssl: verifyIdentity })), (c) => c.info.tls)
        )
        const [first, second] = yield* Effect.all([login, login]).pipe(
          Effect.provide(through(tunnelTo(server, keys.ed25519)))
        )
        assert.isFalse(first?.sessionReused)
        // Deno's node:tls cannot resume (docs/tls.md); Node's and Bun's do.
        assert.strictEqual(second?.sessionReused, RuntimeTransport.runtime !== "deno")
        assert.strictEqual(second?.peerCertificate?.fingerprint256, first?.peerCertificate?.fingerprint256)
      })
    )

    it.effect("reaches the server's Unix socket on the far side", () =>
      Effect.gen(function* () {
        const { server, keys } = yield* Fixture
        assert.isDefined(target.socketPath, "the run's server has a Unix socket")
        const rows = yield* queryThrough<{ one: number }>(
          through(tunnelTo(server, keys.ed25519)),
          database("root", { socketPath: target.socketPath! }),
          "SELECT 1 AS one"
        )
        assert.deepStrictEqual(rows, [{ one: 1 }])
      })
    )
  })

  describe("host keys", () => {
    it.effect("an unpinned server is refused before any credential is sent, and the error shows its fingerprint", () =>
      Effect.gen(function* () {
        const { keys } = yield* Fixture
        // A server of its own, whose log holds no other client's logins.
        const server = yield* SshServer.start({ authorizedKeys: [keys.ed25519.publicKey] })
        const before = (yield* server.log).length
        const { hostKeys: _, ...unpinned } = tunnelTo(server, keys.ed25519)
        const error = sshErrorOf(yield* Effect.flip(Layer.build(through(unpinned))))
        assert.strictEqual(error?.reason, "host-key-unknown")
        assert.strictEqual(error?.fingerprint, server.fingerprints[0])
        assert.include(error?.message, server.fingerprints[0])
        // sshd saw the connection end before authentication: no user was ever named to it.
        assert.notInclude(yield* preauthLogSince(server, before), ` ${server.user} `)
      })
    )

    it.effect("a changed key is refused as a mismatch, from pinned fingerprints and from known_hosts", () =>
      Effect.gen(function* () {
        const { keys } = yield* Fixture
        const server = yield* SshServer.start({ authorizedKeys: [keys.ed25519.publicKey] })
        const dir = yield* TempDirectory.make("ssh-host-")
        const other = yield* SshKeys.generate(`${dir}/other`, { type: "ed25519" })
        const knownHosts = `[${server.host}]:${server.port} ${other.publicKey}\n`
        for (const pin of [{ hostKeys: [other.fingerprint] }, { knownHosts }]) {
          const before = (yield* server.log).length
          const { hostKeys: _, ...unpinned } = tunnelTo(server, keys.ed25519)
          const error = sshErrorOf(yield* Effect.flip(Layer.build(through({ ...unpinned, ...pin }))))
          assert.strictEqual(error?.reason, "host-key-mismatch")
          assert.strictEqual(error?.fingerprint, server.fingerprints[0])
          assert.notInclude(yield* preauthLogSince(server, before), ` ${server.user} `)
        }
        // The server's own known_hosts text is accepted.
        const { hostKeys: _, ...unpinned } = tunnelTo(server, keys.ed25519)
        const rows = yield* queryThrough(
          through({ ...unpinned, knownHosts: server.knownHosts }),
          database("root"),
          "SELECT 1"
        )
        assert.strictEqual(rows.length, 1)
      })
    )
  })

  describe("the server's limits and failures", () => {
    it.effect("a server whose PermitOpen leaves the database out refuses the channel", () =>
      Effect.gen(function* () {
        const { keys } = yield* Fixture
        const strict = yield* SshServer.start({ permitOpen: "127.0.0.1:1", authorizedKeys: [keys.ed25519.publicKey] })
        const error = yield* Effect.flip(
          queryThrough(through(tunnelTo(strict, keys.ed25519)), database("root"), "SELECT 1")
        )
        assert.instanceOf(error, TransportError)
        const ssh = sshErrorOf(error)
        assert.strictEqual(ssh?.reason, "channel-refused")
        assert.include(ssh?.message, `127.0.0.1:${target.port}`)
      })
    )

    it.effect("a server killed mid-query fails the query with a typed error; the pool heals when it returns", () =>
      Effect.gen(function* () {
        const { keys } = yield* Fixture
        const server = yield* SshServer.start({ authorizedKeys: [keys.ed25519.publicKey] })
        const client = MysqlClient.layer({ ...database("root"), maxConnections: 2 }).pipe(
          Layer.provide(through(tunnelTo(server, keys.ed25519)))
        )
        yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const slow = yield* Effect.forkChild(sql`SELECT SLEEP(5) AS through_killed_tunnel`)
          yield* Effect.sleep("300 millis")
          yield* server.kill
          const exit = yield* Fiber.await(slow)
          assert.isTrue(Exit.isFailure(exit))
          const failure = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
          assert.strictEqual((failure as { _tag?: string })._tag, "SqlError", String(failure))
          yield* server.restart
          const rows = yield* sql<{ n: number }>`SELECT 41 + 1 AS n`
          assert.strictEqual(Number(rows[0]!.n), 42)
        }).pipe(Effect.provide(client))
      })
    )

    it.effect("a frozen server is found by keepalive within interval × (countMax + 1)", () =>
      Effect.gen(function* () {
        const { keys } = yield* Fixture
        const server = yield* SshServer.start({ authorizedKeys: [keys.ed25519.publicKey] })
        yield* Effect.addFinalizer(() => server.thaw)
        const tunnel = through(tunnelTo(server, keys.ed25519, { keepAlive: { interval: "300 millis", countMax: 2 } }))
        yield* Effect.gen(function* () {
          const connection = yield* MysqlConnection.connect(database("root"))
          const slow = yield* Effect.forkChild(connection.query("SELECT SLEEP(10) AS through_frozen_tunnel"))
          yield* Effect.sleep("200 millis")
          yield* server.freeze
          const frozenAt = yield* Clock.currentTimeMillis
          const exit = yield* Fiber.await(slow)
          const waited = (yield* Clock.currentTimeMillis) - frozenAt
          assert.isTrue(Exit.isFailure(exit))
          const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
          assert.strictEqual(sshErrorOf(error)?.reason, "timeout", String(error))
          assert.isAtMost(waited, 3 * 300 + 1500)
        }).pipe(Effect.scoped, Effect.provide(tunnel))
      })
    )
  })

  describe("jump hosts", () => {
    it.effect("a tunnel through a tunnel: the second SSH server is reached through the first", () =>
      Effect.gen(function* () {
        const { server: jump, keys } = yield* Fixture
        const inner = yield* SshServer.start({ authorizedKeys: [keys.ecdsa.publicKey] })
        const before = (yield* inner.log).length
        const tunnel = SshTunnel.layer(tunnelTo(inner, keys.ecdsa)).pipe(
          Layer.provide(SshTunnel.layer(tunnelTo(jump, keys.ed25519))),
          Layer.provide(RuntimeTransport.layer)
        )
        const rows = yield* queryThrough<{ one: number }>(
          tunnel,
          database("root", { ssl: verifyIdentity }),
          "SELECT 1 AS one"
        )
        assert.deepStrictEqual(rows, [{ one: 1 }])
        assert.include(yield* logSince(inner, before), keys.ecdsa.fingerprint)
      })
    )
  })
})
