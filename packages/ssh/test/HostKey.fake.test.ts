// The key blob ssh2 hands to `hostVerifier` is the one HostKey fingerprints: checked against a
// real sshd of each host key type, with a refused key ending the handshake before authentication.
import { assert, describe, it } from "@effect/vitest"
import { SshKeys, SshServer } from "@effect-mysql/testing"
import { Effect } from "effect"
import { Client } from "ssh2"
import * as HostKey from "../src/HostKey.ts"

/** Connects with ssh2, lets `policy` decide on the host key, and reports the verdict and outcome. */
const connect = (server: SshServer.SshServer, key: SshKeys.SshKey, policy: HostKey.HostKeyPolicy) =>
  Effect.callback<{ readonly verdict: HostKey.Verdict | undefined; readonly ready: boolean }>((resume) => {
    const client = new Client()
    let verdict: HostKey.Verdict | undefined
    const finish = (ready: boolean) => {
      client.end()
      resume(Effect.succeed({ verdict, ready }))
    }
    client.once("ready", () => finish(true))
    client.once("error", () => finish(false))
    client.connect({
      host: server.host,
      port: server.port,
      username: server.user,
      privateKey: key.privateKey,
      hostVerifier: (blob: Buffer, accept: (valid: boolean) => void) => {
        Effect.runPromise(HostKey.verify(policy, server.host, server.port, blob)).then((decided) => {
          verdict = decided
          accept(decided._tag === "Accepted")
        })
      }
    })
    return Effect.sync(() => client.end())
  })

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
          assert.isTrue(trusted.ready)

          const pinned = yield* HostKey.policy({ fingerprints: server.fingerprints })
          assert.isTrue((yield* connect(server, keys.ed25519, pinned)).ready)

          const before = (yield* server.log).split("\n").length
          const unknown = yield* connect(server, keys.ed25519, HostKey.parseKnownHosts(""))
          assert.strictEqual(unknown.verdict?._tag, "Unknown")
          assert.isFalse(unknown.ready)
          const after = (yield* server.log).split("\n").slice(before - 1)
          assert.isFalse(after.some((line) => line.includes("publickey")))
        }
      }).pipe(Effect.scoped),
    60_000
  )
})
