/**
 * A host list: its entries as written (`h`, `h:3307`, `[::1]:3307`), and which host to try next.
 *
 * The state is plain data with no IO: the caller passes the clock's time and reports each
 * attempt's outcome.
 *
 * Hosts that are not backing off come first, in the list's order (`sequential`) or shuffled anew
 * for every connect (`random`, as libpq's `load_balance_hosts=random`). A host whose last attempt
 * failed backs off: 1 s after its first failure in a row, doubling with each further one, at most
 * 30 s. While it backs off it is still tried, but only after every other host, soonest-free first,
 * so a list whose hosts are all down still gets an answer from each. A success clears its backoff.
 */
import { Result } from "effect"

/** In which order a connect tries the hosts that are not backing off. */
export type HostOrder = "sequential" | "random"

export interface HostPort {
  readonly host: string
  readonly port?: number
}

export const isPort = (port: number) => Number.isInteger(port) && port > 0 && port < 65536

/**
 * `host`, `host:port`, `[ipv6]` or `[ipv6]:port`; an IPv6 address without brackets is taken whole,
 * with no port (its colons leave no other reading). The refusal says what is wrong, for a message.
 */
export const parseHost = (text: string): Result.Result<HostPort, string> => {
  const entry = text.trim()
  if (entry === "") return Result.fail("is empty: give a host name or address")
  const match = /^\[([^\]]+)\](?::(\d*))?$/.exec(entry) ?? /^([^:[\]]+)(?::(\d*))?$/.exec(entry)
  const host = match?.[1] ?? (entry.split(":").length > 2 && !/[[\]]/.test(entry) ? entry : undefined)
  if (host === undefined || /[\s/@,?#]/.test(host))
    return Result.fail(`${entry} is not a host, host:port or [ipv6]:port`)
  const portText = match?.[2]
  if (portText === undefined) return Result.succeed({ host })
  const port = Number(portText)
  if (portText === "" || !isPort(port)) return Result.fail(`${entry} has no TCP port (1–65535) after the colon`)
  return Result.succeed({ host, port })
}

export const firstBackoffMillis = 1_000
export const maxBackoffMillis = 30_000

/** The backoff after `failures` failures in a row (≥ 1). */
export const backoffMillis = (failures: number): number =>
  Math.min(firstBackoffMillis * 2 ** Math.min(failures - 1, 30), maxBackoffMillis)

interface Health {
  failures: number
  /** Until when (clock milliseconds) the host backs off. */
  until: number
}

export class HostList {
  private readonly health: ReadonlyArray<Health>
  private readonly hostOrder: HostOrder
  private readonly random: () => number

  /** `random` returns a number in [0, 1), as `Math.random`; tests give a seeded one. */
  constructor(count: number, hostOrder: HostOrder, random: () => number = Math.random) {
    this.health = Array.from({ length: count }, () => ({ failures: 0, until: 0 }))
    this.hostOrder = hostOrder
    this.random = random
  }

  /** The hosts' indexes in the order to try them at `now`. */
  order(now: number): ReadonlyArray<number> {
    const indexes = this.health.map((_, index) => index)
    const ready = indexes.filter((index) => this.health[index]!.until <= now)
    const waiting = indexes
      .filter((index) => this.health[index]!.until > now)
      .sort((a, b) => this.health[a]!.until - this.health[b]!.until)
    return [...(this.hostOrder === "random" ? this.shuffle(ready) : ready), ...waiting]
  }

  failed(index: number, now: number): void {
    const health = this.health[index]!
    health.failures++
    health.until = now + backoffMillis(health.failures)
  }

  succeeded(index: number): void {
    const health = this.health[index]!
    health.failures = 0
    health.until = 0
  }

  /** Fisher–Yates. */
  private shuffle(indexes: Array<number>): Array<number> {
    for (let i = indexes.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1))
      ;[indexes[i], indexes[j]] = [indexes[j]!, indexes[i]!]
    }
    return indexes
  }
}
