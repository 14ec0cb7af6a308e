// The tunnel's options before any connection: URLs and the environment as options, private keys of
// every format made usable or refused with the reason, and every bad setting an `SshError`.
import * as ChildProcess from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Transport } from "@effect-mysql/transport"
import { ConfigProvider, Duration, Effect, Layer, Redacted, Result } from "effect"
import ssh2 from "ssh2"
import { SshTunnel } from "../src/index.ts"
import { usableKey } from "../src/internal/PrivateKey.ts"
import { resolve } from "../src/internal/Settings.ts"
import { parse } from "../src/internal/Url.ts"
import { keys } from "./fixtures/HostKeys.ts"

const fingerprint = keys.ed25519.fingerprint

const parsed = (url: string) => {
  const result = parse(url)
  if (Result.isFailure(result)) throw new Error(result.failure)
  return result.success
}

const refusal = (url: string) => {
  const result = parse(url)
  if (Result.isSuccess(result)) throw new Error(`${url} was accepted`)
  return result.failure
}

describe("ssh:// URLs", () => {
  it("read user, password, host, port and every parameter", () => {
    const { options, files } = parsed(
      `ssh://deploy%40corp:p%40ss@bastion.example.com:2222?host-key=${fingerprint}&host-key=${keys.rsa.fingerprint}` +
        "&identity-file=/keys/id_ed25519&known-hosts-file=/keys/known_hosts&passphrase=s3cret&agent=/run/agent.sock" +
        "&server-alive-interval=5&server-alive-count-max=4&connect-timeout=500%20millis"
    )
    assert.strictEqual(options.host, "bastion.example.com")
    assert.strictEqual(options.port, 2222)
    assert.strictEqual(options.user, "deploy@corp")
    assert.strictEqual(Redacted.value(options.password as Redacted.Redacted<string>), "p@ss")
    assert.deepStrictEqual(options.hostKeys, [fingerprint, keys.rsa.fingerprint])
    assert.deepStrictEqual(files, { identity: "/keys/id_ed25519", knownHosts: "/keys/known_hosts" })
    assert.strictEqual(Redacted.value(options.passphrase as Redacted.Redacted<string>), "s3cret")
    assert.strictEqual(options.agent, "/run/agent.sock")
    assert.deepStrictEqual(options.keepAlive, { interval: Duration.seconds(5), countMax: 4 })
    assert.deepStrictEqual(options.connectTimeout, Duration.millis(500))
  })

  it("turn keepalive off with server-alive-interval=0, as OpenSSH does", () => {
    assert.strictEqual(parsed("ssh://u@h?server-alive-interval=0").options.keepAlive, false)
  })

  it("refuse what cannot work, naming the parameter and never the password", () => {
    assert.include(refusal("ssh://u:hunter2@h?port=1"), "url parameter port is not a known parameter")
    assert.include(refusal("ssh://u@h?connect-timeout=soon"), "url parameter connect-timeout soon is not a duration")
    assert.include(refusal("ssh://u@h?server-alive-count-max=0"), "is not a whole number of at least 1")
    assert.include(refusal("ssh://u@h?agent=a&agent=b"), "url parameter agent is given more than once")
    assert.include(refusal("ssh://u@h/path"), "has no path")
    assert.include(refusal("mysql://u@h"), "scheme mysql: is not ssh:")
    assert.notInclude(refusal("ssh://u:hunter2@h?nope=1"), "hunter2")
  })
})

describe("SshTunnel.layerConfig", () => {
  const build = (env: Record<string, string>) =>
    SshTunnel.layerConfig().pipe(
      Layer.provide(Layer.succeed(Transport, Transport.of({ connect: () => Effect.die("not reached") }))),
      Layer.build,
      Effect.scoped,
      Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))),
      Effect.flip
    )

  it("reads the variables, and refuses a tunnel without credentials before connecting", () =>
    Effect.gen(function* () {
      const error = yield* build({ SSH_URL: "ssh://deploy@bastion:2222", SSH_HOST_KEY: fingerprint })
      assert.strictEqual(error._tag, "SshError")
      assert.include(error.message, "no credentials: give privateKey, password or agent")
    }))

  it("names the variable that is wrong", () =>
    Effect.gen(function* () {
      const error = yield* build({ SSH_HOST: "bastion", SSH_USER: "deploy", SSH_CONNECT_TIMEOUT: "later" })
      assert.include(error.message, "SSH_CONNECT_TIMEOUT later is not a duration")
    }))

  it("reports a key file it cannot read", () =>
    Effect.gen(function* () {
      const error = yield* build({ SSH_URL: "ssh://deploy@bastion", SSH_IDENTITY_FILE: "/nonexistent/id_ed25519" })
      assert.include(error.message, "identity-file: cannot read /nonexistent/id_ed25519")
    }))
})

describe("settings", () => {
  const refused = (options: Partial<SshTunnel.SshTunnelOptions>) =>
    Effect.flip(resolve({ host: "bastion", user: "deploy", password: "pw", hostKeys: [fingerprint], ...options }))

  it("refuse bad values with the option's name", () =>
    Effect.gen(function* () {
      assert.include((yield* refused({ port: 70000 })).message, "port: 70000 is not a TCP port")
      assert.include((yield* refused({ hostKeys: ["MD5:aa:bb"] })).message, "MD5")
      assert.include((yield* refused({ knownHosts: "" })).message, "give hostKeys or knownHosts, not both")
      assert.include((yield* refused({ keepAlive: { countMax: 0 } })).message, "keepAlive.countMax: 0")
      assert.include((yield* refused({ connectTimeout: -1 })).message, "connectTimeout: -1 is not a positive duration")
      const error = yield* refused({ user: "" })
      assert.strictEqual(error.reason, "invalid-option")
      assert.strictEqual(error.server, "bastion:22")
    }))
})

/** Signs with the key through ssh2, and checks the signature with the original public key. */
const signsAs = (pem: string, publicKey: Crypto.KeyObject) => {
  const parsed = ssh2.utils.parseKey(pem)
  if (parsed instanceof Error) throw parsed
  const data = Buffer.from("session id")
  if (publicKey.asymmetricKeyType === "ec") return parsed.verify(data, parsed.sign(data))
  const hash = publicKey.asymmetricKeyType === "rsa" ? "sha256" : null
  return Crypto.verify(hash, data, publicKey, parsed.sign(data, hash ?? undefined))
}

describe("private keys", () => {
  const passphrase = Redacted.make("correct horse")
  const pkcs8 = (type: "rsa" | "ec" | "ed25519", encrypted: boolean) => {
    const pair =
      type === "rsa"
        ? Crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
        : type === "ec"
          ? Crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
          : Crypto.generateKeyPairSync("ed25519")
    const pem = pair.privateKey.export({
      type: "pkcs8",
      format: "pem",
      ...(encrypted ? { cipher: "aes-256-cbc", passphrase: Redacted.value(passphrase) } : {})
    })
    return { pem: Redacted.make(String(pem)), publicKey: pair.publicKey }
  }

  for (const type of ["rsa", "ec", "ed25519"] as const) {
    it(`PKCS#8 ${type}, encrypted or not, becomes a key ssh2 signs with`, () => {
      for (const encrypted of [false, true]) {
        const key = pkcs8(type, encrypted)
        const usable = usableKey(key.pem, encrypted ? passphrase : undefined)
        assert.isTrue(Result.isSuccess(usable), String(Result.isFailure(usable) && usable.failure))
        if (Result.isSuccess(usable)) assert.isTrue(signsAs(usable.success.privateKey, key.publicKey))
      }
    })
  }

  it("OpenSSH ECDSA keys sign on every runtime, whatever the length of their scalar", () => {
    // About every other key has a scalar that ssh2 alone would hand to Deno in a form it refuses.
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ssh-ecdsa-"))
    try {
      for (const [bits, count] of [
        [256, 8],
        [384, 2],
        [521, 2]
      ] as const) {
        for (let i = 0; i < count; i++) {
          const path = Path.join(dir, `key-${bits}-${i}`)
          ChildProcess.execFileSync("ssh-keygen", ["-q", "-t", "ecdsa", "-b", String(bits), "-N", "", "-f", path])
          const usable = usableKey(Redacted.make(Fs.readFileSync(path, "utf8")), undefined)
          assert.isTrue(Result.isSuccess(usable), String(Result.isFailure(usable) && usable.failure))
          if (Result.isFailure(usable)) continue
          const signer = ssh2.utils.parseKey(usable.success.privateKey)
          const verifier = ssh2.utils.parseKey(Fs.readFileSync(`${path}.pub`, "utf8"))
          if (signer instanceof Error || verifier instanceof Error) throw new Error("unreadable key")
          const data = Buffer.from("session id")
          assert.isTrue(verifier.verify(data, signer.sign(data)), `${bits}-bit key ${i}`)
        }
      }
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("refuses an encrypted key without its passphrase, or with a wrong one", () => {
    const key = pkcs8("rsa", true)
    const without = usableKey(key.pem, undefined)
    assert.isTrue(Result.isFailure(without) && without.failure.includes("give its passphrase"))
    const wrong = usableKey(key.pem, Redacted.make("wrong"))
    assert.isTrue(Result.isFailure(wrong) && wrong.failure.includes("is the passphrase right?"))
  })

  it("refuses text that is no key", () => {
    const result = usableKey(Redacted.make("-----BEGIN NONSENSE-----\nAAAA\n-----END NONSENSE-----"), undefined)
    assert.isTrue(Result.isFailure(result) && result.failure.includes("cannot be read"))
  })
})
