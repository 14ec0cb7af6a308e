import type { Effect } from "effect"
import type { TlsError } from "../TlsError.ts"
import type { TransportError } from "../TransportError.ts"

/**
 * One layer of bytes under a connection: the plaintext socket, then the TLS session on top of it.
 * A connection swaps its channel when it upgrades; deadlines and the closed state live above.
 */
export interface Channel {
  readonly read: Effect.Effect<Uint8Array, TransportError | TlsError>
  readonly write: (bytes: Uint8Array) => Effect.Effect<void, TransportError>
  /** Bytes received and not yet read. */
  readonly buffered: () => number
  /** A read is still in flight below us (a read abandoned by its deadline on a pull-based socket). */
  readonly readInFlight: () => boolean
  readonly addresses: () => Addresses
  readonly close: Effect.Effect<void>
  /** Releases the socket now, without flushing. */
  readonly abort: Effect.Effect<void>
}

export interface Addresses {
  readonly localAddress: string | undefined
  readonly localPort: number | undefined
  readonly remoteAddress: string | undefined
  readonly remotePort: number | undefined
}
