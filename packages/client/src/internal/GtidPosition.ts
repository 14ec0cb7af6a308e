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

/**
 * The GTIDs one transaction reported: MariaDB's `last_gtid` is one GTID; MySQL's own GTIDs come as
 * a set (`uuid:5`, or `uuid:3-5` for several), of which the highest number per source counts.
 */
const gtidsOf = (flavor: GtidFlavor, text: string): ReadonlyArray<string> => {
  if (flavor === "mariadb") return text.split(",")
  return text.split(",").flatMap((part) => {
    const [source, ...ranges] = part.trim().split(":")
    const last = ranges.at(-1)?.split("-").at(-1)
    if (source === undefined || last === undefined) return []
    // A tagged set (`uuid:tag:1-5`) keeps its tag in the stream key.
    const tag = ranges.length > 1 && /^[a-z_]/i.test(ranges[0]!) ? `:${ranges[0]}` : ""
    return [`${source}${tag}:${last}`]
  })
}

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
