/**
 * A fresh test PKI per run, made with the `openssl` CLI: a CA, server certificates for every
 * verification outcome the TLS tests need, and a client certificate for REQUIRE X509 accounts.
 * Keys are P-256 (quick to generate, accepted by MariaDB and by every runtime's TLS stack).
 */
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { Effect } from "effect"
import { HarnessError } from "./HarnessError.ts"
import { run } from "./Process.ts"
import * as TempDirectory from "./TempDirectory.ts"

export interface PemFile {
  readonly path: string
  readonly pem: string
}

export interface CertifiedKey {
  readonly cert: PemFile
  readonly key: PemFile
}

/** The server certificates a test server can be started with, named by what a client should see. */
export interface ServerCertificates {
  /** Signed by `ca`, names `localhost`, `127.0.0.1` and `::1`. */
  readonly good: CertifiedKey
  /** Signed by `ca`, but names only `wrong-name.invalid`: verify-ca accepts it, verify-identity does not. */
  readonly wrongName: CertifiedKey
  /** The right names, signed by `untrustedCa`, which no client trusts. */
  readonly untrusted: CertifiedKey
  /** Signed by `ca` with the right names, valid only in January 2020. */
  readonly expired: CertifiedKey
}

export type ServerCertificateName = keyof ServerCertificates

export interface TestPki {
  readonly dir: string
  readonly ca: PemFile
  readonly untrustedCa: PemFile
  readonly servers: ServerCertificates
  /** A client certificate signed by `ca` (CN x509_user). */
  readonly client: CertifiedKey
}

const serverNames = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"

const extensions = (san: string | undefined, usage: "serverAuth" | "clientAuth") =>
  ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", `extendedKeyUsage=${usage}`]
    .concat(san === undefined ? [] : [san])
    .join("\n")

const openssl = (dir: string, args: ReadonlyArray<string>) => run("openssl", args, { cwd: dir })

const read = (path: string) =>
  Effect.tryPromise({
    try: () => Fs.readFile(path, "utf8"),
    catch: (cause) => new HarnessError({ message: `cannot read ${path}`, cause })
  })

const write = (path: string, text: string) =>
  Effect.tryPromise({
    try: () => Fs.writeFile(path, text),
    catch: (cause) => new HarnessError({ message: `cannot write ${path}`, cause })
  })

const pemFile = (dir: string, name: string) =>
  Effect.map(read(Path.join(dir, name)), (pem): PemFile => ({ path: Path.join(dir, name), pem }))

const newKey = (dir: string, name: string) =>
  openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`])

const makeCa = Effect.fnUntraced(function* (dir: string, name: string, subject: string) {
  yield* newKey(dir, name)
  yield* openssl(
    dir,
    ["req", "-x509", "-new", "-key", `${name}.key`, "-out", `${name}.pem`, "-days", "30"]
      .concat(["-subj", `/CN=${subject}`, "-addext", "basicConstraints=critical,CA:TRUE"])
      .concat(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
  )
  return yield* pemFile(dir, `${name}.pem`)
})

const request = Effect.fnUntraced(function* (dir: string, name: string, subject: string) {
  yield* newKey(dir, name)
  yield* openssl(dir, ["req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${subject}`])
})

const certifiedKey = (dir: string, name: string) =>
  Effect.all({ cert: pemFile(dir, `${name}.pem`), key: pemFile(dir, `${name}.key`) })

/** A certificate signed by `caName`, valid for 30 days from now. */
const issue = Effect.fnUntraced(function* (
  dir: string,
  caName: string,
  name: string,
  subject: string,
  extensionText: string
) {
  yield* request(dir, name, subject)
  yield* write(Path.join(dir, `${name}.ext`), extensionText)
  yield* openssl(
    dir,
    ["x509", "-req", "-in", `${name}.csr`, "-CA", `${caName}.pem`, "-CAkey", `${caName}.key`].concat([
      "-CAcreateserial",
      "-days",
      "30",
      "-sha256",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.pem`
    ])
  )
  return yield* certifiedKey(dir, name)
})

/** `openssl x509 -req` cannot date a certificate in the past; `openssl ca` can, given a minimal config. */
const issueExpired = Effect.fnUntraced(function* (dir: string, name: string) {
  yield* request(dir, name, "localhost")
  yield* write(Path.join(dir, "index.txt"), "")
  yield* write(Path.join(dir, "serial"), "1000\n")
  yield* write(
    Path.join(dir, "ca.cnf"),
    [
      "[ca]",
      "default_ca = test_ca",
      "[test_ca]",
      `dir = ${dir}`,
      "database = $dir/index.txt",
      "serial = $dir/serial",
      "new_certs_dir = $dir",
      "certificate = $dir/ca.pem",
      "private_key = $dir/ca.key",
      "default_md = sha256",
      "policy = any",
      "unique_subject = no",
      "x509_extensions = server",
      "[any]",
      "commonName = supplied",
      "[server]",
      extensions(serverNames, "serverAuth"),
      ""
    ].join("\n")
  )
  yield* openssl(
    dir,
    ["ca", "-batch", "-config", "ca.cnf", "-in", `${name}.csr`, "-out", `${name}.pem`, "-notext"].concat([
      "-startdate",
      "20200101000000Z",
      "-enddate",
      "20200201000000Z"
    ])
  )
  return yield* certifiedKey(dir, name)
})

/** Generates the PKI into `dir`. */
export const generateInto = Effect.fnUntraced(function* (dir: string) {
  const ca = yield* makeCa(dir, "ca", "effect-mysql test CA")
  const untrustedCa = yield* makeCa(dir, "untrusted-ca", "effect-mysql untrusted CA")
  const server = extensions(serverNames, "serverAuth")
  const servers: ServerCertificates = {
    good: yield* issue(dir, "ca", "server", "localhost", server),
    wrongName: yield* issue(
      dir,
      "ca",
      "wrong-name",
      "wrong-name.invalid",
      extensions("subjectAltName=DNS:wrong-name.invalid", "serverAuth")
    ),
    untrusted: yield* issue(dir, "untrusted-ca", "untrusted", "localhost", server),
    expired: yield* issueExpired(dir, "expired")
  }
  const client = yield* issue(dir, "ca", "client", "x509_user", extensions(undefined, "clientAuth"))
  return { dir, ca, untrustedCa, servers, client } satisfies TestPki
})

/** Generates a PKI in a new temporary directory, removed when the scope closes. */
export const generate = TempDirectory.make("effect-mysql-pki-").pipe(Effect.flatMap(generateInto))
