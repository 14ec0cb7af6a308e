/**
 * One SSH session and the channels it carries. It runs ssh2 over a transport connection to the
 * SSH server; the host key is checked before ssh2 sends any credential; once the session dies,
 * every channel still open fails with the reason, so a query in flight gets a typed error rather
 * than a bare end of stream.
 */
import type { Duplex } from "node:stream"
import { Endpoint, type TimeoutError, type Transport, TransportError } from "@effect-mysql/transport"
import { Clock, Effect, Exit, Scope } from "effect"
import ssh2 from "ssh2"
import { SshError, type SshFailure } from "../SshError.ts"
import { ConnectionStream } from "./ConnectionStream.ts"
import type { Settings } from "./Settings.ts"

/** Why a host key was refused, as the check found it. */
export interface HostKeyRefusal {
  readonly reason: "host-key-unknown" | "host-key-mismatch"
  readonly message: string
  readonly fingerprint: string
}

type Ssh2Error = Error & { readonly level?: string; readonly reason?: number }

/** SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (RFC 4254, 5.1): PermitOpen or AllowTcpForwarding said no. */
const administrativelyProhibited = 1

export class Session {
  private alive = true
  /** Why the session ended, once something told. */
  private ending: SshError | undefined
  private readonly channels = new Set<Duplex>()
  private readonly client: ssh2.Client
  private readonly settings: Settings
  private readonly scope: Scope.Closeable

  private constructor(client: ssh2.Client, settings: Settings, scope: Scope.Closeable) {
    this.client = client
    this.settings = settings
    this.scope = scope
    client.on("error", (error: Ssh2Error) => {
      this.ending ??= classify(settings, error, undefined)
    })
    client.on("end", () => {
      this.alive = false
    })
    client.on("close", () => {
      this.alive = false
      const reason = this.ending ?? this.error("session-closed", "the SSH session ended")
      for (const channel of this.channels) channel.destroy(reason)
      Effect.runFork(Scope.close(scope, Exit.void))
    })
  }

  get isAlive(): boolean {
    return this.alive
  }

  /**
   * Opens a session to the SSH server through `transport`, ready to open channels, within the
   * settings' connect timeout (for the TCP connect, the key exchange and authentication together).
   */
  static open(
    transport: Transport["Service"],
    settings: Settings
  ): Effect.Effect<Session, SshError | TransportError | TimeoutError> {
    return Effect.gen(function* () {
      const scope = yield* Scope.make()
      const started = yield* Clock.currentTimeMillis
      const connection = yield* transport
        .connect(settings.server, { connectTimeout: settings.connectTimeout, keepAlive: {}, noDelay: true })
        .pipe(
          Scope.provide(scope),
          Effect.onError(() => Scope.close(scope, Exit.void))
        )
      const client = new ssh2.Client()
      const left = settings.connectMillis - ((yield* Clock.currentTimeMillis) - started)
      yield* handshake(client, new ConnectionStream(connection), settings, Math.max(1, left)).pipe(
        Effect.onError(() => Scope.close(scope, Exit.void))
      )
      return new Session(client, settings, scope)
    })
  }

  /** A channel to `endpoint` as the SSH server sees it (its loopback is the server's own). */
  channel(endpoint: Endpoint.Endpoint): Effect.Effect<Duplex, SshError> {
    return Effect.callback((resume) => {
      if (!this.alive) return resume(Effect.fail(this.ending ?? this.error("session-closed", "the SSH session ended")))
      let abandoned = false
      const opened = (error: Ssh2Error | undefined, stream: Duplex) => {
        if (error !== undefined) return resume(Effect.fail(this.channelError(endpoint, error)))
        if (abandoned) return stream.destroy()
        this.channels.add(stream)
        stream.once("close", () => this.channels.delete(stream))
        resume(Effect.succeed(stream))
      }
      try {
        if (endpoint._tag === "Unix") this.client.openssh_forwardOutStreamLocal(endpoint.path, opened)
        else this.client.forwardOut("127.0.0.1", 0, endpoint.host, endpoint.port, opened)
      } catch (error) {
        // ssh2 throws when the session is no longer writable.
        resume(Effect.fail(this.error("session-closed", `the SSH session ended: ${(error as Error).message}`)))
      }
      return Effect.sync(() => {
        abandoned = true
      })
    })
  }

  /**
   * A connection's failure with the session's reason, once the session has ended: above a channel,
   * node:tls reports the channel torn down by the session as a plain end of stream.
   */
  explain(error: TransportError): TransportError {
    if (this.alive || this.ending === undefined || error.cause === this.ending) return error
    return new TransportError({ reason: "io-error", message: this.ending.message, cause: this.ending })
  }

  /** Ends the session; its channels end with it. */
  readonly close: Effect.Effect<void> = Effect.suspend(() => {
    this.ending ??= this.error("session-closed", "the SSH tunnel was closed")
    this.client.end()
    return Scope.close(this.scope, Exit.void)
  })

  private channelError(endpoint: Endpoint.Endpoint, error: Ssh2Error): SshError {
    const target = Endpoint.format(endpoint)
    if (!this.alive) return this.ending ?? this.error("session-closed", "the SSH session ended")
    return this.error(
      "channel-refused",
      error.reason === administrativelyProhibited
        ? `the SSH server refused to forward to ${target} (its PermitOpen or AllowTcpForwarding settings): ${error.message}`
        : `the SSH server could not open a channel to ${target}: ${error.message}`,
      error
    )
  }

  private error(reason: SshFailure, message: string, cause?: unknown): SshError {
    return sshError(this.settings, reason, message, cause)
  }
}

const sshError = (settings: Settings, reason: SshFailure, message: string, cause?: unknown) =>
  new SshError({
    reason,
    message: `SSH server ${settings.label}: ${message}`,
    server: settings.label,
    ...(cause === undefined ? {} : { cause })
  })

/** What an ssh2 error means; a refused host key is known by our own check's verdict. */
const classify = (settings: Settings, error: Ssh2Error, refusal: HostKeyRefusal | undefined): SshError => {
  if (refusal !== undefined) {
    // The verdict's message names the server already.
    return new SshError({ ...refusal, server: settings.label })
  }
  switch (error.level) {
    case "client-authentication":
      return sshError(
        settings,
        "authentication-failed",
        `user ${settings.user} was not accepted with the credentials given (${settings.methods.join(", ")})`,
        error
      )
    case "client-timeout":
      return sshError(
        settings,
        "timeout",
        error.message === "Keepalive timeout"
          ? `no answer to ${settings.keepAlive.countMax + 1} keepalive requests, ${settings.keepAlive.intervalMillis} ms apart`
          : `the session was not ready within ${settings.connectMillis} ms`,
        error
      )
    default:
      return sshError(settings, "session-closed", `the SSH session failed: ${error.message}`, error)
  }
}

/** Runs the key exchange and authentication; resolves once ssh2 says the session is ready. */
const handshake = (client: ssh2.Client, socket: ConnectionStream, settings: Settings, timeoutMillis: number) =>
  Effect.callback<void, SshError>((resume) => {
    let refusal: HostKeyRefusal | undefined
    const done = () => {
      client.off("ready", onReady)
      client.off("error", onError)
      client.off("close", onClose)
    }
    const onReady = () => {
      done()
      resume(Effect.void)
    }
    const onError = (error: Ssh2Error) => {
      done()
      resume(Effect.fail(classify(settings, error, refusal)))
    }
    const onClose = () => {
      done()
      resume(Effect.fail(sshError(settings, "session-closed", "the server closed the connection during the handshake")))
    }
    client.on("ready", onReady)
    client.on("error", onError)
    client.on("close", onClose)
    // ssh2 reports errors on the client after the handshake too: they must always have a listener.
    client.on("error", () => {})
    const hostVerifier = (key: Buffer, verify: (accepted: boolean) => void) => {
      Effect.runCallback(settings.verifyHostKey(key), {
        onExit: (exit) => {
          refusal = Exit.isSuccess(exit) ? exit.value : undefined
          verify(Exit.isSuccess(exit) && exit.value === undefined)
        }
      })
    }
    try {
      client.connect({
        sock: socket,
        username: settings.user,
        ...settings.credentials,
        hostVerifier,
        keepaliveInterval: settings.keepAlive.intervalMillis,
        keepaliveCountMax: settings.keepAlive.countMax,
        // ssh2 takes 0 as no timeout, and a setTimeout longer than 2³¹−1 ms as 1 ms.
        readyTimeout: Number.isFinite(timeoutMillis) ? Math.min(timeoutMillis, 2 ** 31 - 1) : 0
      })
    } catch (error) {
      done()
      resume(Effect.fail(sshError(settings, "invalid-option", (error as Error).message, error)))
    }
    return Effect.sync(() => {
      done()
      client.end()
    })
  })
