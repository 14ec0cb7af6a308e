// The test SSH server checked with the OpenSSH client: strict host-key checking against the
// known_hosts text it hands out, logins with each client key (the encrypted ones through the test
// agent), and the controls the tunnel tests rely on: kill, restart, freeze and thaw.
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { SshAgent, SshKeys, SshServer } from "../src/index.ts"
import { run } from "../src/Process.ts"

const ssh = (server: SshServer.SshServer, knownHostsPath: string, args: ReadonlyArray<string>, command: string) =>
  run("ssh", [
    ...["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"],
    ...["-o", `UserKnownHostsFile=${knownHostsPath}`, "-o", "GlobalKnownHostsFile=/dev/null"],
    ...["-o", "ConnectTimeout=3", "-p", String(server.port), ...args],
    `${server.user}@${server.host}`,
    command
  ])

const withKey = (key: SshKeys.SshKey) => ["-o", "IdentitiesOnly=yes", "-i", key.path]

const failure = <A, E extends { readonly message: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(effect), (error) => error.message)

describe("SshServer", () => {
  it.live(
    "serves logins to the OpenSSH client, which trusts it by its known_hosts text alone",
    () =>
      Effect.gen(function* () {
        const keys = yield* SshKeys.generateAll
        const server = yield* SshServer.start({
          hostKeyTypes: ["ed25519", "rsa"],
          authorizedKeys: [keys.ed25519.publicKey, keys.rsa.publicKey, keys.ecdsa.publicKey]
        })
        yield* server.authorize(keys.ed25519Encrypted.publicKey)
        yield* server.authorize(keys.rsaPkcs8.publicKey)
        const knownHosts = Path.join(server.dir, "client_known_hosts")
        yield* Effect.promise(() => Fs.writeFile(knownHosts, server.knownHosts))

        const printed = yield* run("ssh-keygen", ["-l", "-f", knownHosts])
        for (const fingerprint of server.fingerprints) assert.include(printed, fingerprint)
        for (const key of [keys.ed25519, keys.rsa, keys.ecdsa])
          assert.strictEqual(yield* ssh(server, knownHosts, withKey(key), "echo ok"), "ok\n")
        const rsaHostKey = ["-o", "HostKeyAlgorithms=rsa-sha2-256", ...withKey(keys.ed25519)]
        assert.strictEqual(yield* ssh(server, knownHosts, rsaHostKey, "echo ok"), "ok\n")
        assert.include(yield* failure(ssh(server, "/dev/null", withKey(keys.ed25519), "true")), "verification failed")
        assert.include(
          yield* failure(ssh(server, knownHosts, withKey(keys.rsaPemEncrypted), "true")),
          "Permission denied"
        )

        const agent = yield* SshAgent.start([keys.ed25519Encrypted, keys.rsaPkcs8])
        assert.lengthOf(
          (yield* run("ssh-add", ["-l"], { env: { SSH_AUTH_SOCK: agent.socketPath } })).trim().split("\n"),
          2
        )
        const viaAgent = ["-o", `IdentityAgent=${agent.socketPath}`, "-o", "IdentityFile=none"]
        assert.strictEqual(yield* ssh(server, knownHosts, viaAgent, "echo ok"), "ok\n")

        const log = yield* server.log
        assert.include(log, `Accepted publickey for ${server.user}`)
        assert.include(log, keys.ed25519Encrypted.fingerprint)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "freezes open sessions with the listener, kills them all, and restarts on the same port",
    () =>
      Effect.gen(function* () {
        const keys = yield* SshKeys.generateAll
        const server = yield* SshServer.start({ authorizedKeys: [keys.ed25519.publicKey] })
        const knownHosts = Path.join(server.dir, "client_known_hosts")
        yield* Effect.promise(() => Fs.writeFile(knownHosts, server.knownHosts))
        const login = withKey(keys.ed25519)
        const alive = ["-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=1", ...login]

        // A frozen server keeps the session's TCP connection but stops answering it.
        const frozenSession = yield* Effect.forkChild(failure(ssh(server, knownHosts, alive, "sleep 20")))
        yield* Effect.sleep("1 second")
        yield* server.freeze
        assert.include(yield* Fiber.join(frozenSession), "not responding")
        assert.include(
          yield* failure(ssh(server, knownHosts, ["-o", "ConnectTimeout=1", ...login], "true")),
          "timed out"
        )
        yield* server.thaw
        assert.strictEqual(yield* ssh(server, knownHosts, login, "echo ok"), "ok\n")

        // A killed server takes its sessions down with it, and comes back with the same identity.
        const killedSession = yield* Effect.forkChild(failure(ssh(server, knownHosts, login, "sleep 20")))
        yield* Effect.sleep("1 second")
        const before = server.pid
        yield* server.kill
        assert.match(yield* Fiber.join(killedSession), /closed|reset|broken/i)
        assert.include(yield* failure(ssh(server, knownHosts, login, "true")), "refused")
        yield* server.restart
        assert.notStrictEqual(server.pid, before)
        assert.strictEqual(yield* ssh(server, knownHosts, login, "echo ok"), "ok\n")
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "refuses forwarding outside PermitOpen, and logs no authentication when the client refuses its host key",
    () =>
      Effect.gen(function* () {
        const keys = yield* SshKeys.generateAll
        const server = yield* SshServer.start({
          hostKeyTypes: ["ecdsa"],
          permitOpen: "127.0.0.1:1",
          authorizedKeys: [keys.ed25519.publicKey]
        })
        assert.match(server.knownHosts, /^\[127\.0\.0\.1\]:\d+ ecdsa-sha2-nistp256 /)
        const knownHosts = Path.join(server.dir, "client_known_hosts")
        yield* Effect.promise(() => Fs.writeFile(knownHosts, server.knownHosts))
        const login = withKey(keys.ed25519)

        assert.include(yield* failure(ssh(server, "/dev/null", login, "true")), "verification failed")
        assert.notInclude(yield* server.log, "publickey")

        // A closed port inside PermitOpen is tried and refused by the kernel; anything else is
        // refused by sshd before it connects anywhere.
        const forward = (target: string) => failure(ssh(server, knownHosts, [...login, "-W", target], ""))
        assert.include(yield* forward("127.0.0.1:1"), "Connection refused")
        assert.include(yield* forward(`127.0.0.1:${server.port}`), "administratively prohibited")
      }).pipe(Effect.scoped),
    60_000
  )
})
