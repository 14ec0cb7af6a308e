import { Result } from "effect"

/**
 * Chunks received from a push-based source and not yet read, bounded by `limit` bytes: when the
 * limit is reached the source is told to stop (`onFull`), and told to go on (`onRoom`) once a
 * reader has taken it below half. A waiting reader is handed a chunk directly, without queueing.
 * After `end`, queued chunks are still read first, then every read gets the failure. The failure
 * is built only when a reader gets it: an orderly close that no one reads about costs no error
 * (with its stack trace) per connection.
 */
export class ReadBuffer<E> {
  private readonly chunks: Array<Uint8Array> = []
  private bytes = 0
  private full = false
  private ending: (() => E) | undefined = undefined
  private failure: E | undefined = undefined
  private waiter: ((result: Result.Result<Uint8Array, E>) => void) | undefined = undefined

  private readonly limit: number
  private readonly onFull: () => void
  private readonly onRoom: () => void

  constructor(limit: number, onFull: () => void, onRoom: () => void) {
    this.limit = limit
    this.onFull = onFull
    this.onRoom = onRoom
  }

  /** Bytes received and not yet read. */
  get size(): number {
    return this.bytes
  }

  get ended(): boolean {
    return this.ending !== undefined
  }

  private get endedWith(): E {
    this.failure ??= this.ending!()
    return this.failure
  }

  push(chunk: Uint8Array): void {
    if (this.ending !== undefined || chunk.length === 0) return
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter(Result.succeed(chunk))
      return
    }
    this.chunks.push(chunk)
    this.bytes += chunk.length
    if (!this.full && this.bytes >= this.limit) {
      this.full = true
      this.onFull()
    }
  }

  /** The first failure wins: a reset after an orderly end is not news. */
  end(failure: () => E): void {
    if (this.ending !== undefined) return
    this.ending = failure
    const waiter = this.waiter
    if (waiter !== undefined && this.chunks.length === 0) {
      this.waiter = undefined
      waiter(Result.fail(this.endedWith))
    }
  }

  /** A chunk or the failure, if either is there now. */
  poll(): Result.Result<Uint8Array, E> | undefined {
    const chunk = this.chunks.shift()
    if (chunk !== undefined) {
      this.bytes -= chunk.length
      if (this.full && this.bytes < this.limit / 2) {
        this.full = false
        this.onRoom()
      }
      return Result.succeed(chunk)
    }
    return this.ending === undefined ? undefined : Result.fail(this.endedWith)
  }

  /** Waits for the next chunk or the failure; one reader at a time. Returns the cancellation. */
  await(resume: (result: Result.Result<Uint8Array, E>) => void): () => void {
    this.waiter = resume
    return () => {
      if (this.waiter === resume) this.waiter = undefined
    }
  }
}
