/**
 * SSH keys for tests, made by `ssh-keygen` (Debian's `openssh-client`): the host keys of the test
 * SSH server, and client keys in every private-key format an SSH client meets in the wild.
 */
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { Effect } from "effect"
import { HarnessError } from "./HarnessError.ts"
import { run } from "./Process.ts"
import * as TempDirectory from "./TempDirectory.ts"

export type KeyType = "ed25519" | "rsa" | "ecdsa"

/** How the private key is stored: OpenSSH's own format, legacy PEM (PKCS#1, SEC1), or PKCS#8. */
export type KeyFormat = "openssh" | "pem" | "pkcs8"

export interface KeySpec {
  readonly type: KeyType
  readonly format?: KeyFormat
  /** Encrypts the private key; ssh-keygen wants at least 5 characters. */
  readonly passphrase?: string
}

export interface SshKey {
  readonly type: KeyType
  readonly format: KeyFormat
  readonly passphrase: string | undefined
  /** The private key file. */
  readonly path: string
  readonly privateKey: string
  /** The public key as an authorized_keys or known_hosts line has it: `<type> <base64>`. */
  readonly publicKey: string
  /** `SHA256:...`, as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string
}

/** The passphrase of every encrypted key that `generateAll` makes. */
export const passphrase = "correct horse battery"

// Small keys keep generation quick; strength does not matter for a throwaway key.
const bitsOf: Record<KeyType, string> = { ed25519: "256", rsa: "2048", ecdsa: "256" }

const readText = (path: string) =>
  Effect.tryPromise({
    try: () => Fs.readFile(path, "utf8"),
    catch: (cause) => new HarnessError({ message: `cannot read ${path}`, cause })
  })

/** Makes a key pair at `path` (private) and `path.pub`. */
export const generate = Effect.fnUntraced(function* (path: string, spec: KeySpec) {
  const format = spec.format ?? "openssh"
  const formatArgs = format === "openssh" ? [] : ["-m", format === "pem" ? "PEM" : "PKCS8"]
  yield* run("ssh-keygen", [
    "-q",
    ...["-t", spec.type, "-b", bitsOf[spec.type]],
    ...formatArgs,
    ...["-N", spec.passphrase ?? "", "-C", "", "-f", path]
  ])
  const publicKey = (yield* readText(`${path}.pub`)).trim().split(/\s+/).slice(0, 2).join(" ")
  const printed = yield* run("ssh-keygen", ["-l", "-E", "sha256", "-f", `${path}.pub`])
  return {
    type: spec.type,
    format,
    passphrase: spec.passphrase,
    path,
    privateKey: yield* readText(path),
    publicKey,
    fingerprint: printed.split(/\s+/)[1] ?? ""
  } satisfies SshKey
})

export interface ClientKeys {
  readonly ed25519: SshKey
  readonly ed25519Encrypted: SshKey
  readonly rsa: SshKey
  readonly ecdsa: SshKey
  readonly rsaPemEncrypted: SshKey
  readonly rsaPkcs8: SshKey
  readonly rsaPkcs8Encrypted: SshKey
}

const clientSpecs: { readonly [Name in keyof ClientKeys]: KeySpec } = {
  ed25519: { type: "ed25519" },
  ed25519Encrypted: { type: "ed25519", passphrase },
  rsa: { type: "rsa" },
  ecdsa: { type: "ecdsa" },
  rsaPemEncrypted: { type: "rsa", format: "pem", passphrase },
  rsaPkcs8: { type: "rsa", format: "pkcs8" },
  rsaPkcs8Encrypted: { type: "rsa", format: "pkcs8", passphrase }
}

/**
 * One client key of each kind in a temporary directory that lives as long as the scope; the
 * encrypted ones use `passphrase`.
 */
export const generateAll = Effect.gen(function* () {
  const dir = yield* TempDirectory.make("effect-mysql-ssh-keys-")
  return yield* Effect.all(
    Object.fromEntries(
      Object.entries(clientSpecs).map(([name, spec]) => [name, generate(Path.join(dir, name), spec)])
    ) as { readonly [Name in keyof ClientKeys]: Effect.Effect<SshKey, HarnessError> },
    { concurrency: "unbounded" }
  )
})
