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

import { type TimeoutError, Transport, TransportError } from "@effect-mysql/transport"
import { DuplexConnection } from "@effect-mysql/transport/duplex"
import { type Duration, Effect, Layer, type Redacted, Semaphore } from "effect"
import { Session } from "./internal/Session.ts"
import { resolve, type Settings } from "./internal/Settings.ts"
import type { SshError } from "./SshError.ts"

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

const makeTransport = Effect.fnUntraced(function* (settings: Settings) {
  const below = yield* Transport
  const permit = yield* Semaphore.make(1)
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
        const stream = yield* current.pipe(
          Effect.flatMap((session) => session.channel(endpoint)),
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
        return yield* DuplexConnection.make(stream, endpoint, options)
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
  Layer.effect(Transport, Effect.flatMap(Effect.fromResult(resolve(options)), makeTransport))
