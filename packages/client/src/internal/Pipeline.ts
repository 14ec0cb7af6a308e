/**
 * Pipelining: a command may be written while the answers to earlier ones are still coming, and its
 * own answer is read once theirs have been. The server reads one command at a time from the socket
 * and answers each in full before reading the next, so answers arrive in the order the commands
 * were written, each starting again at its own sequence id.
 *
 * Each command written this way takes a `Turn`; the turns form a queue, and a command reads its
 * answer when its turn comes, in its own fiber (no reader fiber and no hand-off when nothing is
 * queued: the first turn needs no waiting). A command that must be alone on the connection (a
 * stream, a prepare, LOCAL INFILE, a change of session) waits until `drained`.
 */
import { Effect } from "effect"

/** One command's place in the queue of answers. */
export interface Turn {
  /** The sequence id its answer starts with. */
  readonly answerSequenceId: number
  /** Its answer has been read (or will never be). */
  done: boolean
  /** Resumes the command waiting for it, once `done`. */
  waiter: (() => void) | undefined
}

export class Pipeline {
  /** The turn of the last command written; undefined when every answer has been read. */
  private tail: Turn | undefined

  /** A new turn, after every command written so far. */
  enter(answerSequenceId: number): { readonly turn: Turn; readonly after: Turn | undefined } {
    const after = this.tail
    const turn: Turn = { answerSequenceId, done: false, waiter: undefined }
    this.tail = turn
    return { turn, after: after?.done === false ? after : undefined }
  }

  /** Whether answers are still to be read after `turn`'s (so a KILL could reach a later statement). */
  hasLater(turn: Turn): boolean {
    return this.tail !== turn
  }

  /** Marks `turn` read and lets the next command read its answer. */
  leave(turn: Turn): void {
    turn.done = true
    const waiter = turn.waiter
    turn.waiter = undefined
    waiter?.()
    if (this.tail === turn) this.tail = undefined
  }

  /** Waits until `turn` is done. Turns end in order, so each earlier one is done too. */
  static wait(turn: Turn | undefined): Effect.Effect<void> {
    if (turn === undefined) return Effect.void
    // One waiter per turn: the command written next, or, for the last turn, the one command that
    // holds the connection's lock to wait for `drained`. A resumed command goes on in the stack of
    // the one that left, and its answer is often read already: without a yield, a queue of a
    // thousand answers nests a thousand reads, past the stack's end.
    return Effect.callback<void>((resume) => {
      if (turn.done) return resume(Effect.void)
      const waiter = () => resume(Effect.yieldNow)
      turn.waiter = waiter
      // An interrupted wait (a `drained` given up) leaves no callback behind.
      return Effect.sync(() => {
        if (turn.waiter === waiter) turn.waiter = undefined
      })
    })
  }

  /** Completes once every answer written so far has been read. */
  readonly drained: Effect.Effect<void> = Effect.suspend(() => Pipeline.wait(this.tail))

  /** Whether no answer is awaited. */
  get idle(): boolean {
    return this.tail === undefined
  }
}
