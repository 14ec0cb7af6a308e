/**
 * The GTIDs applied so far, as a stream resumes from them: MariaDB's GTID position (the last GTID
 * of each replication domain) or MySQL's GTID set (intervals of sequence numbers per source UUID).
 * It starts from what the stream was told or asked the server, and follows each transaction's GTID.
 */
import { Binlog } from "@effect-mysql/protocol"

export class GtidState {
  /** MariaDB: the last GTID per domain. */
  private readonly domains = new Map<number, Binlog.MariadbGtid>()
  /** MySQL: per source, sorted disjoint intervals (ends exclusive). */
  private readonly sources = new Map<string, Array<{ start: bigint; end: bigint }>>()
  /** Whether the state is known: false while a stream started at a file position has seen no GTID list. */
  private known: boolean

  constructor(known: boolean) {
    this.known = known
  }

  /** MariaDB's GTID of a transaction, now the last of its domain. */
  mariadb(domainId: number, serverId: number, sequence: bigint): string {
    const gtid = { domainId, serverId, sequence }
    this.domains.set(domainId, gtid)
    return Binlog.formatMariadbGtid(gtid)
  }

  /** MySQL's GTID of a transaction, now part of the set. */
  mysql(uuid: string, sequence: bigint): string {
    this.add(uuid, sequence, sequence + 1n)
    return `${uuid}:${sequence}`
  }

  /** A GTID list (MariaDB, at the start of each binlog file): the whole state at that point, unless already known. */
  seedMariadb(gtids: ReadonlyArray<Binlog.MariadbGtid>): void {
    if (this.known && this.domains.size > 0) return
    for (const gtid of gtids) this.domains.set(gtid.domainId, gtid)
    this.known = true
  }

  /** PREVIOUS_GTIDS (MySQL, at the start of each binlog file): the whole set before it, unless already known. */
  seedMysql(set: Binlog.MysqlGtidSet): void {
    if (this.known && this.sources.size > 0) return
    for (const { uuid, intervals } of set) for (const i of intervals) this.add(uuid, i.start, i.end)
    this.known = true
  }

  /** The state as text, what `from: { gtid }` takes; undefined while it is not known. */
  text(): string | undefined {
    if (!this.known) return undefined
    if (this.domains.size > 0) return Binlog.formatMariadbGtidList([...this.domains.values()])
    if (this.sources.size === 0) return undefined
    return Binlog.formatMysqlGtidSet([...this.sources].map(([uuid, intervals]) => ({ uuid, intervals })))
  }

  private add(uuid: string, start: bigint, end: bigint): void {
    const intervals = this.sources.get(uuid) ?? []
    this.sources.set(uuid, intervals)
    // Transactions of one source usually follow each other: the last interval grows.
    const last = intervals.at(-1)
    if (last !== undefined && last.end === start) {
      last.end = end
      return
    }
    intervals.push({ start, end })
    intervals.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
    let w = 0
    for (let r = 1; r < intervals.length; r++) {
      if (intervals[r].start <= intervals[w].end) {
        if (intervals[r].end > intervals[w].end) intervals[w].end = intervals[r].end
      } else intervals[++w] = intervals[r]
    }
    intervals.length = w + 1
  }
}
