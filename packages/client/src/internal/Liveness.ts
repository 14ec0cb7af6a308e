/**
 * Noticing a connection that the network dropped without a word. A firewall or NAT that forgets a
 * connection, a cable pulled, a VM paused: no FIN, no RST, so a read waits forever and a write into
 * full buffers never completes. A deadline on each wait (`readTimeout`) cannot tell such a silence
 * from a long statement, so instead, once a wait for the server has been silent for `after`, the
 * server is asked over a short-lived side connection what our connection is doing:
 *
 * - running a statement: the silence is the statement's; ask again after the same interval;
 * - idle (`Sleep`) while we wait for an answer: the request or its answer was lost; after a short
 *   grace for an answer still in flight, the connection is lost;
 * - unknown to the server: the connection is lost;
 * - the side connection cannot reach the server within `connectTimeout`: the connection is lost;
 * - the side connection fails otherwise (login refused, too many connections): nothing is known,
 *   keep waiting and ask again.
 *
 * Only waits for the server count: a stream whose consumer is slow to pull reads nothing and is
 * never judged. A write that does not complete counts too, but a server reporting the connection
 * idle during a write is not conclusive (the server shows `Sleep` while it reads a command).
 *
 * The wire marks each wait with `begin` and `end` (two field writes on the hot path); a
 * fiber per connection looks at the marks, so a command costs no timer and no extra fiber.
 */

import { Duration, Effect } from "effect"

/** What the server says of our connection. */
export type Verdict = "running" | "idle" | "gone" | "unreachable" | "inconclusive"

export interface LivenessPolicy {
  /** How long a wait may be silent before the server is asked, and how often after that. */
  readonly after: Duration.Duration
  /** Asks the server over a side connection; never fails. */
  readonly probe: Effect.Effect<Verdict>
  /** How long an answer may still be in flight once the server reports the connection idle. */
  readonly grace: Duration.Duration
  /** Declares the connection lost, saying why: the pending wait fails at once. */
  readonly lose: (message: string) => Effect.Effect<void>
  /** Whether the connection is still usable; watching ends once it is not. */
  readonly usable: () => boolean
}

export class Liveness {
  /** What the connection waits for now; undefined between waits. */
  private waiting: "read" | "write" | undefined
  /** When the current wait began, in epoch milliseconds. */
  private since = 0
  /** Counts waits begun and ended: unchanged over a probe means no byte moved meanwhile. */
  private generation = 0

  begin(direction: "read" | "write"): void {
    this.waiting = direction
    this.since = Date.now()
    this.generation++
  }

  end(): void {
    this.waiting = undefined
    this.generation++
  }

  /** Watches the waits until the connection is lost or the fiber is interrupted (scope closed). */
  watch(policy: LivenessPolicy): Effect.Effect<void> {
    const after = policy.after
    const afterMillis = Duration.toMillis(after)
    /** The next step once `generation`'s wait is due for a probe at `dueAt`. */
    const step = (checkedGeneration: number, dueAt: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (!policy.usable()) return Effect.void
        if (this.waiting === undefined) return Effect.andThen(Effect.sleep(after), step(-1, 0))
        const generation = this.generation
        const due = generation === checkedGeneration ? dueAt : this.since + afterMillis
        const now = Date.now()
        if (now < due) return Effect.andThen(Effect.sleep(due - now), step(generation, due))
        const direction = this.waiting
        return Effect.flatMap(policy.probe, (verdict) => {
          if (this.generation !== generation || !policy.usable()) return step(-1, 0)
          const lost = judge(verdict, direction, Date.now() - this.since)
          if (lost === undefined) return step(generation, Date.now() + afterMillis)
          if (verdict !== "idle") return policy.lose(lost)
          return Effect.andThen(
            Effect.sleep(policy.grace),
            Effect.suspend(() => (this.generation === generation ? policy.lose(lost) : step(-1, 0)))
          )
        })
      })
    return step(-1, 0)
  }
}

/** Why the connection is lost, by the server's verdict; undefined while it may still be alive. */
const judge = (verdict: Verdict, direction: "read" | "write", silentMillis: number): string | undefined => {
  const silence = `no ${direction === "read" ? "answer came" : "byte could be written"} for ${silentMillis} ms`
  switch (verdict) {
    case "gone":
      return `the connection was lost: ${silence}, and the server no longer knows the connection`
    case "unreachable":
      return `the connection was lost: ${silence}, and a second connection could not reach the server within connectTimeout`
    case "idle":
      return direction === "read"
        ? `the connection was lost: ${silence}, and the server reports the connection idle (the request or its answer was lost in the network)`
        : undefined
    case "running":
    case "inconclusive":
      return undefined
  }
}
