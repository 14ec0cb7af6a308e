// The key blob ssh2 hands to `hostVerifier` is the one HostKey fingerprints: checked against a
// real sshd of each host key type, with a refused key ending the handshake before authentication.
// ssh2 runs over the runtime's transport, as in the tunnel.
import { assert, describe, it } from "@effect/vitest"
import { SshKeys, SshServer } from "@effect-mysql/testing"
import { Endpoint, RuntimeTransport, Transport } from "@effect-mysql/transport"
import { Effect } from "effect"
import { Client } from "ssh2"
import * as HostKey from "../src/HostKey.ts"
import { ConnectionStream } from "../src/internal/ConnectionStream.ts"

/**
 * Connects with ssh2 over the runtime's transport, as the tunnel does, lets `policy` decide on the
 * host key, and reports the verdict and the outcome.
 */
const connect = (server: SshServer.SshServer, key: SshKeys.SshKey, policy: HostKey.HostKeyPolicy) =>
  Effect.gen(function* () {
    const transport = yield* Transport
    const connection = yield* transport.connect(Endpoint.tcp(server.host, server.port))
    return yield* Effect.callback<{
      readonly verdict: HostKey.Verdict | undefined
      readonly ready: boolean
      readonly error: string | undefined
    }>((resume) => {
      const client = new Client()
      let verdict: HostKey.Verdict | undefined
      let finished = false
      const finish = (ready: boolean, error?: Error) => {
        if (finished) return
        finished = true
        client.end()
        resume(Effect.succeed({ verdict, ready, error: error?.message }))
      }
      client.once("ready", () => finish(true))
      // ssh2 reports the socket's end on the client too, after the outcome: it needs a listener.
      client.on("error", (error) => finish(false, error))
      client.connect({
        sock: new ConnectionStream(connection),
        username: server.user,
        privateKey: key.privateKey,
        // A loaded machine (the suite starts database clusters beside this test) may take longer
        // than ssh2's default 20 s; the test is about the host key, not the time.
        readyTimeout: 120_000,
        hostVerifier: (blob: Buffer, accept: (valid: boolean) => void) => {
          Effect.runPromise(HostKey.verify(policy, server.host, server.port, blob)).then((decided) => {
            verdict = decided
            accept(decided._tag === "Accepted")
          })
        }
      })
      return Effect.sync(() => client.end())
    })
  }).pipe(Effect.scoped, Effect.provide(RuntimeTransport.layer))

describe("HostKey with ssh2 and sshd", () => {
  it.live(
    "fingerprints the host key ssh2 receives as ssh-keygen does, and refuses before authenticating",
    () =>
      Effect.gen(function* () {
        const keys = yield* SshKeys.generateAll
        for (const type of ["ed25519", "rsa", "ecdsa"] as const) {
          const server = yield* SshServer.start({ hostKeyTypes: [type], authorizedKeys: [keys.ed25519.publicKey] })
          const trusted = yield* connect(server, keys.ed25519, HostKey.parseKnownHosts(server.knownHosts))
          assert.strictEqual(trusted.verdict?._tag, "Accepted")
          assert.strictEqual(trusted.verdict?.fingerprint, server.fingerprints[0])
          assert.isTrue(trusted.ready, trusted.error)

          const pinned = yield* HostKey.policy({ fingerprints: server.fingerprints })
          const pinnedLogin = yield* connect(server, keys.ed25519, pinned)
          assert.isTrue(pinnedLogin.ready, pinnedLogin.error)

          const before = (yield* server.log).split("\n").length
          const unknown = yield* connect(server, keys.ed25519, HostKey.parseKnownHosts(""))
          assert.strictEqual(unknown.verdict?._tag, "Unknown")
          assert.isFalse(unknown.ready)
          const after = (yield* server.log).split("\n").slice(before - 1)
          assert.isFalse(after.some((line) => line.includes("publickey")))
        }
      }).pipe(Effect.scoped),
    300_000
  )
})
