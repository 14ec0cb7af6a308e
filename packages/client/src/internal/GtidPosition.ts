/**
 * A replication position as read-your-writes needs it: for each replication stream, the highest
 * transaction number written through the client.
 *
 * MariaDB names a transaction `domain-server-sequence` and orders transactions by sequence within
 * a domain (the server id changes when another primary takes over the domain); MySQL names it
 * `source_uuid:number` (8.4: `source_uuid:tag:number`) and orders by number within a source. So a
 * GTID is a stream key (the domain, or the source with its tag) and a number, and a position keeps
 * the highest number per key, with the GTID text that carries it: the text a replica is asked to
 * wait for (`MASTER_GTID_WAIT`, `WAIT_FOR_EXECUTED_GTID_SET`).
 */

export type GtidFlavor = "mysql" | "mariadb"

interface Entry {
  readonly sequence: bigint
  readonly gtid: string
}

/** One GTID split into its stream and number; undefined when the text is no GTID of `flavor`. */
const parse = (flavor: GtidFlavor, text: string): { readonly key: string; readonly entry: Entry } | undefined => {
  const gtid = text.trim()
  const match = flavor === "mariadb" ? /^(\d+)-\d+-(\d+)$/.exec(gtid) : /^(.+):(\d+)$/.exec(gtid)
  if (match === null) return undefined
  return { key: match[1]!.toLowerCase(), entry: { sequence: BigInt(match[2]!), gtid } }
}

const uuid = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i
const tag = /^[a-z_][a-z0-9_]{0,31}$/i
const interval = /^(\d+)(?:-(\d+))?$/

/**
 * The highest number of each stream in one MySQL GTID set: `uuid:interval[:interval]…`, where a
 * tag (8.4) starts the intervals of its own stream: `uuid:1-5:tag:1-3:7-9` holds `uuid:5` and
 * `uuid:tag:9`. A set that does not parse gives nothing.
 */
const highestOfSet = (set: string): ReadonlyArray<string> => {
  const [source = "", ...parts] = set.trim().split(":")
  if (!uuid.test(source)) return []
  const highest = new Map<string, bigint>()
  let stream = source
  for (const part of parts) {
    const range = interval.exec(part)
    if (range === null) {
      if (!tag.test(part)) return []
      stream = `${source}:${part.toLowerCase()}`
      continue
    }
    const last = BigInt(range[2] ?? range[1]!)
    if (last > (highest.get(stream) ?? -1n)) highest.set(stream, last)
  }
  return Array.from(highest, ([key, last]) => `${key}:${last}`)
}

/**
 * The GTIDs one transaction reported: MariaDB's `last_gtid` is one GTID; MySQL's own GTIDs come as
 * a set (`uuid:5`, or `uuid:3-5` for several), of which the highest number per stream counts.
 */
const gtidsOf = (flavor: GtidFlavor, text: string): ReadonlyArray<string> =>
  flavor === "mariadb" ? text.split(",") : text.split(",").flatMap(highestOfSet)

export class GtidPosition {
  readonly flavor: GtidFlavor
  private readonly entries = new Map<string, Entry>()

  constructor(flavor: GtidFlavor) {
    this.flavor = flavor
  }

  /** Takes in what a transaction reported; answers whether the position moved. */
  add(reported: string): boolean {
    let moved = false
    for (const text of gtidsOf(this.flavor, reported)) {
      const parsed = parse(this.flavor, text)
      if (parsed === undefined) continue
      const known = this.entries.get(parsed.key)
      if (known !== undefined && known.sequence >= parsed.entry.sequence) continue
      this.entries.set(parsed.key, parsed.entry)
      moved = true
    }
    return moved
  }

  get isEmpty(): boolean {
    return this.entries.size === 0
  }

  /** Whether every stream of `this` is at or behind `other`. */
  coveredBy(other: GtidPosition): boolean {
    for (const [key, entry] of this.entries) {
      const theirs = other.entries.get(key)
      if (theirs === undefined || theirs.sequence < entry.sequence) return false
    }
    return true
  }

  /** A copy, for a replica to record what it was seen to apply. */
  snapshot(): GtidPosition {
    const copy = new GtidPosition(this.flavor)
    for (const [key, entry] of this.entries) copy.entries.set(key, entry)
    return copy
  }

  /** The text a replica waits for: one GTID per stream, comma-separated. */
  toString(): string {
    return Array.from(this.entries.values(), (entry) => entry.gtid).join(",")
  }
}
