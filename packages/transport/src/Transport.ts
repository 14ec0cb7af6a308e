/**
 * The `Transport` service: byte connections for a MySQL client. A connection starts in plaintext
 * over TCP or a Unix socket and can be upgraded to TLS in place, as the protocol's SSL Request
 * demands. Reads are pulled by the caller from a bounded buffer (the socket is paused while it is
 * full), writes wait for the socket's own backpressure, and every operation has a deadline.
 *
 * The service is provided per runtime by `@effect-mysql/transport/node`, `/deno` or `/bun`.
 */
import { Context, type DateTime, type Duration, type Effect, type Scope } from "effect"
import type { Endpoint } from "./Endpoint.ts"
import type { SslConfigError } from "./SslConfigError.ts"
import type { TlsSettings, Verification } from "./SslPolicy.ts"
import type { TimeoutError } from "./TimeoutError.ts"
import type { TlsError } from "./TlsError.ts"
import type { TransportError } from "./TransportError.ts"

export interface ConnectOptions {
  /**
   * Budget for DNS, TCP connect and the TLS handshake together (default 10 seconds, as the MySQL
   * client's connect_timeout): `upgradeTls` gets whatever `connect` left of it. An infinite
   * duration means no budget; one beyond 2³¹−1 ms (24.8 days) is capped there.
   */
  readonly connectTimeout?: Duration.Input | undefined
  /**
   * TCP keepalive; `false` turns it off. The initial delay is how long the connection may be idle
   * before the first probe (default 60 seconds; 1 to 32767 seconds). `{}` keeps the operating
   * system's delay. Deno cannot set the delay: there a given `initialDelay` is refused.
   */
  readonly keepAlive?: false | { readonly initialDelay?: Duration.Input } | undefined
  /**
   * Low-latency mode (default off): after a write, a read that finds no bytes yet keeps the event
   * loop polling the socket, without sleeping, for up to this long (at most 10 ms, e.g.
   * `"200 micros"`; zero is off), then waits asleep as usual. It saves the kernel's wake-up on each round trip
   * at the price of a busy core while a reply is due (see docs/performance.md). Deno cannot poll
   * this way: there the option is refused.
   */
  readonly busyPoll?: Duration.Input | undefined
  /** Disable Nagle's algorithm (default true: the protocol is request/response). */
  readonly noDelay?: boolean | undefined
  /** Bytes received but not yet read before the socket is paused (default 256 KiB). */
  readonly readBufferSize?: number | undefined
  /** Default deadline of each `read` (default none). Missing it leaves the connection open. */
  readonly readTimeout?: Duration.Input | undefined
  /**
   * Default deadline of each `write`, reached when the peer stops reading (default none). A write
   * that misses its deadline fails with `TimeoutError` and aborts the connection: part of it may
   * already be on the wire.
   */
  readonly writeTimeout?: Duration.Input | undefined
}

export interface OperationOptions {
  /** Overrides the connection's default deadline for this one operation (undefined keeps it). */
  readonly timeout?: Duration.Input | undefined
}

export interface PeerCertificate {
  /** Distinguished name, e.g. `CN=db.example.com, O=Example`. */
  readonly subject: string
  readonly issuer: string
  readonly validFrom: DateTime.Utc
  readonly validTo: DateTime.Utc
  /** SHA-256 of the DER certificate, upper-case hex with colons (the form `openssl x509 -fingerprint -sha256` prints). */
  readonly fingerprint256: string
}

export interface TlsInfo {
  /** `TLSv1.3`, `TLSv1.2`, or undefined where the runtime does not reveal it. */
  readonly version: string | undefined
  /** Negotiated cipher in the runtime's naming, or undefined where it does not reveal it. */
  readonly cipher: string | undefined
  readonly peerCertificate: PeerCertificate | undefined
  readonly verification: Verification
  /** Which TLS implementation carried the connection, e.g. `node:tls` or `Deno.startTls`. */
  readonly implementation: string
  /**
   * The handshake resumed the session of an earlier connection (see docs/tls.md): the server's
   * certificate was not sent again, and the checks were made on the one that connection verified.
   * Undefined where the runtime does not reveal it (Workers).
   */
  readonly sessionReused: boolean | undefined
}

export interface ConnectionInfo {
  readonly endpoint: Endpoint
  readonly localAddress: string | undefined
  readonly localPort: number | undefined
  readonly remoteAddress: string | undefined
  readonly remotePort: number | undefined
  /** Set once `upgradeTls` has succeeded. */
  readonly tls: TlsInfo | undefined
}

export interface Connection {
  /**
   * The next bytes received, as soon as there are any. Fails with `TransportError` reason
   * `closed-by-peer` at end of stream and with `TlsError` when the peer ends TLS with an alert
   * (TLS 1.3 servers reject a client certificate only after the handshake).
   */
  readonly read: (options?: OperationOptions) => Effect.Effect<Uint8Array, TransportError | TlsError | TimeoutError>
  /**
   * Sends bytes, completing once the socket has taken them without exceeding its buffer. The bytes
   * must not be changed afterwards: they may still be queued.
   */
  readonly write: (bytes: Uint8Array, options?: OperationOptions) => Effect.Effect<void, TransportError | TimeoutError>
  /**
   * Starts TLS on this same connection (after the SSL Request has been written), verifying the
   * server as `settings` say. Fails if plaintext bytes arrived that nobody read: a server, or a
   * man in the middle, that talks before the handshake must not have its bytes taken as encrypted.
   * Fails with `SslConfigError`, before the handshake, when `settings` ask for something this
   * runtime's TLS stack would ignore (see docs/tls.md).
   */
  readonly upgradeTls: (
    settings: TlsSettings,
    options?: OperationOptions
  ) => Effect.Effect<TlsInfo, TlsError | TransportError | TimeoutError | SslConfigError>
  readonly info: Effect.Effect<ConnectionInfo>
  /** Closes the connection, flushing what was written; the scope does it too. */
  readonly close: Effect.Effect<void>
  /**
   * Drops the connection at once, with whatever was not yet sent: for a connection whose state is
   * no longer known, where flushing could wait on a peer that stopped reading.
   */
  readonly abort: Effect.Effect<void>
}

const TransportBase: Context.ServiceClass<
  Transport,
  "@effect-mysql/transport/Transport",
  {
    readonly connect: (
      endpoint: Endpoint,
      options?: ConnectOptions
    ) => Effect.Effect<Connection, TransportError | TimeoutError, Scope.Scope>
  }
> = Context.Service<Transport, Transport["Service"]>()("@effect-mysql/transport/Transport")

export class Transport extends TransportBase {}
