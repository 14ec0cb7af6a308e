/**
 * Global transaction identifiers as text and bytes, both flavors.
 *
 * MariaDB: a GTID is `domain-server-sequence` (`0-1-42`); a position is a list of them, one per
 * domain, joined by commas (`0-1-42,1-2-7`), as in `@@gtid_slave_pos` and `SET @slave_connect_state`.
 * https://mariadb.com/kb/en/gtid/
 *
 * MySQL: a GTID set is `uuid:interval[:interval…]` per source, joined by commas, each interval
 * `n` or `first-last` (inclusive): `3e11fa47-71ca-11e1-9e33-c80aa9429562:1-42:50`. In PREVIOUS_GTIDS
 * and COM_BINLOG_DUMP_GTID the same set travels as
 *
 * ```
 * int<8> n_sids
 * per sid:   string[16] uuid, int<8> n_intervals
 *   per interval: int<8> start, int<8> end   // end exclusive
 * ```
 *
 * https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_binlog_dump_gtid.html
 * https://dev.mysql.com/doc/refman/8.4/en/replication-gtids-concepts.html
 * Tagged GTIDs (MySQL 8.3+, `uuid:tag:1-5`) are not supported here.
 *
 * Pure code: `Uint8Array` and plain data only.
 *
 * @module
 */
import { Result } from "effect"
import { toProtocolError } from "../Packet.ts"
import { encodeError, type ProtocolError } from "../ProtocolError.ts"
import { Reader, WireError, Writer } from "../Wire.ts"
import type { GtidInterval, MariadbGtid } from "./BinlogEvent.ts"

// ---------------------------------------------------------------------------------------------
// MariaDB
// ---------------------------------------------------------------------------------------------

const UINT32_MAX = 0xffffffff
const UINT64_MAX = (1n << 64n) - 1n
const MARIADB_GTID = /^(\d{1,10})-(\d{1,10})-(\d{1,20})$/

const textError = (what: string, detail: string): ProtocolError => encodeError(what, detail)

/** Parses `domain-server-sequence`. */
export const parseMariadbGtid = (text: string): Result.Result<MariadbGtid, ProtocolError> => {
  const m = MARIADB_GTID.exec(text.trim())
  if (m === null) return Result.fail(textError("MariaDB GTID", `"${text}" is not domain-server-sequence`))
  const domainId = Number(m[1])
  const serverId = Number(m[2])
  const sequence = BigInt(m[3])
  if (domainId > UINT32_MAX || serverId > UINT32_MAX || sequence > UINT64_MAX) {
    return Result.fail(textError("MariaDB GTID", `"${text}": a part is out of range`))
  }
  return Result.succeed({ domainId, serverId, sequence })
}

/** `domain-server-sequence`. */
export const formatMariadbGtid = (gtid: MariadbGtid): string => `${gtid.domainId}-${gtid.serverId}-${gtid.sequence}`

/** Parses a comma-separated GTID list (`""` is the empty list). */
export const parseMariadbGtidList = (text: string): Result.Result<ReadonlyArray<MariadbGtid>, ProtocolError> => {
  if (text.trim() === "") return Result.succeed([])
  const gtids: Array<MariadbGtid> = []
  for (const part of text.split(",")) {
    const parsed = parseMariadbGtid(part)
    if (Result.isFailure(parsed)) return Result.fail(parsed.failure)
    gtids.push(parsed.success)
  }
  return Result.succeed(gtids)
}

/** The GTIDs joined by commas. */
export const formatMariadbGtidList = (gtids: ReadonlyArray<MariadbGtid>): string =>
  gtids.map(formatMariadbGtid).join(",")

// ---------------------------------------------------------------------------------------------
// MySQL
// ---------------------------------------------------------------------------------------------

/** The transactions of one source: its UUID (lower case with dashes) and intervals, ends exclusive. */
export interface MysqlGtidSetEntry {
  readonly uuid: string
  readonly intervals: ReadonlyArray<GtidInterval>
}

export type MysqlGtidSet = ReadonlyArray<MysqlGtidSetEntry>

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/
const INTERVAL = /^(\d{1,20})(?:-(\d{1,20}))?$/

/** `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` from 32 hex digits. */
const dashed = (hex: string): string =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`

/** Sorted, overlapping and adjacent intervals merged, as MySQL keeps a set. */
const normalize = (intervals: ReadonlyArray<GtidInterval>): ReadonlyArray<GtidInterval> => {
  const sorted = [...intervals].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
  const out: Array<GtidInterval> = []
  for (const i of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && i.start <= last.end) {
      if (i.end > last.end) out[out.length - 1] = { start: last.start, end: i.end }
    } else out.push(i)
  }
  return out
}

/**
 * Parses a MySQL GTID set. UUIDs may be upper case or without dashes; one source named twice is
 * merged; intervals are sorted and merged. `""` is the empty set.
 */
export const parseMysqlGtidSet = (text: string): Result.Result<MysqlGtidSet, ProtocolError> => {
  const bySource = new Map<string, Array<GtidInterval>>()
  for (const raw of text.split(",")) {
    const part = raw.trim()
    if (part === "") continue
    const [source, ...ranges] = part.split(":")
    const uuid = source.trim().toLowerCase()
    if (!UUID.test(uuid)) return Result.fail(textError("MySQL GTID set", `"${source}" is not a UUID`))
    if (ranges.length === 0) return Result.fail(textError("MySQL GTID set", `"${part}" has no interval`))
    const key = dashed(uuid.replaceAll("-", ""))
    const intervals = bySource.get(key) ?? []
    for (const range of ranges) {
      const m = INTERVAL.exec(range.trim())
      if (m === null) return Result.fail(textError("MySQL GTID set", `"${range}" is not n or first-last`))
      const start = BigInt(m[1])
      const last = m[2] === undefined ? start : BigInt(m[2])
      if (start < 1n || last < start || last >= 1n << 63n) {
        return Result.fail(textError("MySQL GTID set", `"${range}": intervals run from 1 up, first before last`))
      }
      intervals.push({ start, end: last + 1n })
    }
    bySource.set(key, intervals)
  }
  return Result.succeed([...bySource].map(([uuid, intervals]) => ({ uuid, intervals: normalize(intervals) })))
}

/** `uuid:1-42:50,uuid2:1-3`; intervals print inclusive, a one-transaction interval as `n`. */
export const formatMysqlGtidSet = (set: MysqlGtidSet): string =>
  set
    .map(
      (e) =>
        `${e.uuid}${e.intervals.map((i) => (i.end - i.start === 1n ? `:${i.start}` : `:${i.start}-${i.end - 1n}`)).join("")}`
    )
    .join(",")

/** Reads a 16-byte UUID as lower-case text with dashes (throws `WireError`). */
export const unsafeReadUuid = (r: Reader): string => {
  const b = r.fixedBytes(16)
  let hex = ""
  for (let i = 0; i < 16; i++) hex += (b[i] < 16 ? "0" : "") + b[i].toString(16)
  return dashed(hex)
}

/** Writes a UUID given as text (throws `WireError`). */
export const unsafeWriteUuid = (w: Writer, uuid: string): void => {
  const hex = uuid.toLowerCase().replaceAll("-", "")
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new WireError(`"${uuid}" is not a UUID`, w.pos, "uuid")
  for (let i = 0; i < 32; i += 2) w.int1(Number.parseInt(hex.slice(i, i + 2), 16))
}

/** Reads the binary form of a GTID set (throws `WireError`); counts are bounded by the bytes left. */
export const unsafeReadMysqlGtidSet = (r: Reader): MysqlGtidSet => {
  const sids = r.int8()
  // Each source takes at least 24 bytes: a count beyond what is left is malformed, not a loop bound.
  if (sids > BigInt(Math.floor(r.remaining() / 24)))
    throw new WireError(`${sids} sources do not fit`, r.pos - 8, "n_sids")
  const set: Array<MysqlGtidSetEntry> = []
  for (let s = Number(sids); s > 0; s--) {
    const uuid = unsafeReadUuid(r)
    const n = r.int8()
    if (n > BigInt(Math.floor(r.remaining() / 16)))
      throw new WireError(`${n} intervals do not fit`, r.pos - 8, "n_intervals")
    const intervals: Array<GtidInterval> = []
    for (let i = Number(n); i > 0; i--) intervals.push({ start: r.int8(), end: r.int8() })
    set.push({ uuid, intervals })
  }
  return set
}

/** Writes the binary form of a GTID set (throws `WireError`). */
export const unsafeWriteMysqlGtidSet = (w: Writer, set: MysqlGtidSet): void => {
  w.int8(set.length)
  for (const entry of set) {
    unsafeWriteUuid(w, entry.uuid)
    w.int8(entry.intervals.length)
    for (const i of entry.intervals) w.int8(i.start).int8(i.end)
  }
}

/** The binary form, for the `gtidData` of COM_BINLOG_DUMP_GTID. */
export const encodeMysqlGtidSet = (set: MysqlGtidSet): Result.Result<Uint8Array, ProtocolError> => {
  const w = new Writer(8 + set.length * 40)
  try {
    unsafeWriteMysqlGtidSet(w, set)
    return Result.succeed(w.finish())
  } catch (e) {
    return Result.fail(toProtocolError("MySQL GTID set", e, true))
  }
}

/** Reads the binary form (all of `bytes`). */
export const decodeMysqlGtidSet = (bytes: Uint8Array): Result.Result<MysqlGtidSet, ProtocolError> => {
  try {
    const r = new Reader(bytes)
    const set = unsafeReadMysqlGtidSet(r)
    r.expectEnd()
    return Result.succeed(set)
  } catch (e) {
    return Result.fail(toProtocolError("MySQL GTID set", e))
  }
}
