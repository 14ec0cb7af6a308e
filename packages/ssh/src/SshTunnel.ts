/**
 * MySQL connections through an SSH server. `SshTunnel.layer(options)` takes a `Transport` (the
 * runtime's, or another tunnel's for a jump host) and provides one whose connections are channels
 * of a single SSH session, opened when the layer is built and opened again when it dies. The MySQL
 * connection on top is unchanged: every ssl-mode, client certificates and compression work inside
 * the tunnel, end to end between the client and the database.
 *
 * ```ts
 * const TransportLive = SshTunnel.layer({
 *   host: "bastion.example.com",
 *   user: "deploy",
 *   privateKey: Redacted.make(key),
 *   hostKeys: ["SHA256:…"]
 * }).pipe(Layer.provide(NodeTransport.layer))
 * ```
 *
 * The host key must be pinned (`hostKeys` or `knownHosts`): a server that shows any other key, or
 * any key when none is pinned, is refused before a credential is sent, and the error shows the
 * key's fingerprint.
 */

import { type Connection, type TimeoutError, Transport, TransportError } from "@effect-mysql/transport"
import { DuplexConnection } from "@effect-mysql/transport/duplex"
import { Config, type Duration, Effect, Layer, Option, Redacted, Result, Semaphore } from "effect"
import { Session } from "./internal/Session.ts"
import { resolve, type Settings } from "./internal/Settings.ts"
import { applyParameters, parameterNames, parse, type UrlSettings } from "./internal/Url.ts"
import { SshError } from "./SshError.ts"

export interface SshTunnelOptions {
  /** The SSH server. */
  readonly host: string
  /** Default 22. */
  readonly port?: number | undefined
  readonly user: string
  /** Text of the private key: OpenSSH, classic PEM (PKCS#1, SEC1) or PKCS#8; RSA, ECDSA or Ed25519. */
  readonly privateKey?: string | Redacted.Redacted<string> | undefined
  /** Decrypts an encrypted `privateKey`. */
  readonly passphrase?: string | Redacted.Redacted<string> | undefined
  readonly password?: string | Redacted.Redacted<string> | undefined
  /** Path of an SSH agent's socket (`SSH_AUTH_SOCK`). */
  readonly agent?: string | undefined
  /** The server's host keys by fingerprint, as `ssh-keygen -lf` prints them (`SHA256:…`). */
  readonly hostKeys?: ReadonlyArray<string> | undefined
  /** Text in OpenSSH's known_hosts format (hashed host names, `[host]:port`, `@revoked`). */
  readonly knownHosts?: string | undefined
  /**
   * Keepalive requests inside the session (default every 10 seconds, and the session is given up
   * after 2 unanswered: a silent server is noticed within 30 seconds). `false` turns them off.
   */
  readonly keepAlive?: false | { readonly interval?: Duration.Input; readonly countMax?: number } | undefined
  /** Budget for reaching the SSH server, the key exchange and authentication (default 10 seconds). */
  readonly connectTimeout?: Duration.Input | undefined
}

/** A failure of the tunnel, inside what a `Transport` may fail with; the `SshError` is its cause. */
const asTransportError = (error: SshError) =>
  new TransportError({ reason: "connect-failed", message: error.message, cause: error })

/** The connection, with its failures explained by the session once the session has ended. */
const explained = (connection: Connection, session: Session): Connection => {
  const explain = <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.mapError(effect, (error) => (error instanceof TransportError ? session.explain(error) : error))
  return {
    ...connection,
    read: (options) => explain(connection.read(options)),
    write: (bytes, options) => explain(connection.write(bytes, options))
  }
}

const makeTransport = Effect.fnUntraced(function* (settings: Settings) {
  const below = yield* Transport
  const permit = yield* Semaphore.make(1)
  // Sessions outlive the SSH session: the database behind the tunnel is the same after a reopen.
  const tlsSessions = DuplexConnection.tlsSessions()
  let session = yield* Session.open(below, settings)
  yield* Effect.addFinalizer(() => session.close)

  // Connections asking at once while the session is down wait for one new session.
  const current = permit.withPermit(
    Effect.suspend(() =>
      session.isAlive
        ? Effect.succeed(session)
        : Effect.tap(Session.open(below, settings), (opened) =>
            Effect.sync(() => {
              session = opened
            })
          )
    )
  )

  return Transport.of({
    connect: (endpoint, options) =>
      Effect.gen(function* () {
        const { session, stream } = yield* current.pipe(
          Effect.flatMap((session) => Effect.map(session.channel(endpoint), (stream) => ({ session, stream }))),
          Effect.timeoutOrElse({
            duration: settings.connectTimeout,
            orElse: () =>
              Effect.fail(
                new TransportError({
                  reason: "connect-failed",
                  message: `SSH server ${settings.label}: no channel to the database within ${settings.connectMillis} ms`
                })
              )
          }),
          Effect.catchTag("SshError", (error) => Effect.fail(asTransportError(error)))
        )
        return explained(yield* DuplexConnection.make(stream, endpoint, options, tlsSessions), session)
      })
  })
})

/**
 * A `Transport` through the SSH server that `options` name, over the `Transport` it is given.
 * Building it opens the session, so a wrong host key or credential fails the layer with an
 * `SshError`; afterwards a connection the tunnel cannot carry fails with a `TransportError` whose
 * `cause` is the `SshError`.
 */
export const layer = (
  options: SshTunnelOptions
): Layer.Layer<Transport, SshError | TransportError | TimeoutError, Transport> =>
  Layer.effect(Transport, Effect.flatMap(resolve(options), makeTransport))

const invalid = (message: string) => new SshError({ reason: "invalid-option", message, server: "" })

const readFile = (path: string, what: string) =>
  Effect.tryPromise({
    try: async () => (await import("node:fs/promises")).readFile(path, "utf8"),
    catch: (error) => invalid(`${what}: cannot read ${path}: ${(error as Error).message}`)
  })

/** The options a URL or the environment gave, with the files they name read. */
const withFiles = Effect.fnUntraced(function* (settings: UrlSettings, overrides: Partial<SshTunnelOptions>) {
  const { identity, knownHosts } = settings.files
  return {
    ...settings.options,
    ...(identity === undefined ? {} : { privateKey: Redacted.make(yield* readFile(identity, "identity-file")) }),
    ...(knownHosts === undefined ? {} : { knownHosts: yield* readFile(knownHosts, "known-hosts-file") }),
    ...overrides
  }
})

const layerOf = <E, R>(options: Effect.Effect<SshTunnelOptions, E, R>) =>
  Layer.effect(Transport, options.pipe(Effect.flatMap(resolve), Effect.flatMap(makeTransport)))

/**
 * From `ssh://user@host:port?host-key=SHA256:…&identity-file=~/.ssh/id_ed25519`; the parameters
 * are `host-key` (repeatable, or comma-separated), `identity-file`, `passphrase`,
 * `known-hosts-file`, `agent`, `server-alive-interval` (0 turns keepalive off),
 * `server-alive-count-max` and `connect-timeout` (plain numbers are seconds). `overrides` win.
 */
export const layerFromUrl = (
  url: string | Redacted.Redacted<string>,
  overrides: Partial<SshTunnelOptions> = {}
): Layer.Layer<Transport, SshError | TransportError | TimeoutError, Transport> =>
  layerOf(
    Effect.flatMap(Effect.mapError(Effect.fromResult(parse(url)), invalid), (settings) =>
      withFiles(settings, overrides)
    )
  )

/** `host-key` → `SSH_HOST_KEY`. */
const variableName = (parameter: string, prefix: string) => `${prefix}_${parameter.toUpperCase().replaceAll("-", "_")}`

/**
 * From effect's `Config` (the environment by default): `SSH_URL`, or `SSH_HOST`, `SSH_PORT` and
 * `SSH_USER`; `SSH_PASSWORD` and `SSH_PRIVATE_KEY` (the key's text, e.g. from a secret store) as
 * `Redacted`; and each URL parameter as `SSH_` + its name in upper snake case (`SSH_HOST_KEY`,
 * `SSH_IDENTITY_FILE`, …). A variable overrides the same setting in the URL.
 */
export const layerConfig = (
  prefix = "SSH"
): Layer.Layer<Transport, Config.ConfigError | SshError | TransportError | TimeoutError, Transport> =>
  layerOf(
    Effect.gen(function* () {
      const found = yield* Config.all({
        url: Config.option(Config.Redacted(`${prefix}_URL`)),
        host: Config.option(Config.String(`${prefix}_HOST`)),
        port: Config.option(Config.Port(`${prefix}_PORT`)),
        user: Config.option(Config.String(`${prefix}_USER`)),
        password: Config.option(Config.Redacted(`${prefix}_PASSWORD`)),
        privateKey: Config.option(Config.Redacted(`${prefix}_PRIVATE_KEY`)),
        parameters: Config.all(
          Object.fromEntries(
            parameterNames.map((name) => [name, Config.option(Config.String(variableName(name, prefix)))])
          )
        )
      })
      const base = Option.match(found.url, {
        onNone: () => Result.succeed<UrlSettings>({ options: { host: "", user: "" }, files: {} }),
        onSome: parse
      })
      if (Result.isFailure(base)) return yield* invalid(`${prefix}_URL: ${base.failure}`)
      const overrides = {
        ...Option.match(found.host, { onNone: () => ({}), onSome: (host) => ({ host }) }),
        ...Option.match(found.port, { onNone: () => ({}), onSome: (port) => ({ port }) }),
        ...Option.match(found.user, { onNone: () => ({}), onSome: (user) => ({ user }) }),
        ...Option.match(found.password, { onNone: () => ({}), onSome: (password) => ({ password }) }),
        ...Option.match(found.privateKey, { onNone: () => ({}), onSome: (privateKey) => ({ privateKey }) })
      }
      const given = Object.entries(found.parameters).flatMap(([name, value]) =>
        Option.isSome(value) ? [[name, value.value] as const] : []
      )
      const applied = applyParameters({ ...base.success.options, ...overrides }, given, (name) =>
        variableName(name, prefix)
      )
      if (Result.isFailure(applied)) return yield* invalid(applied.failure)
      return yield* withFiles(
        { options: applied.success.options, files: { ...base.success.files, ...applied.success.files } },
        {}
      )
    })
  )
