/**
 * Reads from a source that hands out bytes one promise at a time and cannot cancel a pending one
 * (Deno's `conn.read`, a web stream's reader). Nothing is read until the caller asks, so there is
 * no buffer to bound. A read abandoned by its deadline leaves its pull in flight, and the next read
 * takes that pull's result: starting a second pull would reorder bytes.
 */
import { Effect } from "effect"
import type { TlsError } from "../TlsError.ts"
import type { TransportError } from "../TransportError.ts"
import { closedByPeer } from "./IoError.ts"

export class PulledReads {
  private pending: Promise<Uint8Array | null> | undefined = undefined
  /** The next chunk, or `null` at the end of the stream. */
  private readonly pull: () => Promise<Uint8Array | null>
  private readonly failure: (error: unknown) => TransportError | TlsError

  constructor(pull: () => Promise<Uint8Array | null>, failure: (error: unknown) => TransportError | TlsError) {
    this.pull = pull
    this.failure = failure
  }

  readonly read: Effect.Effect<Uint8Array, TransportError | TlsError> = Effect.callback((resume) => {
    this.pending ??= this.pull()
    const pending = this.pending
    let waiting = true
    pending.then(
      (chunk) => {
        if (!waiting) return
        this.pending = undefined
        resume(chunk === null ? Effect.fail(closedByPeer()) : Effect.succeed(chunk))
      },
      (error) => {
        if (!waiting) return
        this.pending = undefined
        resume(Effect.fail(this.failure(error)))
      }
    )
    return Effect.sync(() => {
      waiting = false
    })
  })

  readonly inFlight = (): boolean => this.pending !== undefined
}
