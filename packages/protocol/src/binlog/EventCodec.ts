/**
 * Binlog events, both directions, both flavors: `decodeEvent` turns one whole event (header, body,
 * checksum) into a `BinlogEvent`, `encodeEvent` writes one back, byte for byte.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
 * MariaDB: https://mariadb.com/kb/en/replication-protocol/ (and the pages of each event linked there)
 *
 * How the events after a FORMAT_DESCRIPTION are laid out depends on it (`BinlogFormat`): pass the
 * format of the last FORMAT_DESCRIPTION seen (`initialFormat` before the first). A FORMAT_DESCRIPTION
 * itself is read without the previous format: it says whether it ends with a checksum.
 *
 * Decoding is one switch over the type byte and one reused `Reader`: nothing is allocated per event
 * but the event itself. `rows`, `body`, `payload` and the other byte fields are views into the
 * bytes given (not copies): copy them before reusing the buffer. A FORMAT_DESCRIPTION's
 * `postHeaderLengths` is the exception (a copy), since it outlives the event as the next format.
 *
 * Texts (names, queries) are decoded as UTF-8. Events this module does not decode become `Other`.
 * Nothing here inflates: QUERY_COMPRESSED keeps its query in `compressedQuery` and the compressed
 * rows events their images in `rows`, both as MariaDB compressed blocks (`CompressedBlock.ts`);
 * TRANSACTION_PAYLOAD keeps its zstd frame in `payload`.
 *
 * Re-encoding reproduces the bytes a server wrote, except for what the event shapes do not keep:
 * MySQL GTID fields after the logical clock, COLUMN_VISIBILITY and primary-key prefixes of table
 * maps (written back as SIMPLE_PRIMARY_KEY), MariaDB GTID extra flags newer than 10.11, and a
 * FORMAT_DESCRIPTION's checksum algorithm 255 ("undefined", read as none, written as 0).
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Result } from "effect"
import { toProtocolError } from "../Packet.ts"
import { type ProtocolError, protocolError } from "../ProtocolError.ts"
import { decodeUtf8, encodeUtf8, Reader, readInt2, readInt4, WireError, Writer } from "../Wire.ts"
import {
  type BinlogEvent,
  type BinlogFormat,
  EVENT_HEADER_LENGTH,
  type EventHeader,
  EventType,
  type FormatDescriptionEvent,
  type MariadbGtidEvent,
  type QueryEvent,
  type RowsEvent,
  type TableMapEvent,
  type TransactionPayloadEvent
} from "./BinlogEvent.ts"
import { crc32 } from "./Checksum.ts"
import { PayloadCompression } from "./CompressedBlock.ts"
import { unsafeReadMysqlGtidSet, unsafeReadUuid, unsafeWriteMysqlGtidSet, unsafeWriteUuid } from "./Gtid.ts"
import { unsafeReadTableMap, unsafeWriteTableMap } from "./TableMap.ts"

const CHECKSUM_LENGTH = 4
const SERVER_VERSION_LENGTH = 50

/** Checksum algorithm byte of a FORMAT_DESCRIPTION (`enum_binlog_checksum_alg`). */
const ChecksumAlgorithm = { OFF: 0, CRC32: 1, UNDEF: 255 } as const

/** MariaDB GTID flags (`Gtid_log_event`). */
const MariadbGtidFlag = { STANDALONE: 1, GROUP_COMMIT_ID: 2, PREPARED_XA: 64, COMPLETED_XA: 128 } as const
/** MariaDB GTID `flags_extra`. */
const MariadbGtidExtra = { MULTI_ENGINE: 1, COMMIT_ALTER: 4, ROLLBACK_ALTER: 8 } as const
/** A MariaDB GTID body is zero-padded to this length (GTID_HEADER_LEN). */
const MARIADB_GTID_LENGTH = 19

/** MySQL GTID_LOG logical clock type code (`LOGICAL_TIMESTAMP_TYPECODE`). */
const LOGICAL_TIMESTAMP = 2

/** On-the-wire fields of TRANSACTION_PAYLOAD and HEARTBEAT_V2 (`binary_log::codecs::binary`). */
const PayloadField = { END: 0, SIZE: 1, COMPRESSION: 2, UNCOMPRESSED_SIZE: 3 } as const
const HeartbeatField = { END: 0, FILE: 1, POSITION: 2 } as const

// ---------------------------------------------------------------------------------------------
// Format
// ---------------------------------------------------------------------------------------------

/** Post-header lengths of binlog v4 by event type (MariaDB 10.11's and MySQL 8's, which agree). */
const defaultPostHeaderLengths = ((): Uint8Array => {
  const t = new Uint8Array(EventType.DELETE_ROWS_COMPRESSED)
  const set = (type: number, length: number) => {
    t[type - 1] = length
  }
  set(EventType.START_V3, 56)
  set(EventType.QUERY, 13)
  set(EventType.ROTATE, 8)
  set(EventType.FORMAT_DESCRIPTION, 84)
  set(EventType.BEGIN_LOAD_QUERY, 4)
  set(EventType.EXECUTE_LOAD_QUERY, 26)
  set(EventType.TABLE_MAP, 8)
  for (const type of [EventType.WRITE_ROWS_V1, EventType.UPDATE_ROWS_V1, EventType.DELETE_ROWS_V1]) set(type, 8)
  set(EventType.INCIDENT, 2)
  for (const type of [EventType.WRITE_ROWS_V2, EventType.UPDATE_ROWS_V2, EventType.DELETE_ROWS_V2]) set(type, 10)
  set(EventType.GTID_LOG, 42)
  set(EventType.ANONYMOUS_GTID_LOG, 42)
  set(EventType.TRANSACTION_CONTEXT, 18)
  set(EventType.VIEW_CHANGE, 52)
  set(EventType.PARTIAL_UPDATE_ROWS, 10)
  set(EventType.BINLOG_CHECKPOINT, 4)
  set(EventType.GTID, 19)
  set(EventType.GTID_LIST, 4)
  set(EventType.QUERY_COMPRESSED, 13)
  for (const type of [166, 167, 168]) set(type, 8)
  for (const type of [169, 170, 171]) set(type, 10)
  return t
})()

/** The format before any FORMAT_DESCRIPTION: binlog v4, 19-byte headers, no checksum. */
export const initialFormat: BinlogFormat = {
  binlogVersion: 4,
  serverVersion: "",
  headerLength: EVENT_HEADER_LENGTH,
  postHeaderLengths: defaultPostHeaderLengths,
  checksum: "none"
}

/** `true` for a MariaDB server version string (`do_server_version_split`'s test). */
export const isMariadbVersion = (serverVersion: string): boolean =>
  serverVersion.includes("MariaDB") || serverVersion.includes("-maria-")

/**
 * Whether a FORMAT_DESCRIPTION written by `serverVersion` ends with a checksum algorithm byte and a
 * checksum: from MySQL 5.6.1 and MariaDB 5.3.0 on. An unparsable version counts as 0.0.0, as the
 * servers' `do_server_version_split` has it.
 */
export const hasChecksumAlgorithm = (serverVersion: string): boolean => {
  const parts = [0, 0, 0]
  let rest = serverVersion
  for (let i = 0; i < 3; i++) {
    const m = /^\d*/.exec(rest)?.[0] ?? ""
    const n = m === "" ? 0 : Number(m)
    const after = rest.charAt(m.length)
    if (n > 255 || (i === 0 && after !== ".")) return false
    parts[i] = n
    rest = rest.slice(m.length + (after === "." ? 1 : 0))
  }
  const product = parts[0] * 65536 + parts[1] * 256 + parts[2]
  return product >= (isMariadbVersion(serverVersion) ? 0x050300 : 0x050601)
}

const postHeaderLength = (format: BinlogFormat, type: number): number =>
  format.postHeaderLengths[type - 1] ?? defaultPostHeaderLengths[type - 1] ?? 0

const typeNames: Record<number, string> = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k]))

/** The packet name errors carry: "binlog TABLE_MAP event". */
const eventName = (type: number): string => `binlog ${typeNames[type] ?? `type ${type}`} event`

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

const NO_BYTES = new Uint8Array(0)
const reader = new Reader(NO_BYTES)

const fail = (message: string, offset: number, field: string): never => {
  throw new WireError(message, offset, field)
}

/**
 * The header of the event `bytes[start, end)`, whatever its body; undefined when the range cannot
 * hold one. For naming an event that did not decode (its position is where it ends).
 */
export const decodeEventHeader = (bytes: Uint8Array, start: number, end: number): EventHeader | undefined =>
  start < 0 || end > bytes.length || end - start < EVENT_HEADER_LENGTH
    ? undefined
    : {
        timestamp: readInt4(bytes, start),
        type: bytes[start + 4],
        serverId: readInt4(bytes, start + 5),
        eventSize: readInt4(bytes, start + 9),
        logPos: readInt4(bytes, start + 13),
        flags: readInt2(bytes, start + 17)
      }

/**
 * The table maps decoded so far, by table id. A binlog repeats a table's TABLE_MAP before each of
 * its rows events, and decoding one (names, character sets, ENUM values) costs more than the rows
 * of a one-row event: given to `decodeEvent`, the cache answers a TABLE_MAP whose body is, byte for
 * byte, the last one of its table id with that one's columns (the checksum is verified as always).
 */
export class TableMapCache {
  /** More table ids than this (a server that keeps creating tables) start the cache afresh. */
  static readonly limit: number = 1024
  readonly byId: Map<number, { readonly body: Uint8Array; readonly event: TableMapEvent }> = new Map()
}

const sameBody = (known: Uint8Array, bytes: Uint8Array, start: number, end: number): boolean => {
  if (known.length !== end - start) return false
  for (let i = 0; i < known.length; i++) if (known[i] !== bytes[start + i]) return false
  return true
}

const cachedTableMap = (
  cache: TableMapCache,
  bytes: Uint8Array,
  bodyStart: number,
  bodyEnd: number,
  header: EventHeader,
  format: BinlogFormat
): TableMapEvent => {
  const r = reader.reset(bytes, bodyStart, bodyEnd)
  const tableId = postHeaderLength(format, EventType.TABLE_MAP) === 6 ? r.int4() : r.int6()
  const known = cache.byId.get(tableId)
  if (known !== undefined && sameBody(known.body, bytes, bodyStart, bodyEnd)) return { ...known.event, header }
  const event = readBody(r.reset(bytes, bodyStart, bodyEnd), header, format) as TableMapEvent
  if (cache.byId.size >= TableMapCache.limit) cache.byId.clear()
  cache.byId.set(tableId, { body: bytes.slice(bodyStart, bodyEnd), event })
  return event
}

/**
 * Decodes the event `bytes[start, end)`: header, body and, when the format says so, checksum (which
 * is verified). Offsets in errors count from `start`. With `tableMaps`, a TABLE_MAP seen before is
 * not decoded again.
 */
export const decodeEvent = (
  bytes: Uint8Array,
  start: number,
  end: number,
  format: BinlogFormat,
  tableMaps?: TableMapCache
): Result.Result<BinlogEvent, ProtocolError> => {
  const size = end - start
  const header = decodeEventHeader(bytes, start, end)
  if (header === undefined) {
    return Result.fail(
      protocolError("binlog event", `${Math.max(0, size)} byte(s) cannot hold a 19-byte header`, "header")
    )
  }
  const type = header.type
  if (header.eventSize !== size) {
    return Result.fail(
      protocolError(eventName(type), `event size ${header.eventSize} but ${size} byte(s) given`, "eventSize", 9)
    )
  }
  try {
    if (type === EventType.FORMAT_DESCRIPTION) return Result.succeed(readFormatDescription(bytes, start, end, header))
    // A header longer than 19 bytes (none so far) carries fields this version does not know: skipped.
    const bodyStart = start + Math.max(EVENT_HEADER_LENGTH, format.headerLength)
    let bodyEnd = end
    if (format.checksum === "crc32") {
      bodyEnd = end - CHECKSUM_LENGTH
      if (bodyEnd < start + EVENT_HEADER_LENGTH)
        fail("no room for the checksum", start + EVENT_HEADER_LENGTH, "checksum")
      verifyChecksum(bytes, start, bodyEnd)
    }
    if (bodyStart > bodyEnd) fail(`no room for a ${format.headerLength}-byte header`, start, "header")
    if (type === EventType.TABLE_MAP && tableMaps !== undefined) {
      return Result.succeed(cachedTableMap(tableMaps, bytes, bodyStart, bodyEnd, header, format))
    }
    return Result.succeed(readBody(reader.reset(bytes, bodyStart, bodyEnd), header, format))
  } catch (e) {
    const relative = e instanceof WireError ? new WireError(e.message, e.offset - start, e.field) : e
    return Result.fail(toProtocolError(eventName(type), relative))
  }
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`

/** Checks the CRC32 stored at `bodyEnd` against the bytes `[start, bodyEnd)`. */
const verifyChecksum = (bytes: Uint8Array, start: number, bodyEnd: number): void => {
  const stored = readInt4(bytes, bodyEnd)
  const actual = crc32(bytes, start, bodyEnd)
  if (stored !== actual)
    fail(`checksum mismatch: expected ${hex(stored)} (stored), actual ${hex(actual)} (computed)`, bodyEnd, "checksum")
}

/** LOG_EVENT_BINLOG_IN_USE_F: set in the first FORMAT_DESCRIPTION of a binlog file until the file is closed. */
const BINLOG_IN_USE = 0x1

/** Where the header's flags start in an event. */
const FLAGS_OFFSET = 17

/**
 * A FORMAT_DESCRIPTION as its checksum covers it. The server sets the in-use flag after computing
 * the checksum (and clears it when it closes the file, or when it sends the event to a replica), so
 * the event of a file still being written checks out with the flag cleared, as mysqlbinlog reads it.
 */
const checksummedEvent = (bytes: Uint8Array, start: number, end: number, header: EventHeader): Uint8Array => {
  const covered = bytes.subarray(start, end)
  if ((header.flags & BINLOG_IN_USE) === 0) return covered
  const copy = covered.slice()
  copy[FLAGS_OFFSET] &= ~BINLOG_IN_USE
  return copy
}

const readFormatDescription = (
  bytes: Uint8Array,
  start: number,
  end: number,
  header: EventHeader
): FormatDescriptionEvent => {
  const r = reader.reset(bytes, start + EVENT_HEADER_LENGTH, end)
  const binlogVersion = r.int2()
  const version = r.fixedBytes(SERVER_VERSION_LENGTH)
  const nul = version.indexOf(0)
  const serverVersion = decodeUtf8(version, 0, nul < 0 ? version.length : nul)
  const createTimestamp = r.int4()
  const headerLength = r.int1()
  let checksum: "none" | "crc32" = "none"
  if (hasChecksumAlgorithm(serverVersion)) {
    // The algorithm byte and a checksum slot end the event whatever the algorithm (the servers
    // always fill the slot); only CRC32 asks for it to be checked.
    const algorithmAt = end - CHECKSUM_LENGTH - 1
    if (algorithmAt < r.pos) fail("no room for the checksum algorithm", r.pos, "checksumAlgorithm")
    const algorithm = bytes[algorithmAt]
    if (algorithm === ChecksumAlgorithm.CRC32) {
      checksum = "crc32"
      verifyChecksum(checksummedEvent(bytes, start, end, header), 0, end - start - CHECKSUM_LENGTH)
    } else if (algorithm !== ChecksumAlgorithm.OFF && algorithm !== ChecksumAlgorithm.UNDEF) {
      fail(`unknown checksum algorithm ${algorithm}`, algorithmAt, "checksumAlgorithm")
    }
    r.end = algorithmAt
  }
  if (headerLength < EVENT_HEADER_LENGTH) fail(`header length ${headerLength} below 19`, r.pos - 1, "headerLength")
  return {
    _tag: "FormatDescription",
    header,
    binlogVersion,
    serverVersion,
    createTimestamp,
    headerLength,
    postHeaderLengths: r.restBytes().slice(),
    checksum
  }
}

const rowsKind = (type: number): RowsEvent["kind"] | undefined => {
  switch (type) {
    case EventType.WRITE_ROWS_V1:
    case EventType.WRITE_ROWS_V2:
    case EventType.WRITE_ROWS_COMPRESSED_V1:
    case EventType.WRITE_ROWS_COMPRESSED:
      return "write"
    case EventType.UPDATE_ROWS_V1:
    case EventType.UPDATE_ROWS_V2:
    case EventType.UPDATE_ROWS_COMPRESSED_V1:
    case EventType.UPDATE_ROWS_COMPRESSED:
    case EventType.PARTIAL_UPDATE_ROWS:
      return "update"
    case EventType.DELETE_ROWS_V1:
    case EventType.DELETE_ROWS_V2:
    case EventType.DELETE_ROWS_COMPRESSED_V1:
    case EventType.DELETE_ROWS_COMPRESSED:
      return "delete"
    default:
      return undefined
  }
}

const rowsVersion = (type: number): 1 | 2 =>
  (type >= EventType.WRITE_ROWS_V2 && type <= EventType.DELETE_ROWS_V2) ||
  type === EventType.PARTIAL_UPDATE_ROWS ||
  type >= EventType.WRITE_ROWS_COMPRESSED
    ? 2
    : 1

const readBody = (r: Reader, header: EventHeader, format: BinlogFormat): BinlogEvent => {
  const type = header.type
  switch (type) {
    case EventType.ROTATE:
      return { _tag: "Rotate", header, position: r.int8(), file: r.restString() }
    case EventType.QUERY:
    case EventType.QUERY_COMPRESSED:
      return readQuery(r, header, postHeaderLength(format, type))
    case EventType.XID:
      return { _tag: "Xid", header, xid: r.int8() }
    case EventType.TABLE_MAP:
      return unsafeReadTableMap(r, header, postHeaderLength(format, type), isMariadbVersion(format.serverVersion))
    case EventType.GTID:
      return readMariadbGtid(r, header)
    case EventType.GTID_LIST: {
      const word = r.int4()
      const count = word & 0x0fffffff
      if (count * 16 > r.remaining()) fail(`${count} GTIDs do not fit`, r.pos - 4, "count")
      const gtids = []
      for (let i = 0; i < count; i++) gtids.push({ domainId: r.int4(), serverId: r.int4(), sequence: r.int8() })
      return { _tag: "MariadbGtidList", header, flags: word >>> 28, gtids }
    }
    case EventType.ANNOTATE_ROWS:
      return { _tag: "AnnotateRows", header, query: r.restString() }
    case EventType.BINLOG_CHECKPOINT:
      return { _tag: "BinlogCheckpoint", header, file: r.fixedString(r.int4()) }
    case EventType.GTID_LOG:
    case EventType.ANONYMOUS_GTID_LOG: {
      const flags = r.int1()
      const uuid = unsafeReadUuid(r)
      const sequence = r.int8()
      const clock = r.remaining() >= 17 && r.peek() === LOGICAL_TIMESTAMP
      if (clock) r.skip(1)
      const lastCommitted = clock ? r.int8() : undefined
      const sequenceNumber = clock ? r.int8() : undefined
      // Later fields (commit timestamps, transaction length, server versions) are not decoded.
      return {
        _tag: "MysqlGtid",
        header,
        anonymous: type === EventType.ANONYMOUS_GTID_LOG,
        flags,
        uuid,
        sequence,
        lastCommitted,
        sequenceNumber
      }
    }
    case EventType.PREVIOUS_GTIDS:
      return { _tag: "PreviousGtids", header, sets: unsafeReadMysqlGtidSet(r) }
    case EventType.TRANSACTION_PAYLOAD:
      return readTransactionPayload(r, header)
    case EventType.HEARTBEAT:
      return { _tag: "Heartbeat", header, file: r.restString(), position: BigInt(header.logPos) }
    case EventType.HEARTBEAT_V2:
      return readHeartbeatV2(r, header)
    case EventType.STOP:
      return { _tag: "Stop", header }
    default: {
      const kind = rowsKind(type)
      if (kind !== undefined) return readRows(r, header, kind, postHeaderLength(format, type))
      return { _tag: "Other", header, body: r.restBytes() }
    }
  }
}

const readQuery = (r: Reader, header: EventHeader, postHeader: number): QueryEvent => {
  const threadId = r.int4()
  const executionTime = r.int4()
  const databaseLength = r.int1()
  const errorCode = r.int2()
  const statusVars = r.fixedBytes(r.int2())
  if (postHeader > 13) r.skip(postHeader - 13)
  const database = r.fixedString(databaseLength)
  r.skip(1)
  const compressed = header.type === EventType.QUERY_COMPRESSED
  const compressedQuery = compressed ? r.restBytes() : undefined
  const query = compressed ? "" : r.restString()
  return {
    _tag: "Query",
    header,
    threadId,
    executionTime,
    errorCode,
    statusVars,
    database,
    query,
    compressed,
    compressedQuery
  }
}

const readRows = (r: Reader, header: EventHeader, kind: RowsEvent["kind"], postHeader: number): RowsEvent => {
  const type = header.type
  const version = rowsVersion(type)
  const tableId = postHeader === 6 ? r.int4() : r.int6()
  const flags = r.int2()
  let extraData: Uint8Array = NO_BYTES
  if (version === 2) {
    const at = r.pos
    const length = r.int2()
    if (length < 2) fail(`extra data length ${length} below 2`, at, "extraDataLength")
    extraData = r.fixedBytes(length - 2)
  } else if (postHeader > 8) r.skip(postHeader - 8)
  const columnCount = r.lenencNumber()
  const bitmapLength = (columnCount + 7) >>> 3
  const columnsPresent = r.fixedBytes(bitmapLength)
  const columnsPresentAfter = kind === "update" ? r.fixedBytes(bitmapLength) : undefined
  return {
    _tag: "Rows",
    header,
    kind,
    version,
    compressed: type >= EventType.WRITE_ROWS_COMPRESSED_V1,
    partial: type === EventType.PARTIAL_UPDATE_ROWS,
    tableId,
    flags,
    extraData,
    columnCount,
    columnsPresent,
    columnsPresentAfter,
    rows: r.restBytes()
  }
}

const readMariadbGtid = (r: Reader, header: EventHeader): MariadbGtidEvent => {
  const sequence = r.int8()
  const domainId = r.int4()
  const flags = r.int1()
  const commitId = flags & MariadbGtidFlag.GROUP_COMMIT_ID ? r.int8() : undefined
  let xid: MariadbGtidEvent["xid"]
  if (flags & (MariadbGtidFlag.PREPARED_XA | MariadbGtidFlag.COMPLETED_XA)) {
    const formatId = r.int4()
    const gtridLength = r.int1()
    const bqualLength = r.int1()
    xid = { formatId, gtrid: r.fixedBytes(gtridLength), bqual: r.fixedBytes(bqualLength) }
  }
  // What follows is flags_extra and its fields, or the zero padding to 19 bytes (read as no flags).
  const flagsExtra = r.atEnd() ? 0 : r.int1()
  const extraEngines = flagsExtra & MariadbGtidExtra.MULTI_ENGINE ? r.int1() : undefined
  const startAlterSequence =
    flagsExtra & (MariadbGtidExtra.COMMIT_ALTER | MariadbGtidExtra.ROLLBACK_ALTER) ? r.int8() : undefined
  return {
    _tag: "MariadbGtid",
    header,
    domainId,
    sequence,
    flags,
    standalone: (flags & MariadbGtidFlag.STANDALONE) !== 0,
    commitId,
    xid,
    flagsExtra,
    extraEngines,
    startAlterSequence
  }
}

/** A length-encoded integer that must end exactly at `end` (a TLV value). */
const lenencValue = (r: Reader, end: number, field: string): bigint => {
  const at = r.pos
  const v = r.lenencInt()
  if (v === null || r.pos !== end) fail("malformed integer field", at, field)
  return BigInt(v as number | bigint)
}

const readTransactionPayload = (r: Reader, header: EventHeader): TransactionPayloadEvent => {
  let size: number | undefined
  let compression: number = PayloadCompression.NONE
  let uncompressedSize: number | undefined
  for (;;) {
    const field = r.lenencNumber()
    if (field === PayloadField.END) break
    const length = r.lenencLength()
    const end = r.pos + length
    switch (field) {
      case PayloadField.SIZE:
        size = Number(lenencValue(r, end, "payloadSize"))
        break
      case PayloadField.COMPRESSION:
        compression = Number(lenencValue(r, end, "compressionType"))
        break
      case PayloadField.UNCOMPRESSED_SIZE:
        uncompressedSize = Number(lenencValue(r, end, "uncompressedSize"))
        break
      default:
        r.pos = end
    }
  }
  if (size !== undefined && size !== r.remaining())
    fail(`payload size ${size} but ${r.remaining()} byte(s) left`, r.pos, "payloadSize")
  const payload = r.restBytes()
  return {
    _tag: "TransactionPayload",
    header,
    compression,
    uncompressedSize: uncompressedSize ?? payload.length,
    payload
  }
}

const readHeartbeatV2 = (r: Reader, header: EventHeader): BinlogEvent => {
  let file = ""
  let position = 0n
  while (!r.atEnd()) {
    const field = r.lenencNumber()
    if (field === HeartbeatField.END) break
    const length = r.lenencLength()
    const end = r.pos + length
    if (field === HeartbeatField.FILE) file = r.fixedString(length)
    else if (field === HeartbeatField.POSITION) position = lenencValue(r, end, "position")
    else r.pos = end
  }
  return { _tag: "Heartbeat", header, file, position }
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/**
 * Writes `event` as the bytes a server would: header (with the event size computed; timestamp, type,
 * server id, log position and flags from `event.header`), body, and the checksum when `format` says
 * so (a FORMAT_DESCRIPTION follows its own `checksum` instead). The type byte decides nothing but
 * itself: the body follows the event's fields (`version`, `compressed`, …).
 */
export const encodeEvent = (event: BinlogEvent, format: BinlogFormat): Result.Result<Uint8Array, ProtocolError> => {
  const w = new Writer(256)
  try {
    const h = event.header
    w.int4(h.timestamp).int1(h.type).int4(h.serverId).int4(0).int4(h.logPos).int2(h.flags)
    if (event._tag !== "FormatDescription" && format.headerLength > EVENT_HEADER_LENGTH) {
      w.zeros(format.headerLength - EVENT_HEADER_LENGTH)
    }
    const checksummed = writeBody(w, event, format)
    if (checksummed) w.ensure(CHECKSUM_LENGTH)
    const total = w.pos + (checksummed ? CHECKSUM_LENGTH : 0)
    w.buf[9] = total & 0xff
    w.buf[10] = (total >>> 8) & 0xff
    w.buf[11] = (total >>> 16) & 0xff
    w.buf[12] = (total >>> 24) & 0xff
    if (checksummed) {
      // A FORMAT_DESCRIPTION's checksum leaves out the in-use flag (see `checksummedEvent`).
      const inUse = event._tag === "FormatDescription" ? w.buf[FLAGS_OFFSET] & BINLOG_IN_USE : 0
      w.buf[FLAGS_OFFSET] ^= inUse
      const crc = crc32(w.buf, 0, w.pos)
      w.buf[FLAGS_OFFSET] ^= inUse
      w.int4(crc | 0)
    }
    return Result.succeed(w.finish())
  } catch (e) {
    return Result.fail(toProtocolError(eventName(event.header.type), e, true))
  }
}

/** Writes the body; answers whether a checksum follows. */
const writeBody = (w: Writer, e: BinlogEvent, format: BinlogFormat): boolean => {
  const mariadb = isMariadbVersion(format.serverVersion)
  switch (e._tag) {
    case "FormatDescription":
      return writeFormatDescription(w, e)
    case "Rotate":
      w.int8(e.position).string(e.file)
      break
    case "Query":
      writeQuery(w, e, postHeaderLength(format, e.header.type))
      break
    case "Xid":
      w.int8(e.xid)
      break
    case "TableMap":
      unsafeWriteTableMap(w, e, postHeaderLength(format, e.header.type), mariadb)
      break
    case "Rows":
      writeRows(w, e, postHeaderLength(format, e.header.type))
      break
    case "MariadbGtid":
      writeMariadbGtid(w, e)
      break
    case "MariadbGtidList":
      if (e.gtids.length > 0x0fffffff || e.flags > 0x0f) fail("count or flags out of range", w.pos, "count")
      w.int4(((e.flags << 28) | e.gtids.length) >>> 0)
      for (const g of e.gtids) w.int4(g.domainId).int4(g.serverId).int8(g.sequence)
      // MariaDB pads an empty list with two zero bytes (Gtid_list_log_event::to_packet).
      if (e.gtids.length === 0) w.zeros(2)
      break
    case "AnnotateRows":
      w.string(e.query)
      break
    case "BinlogCheckpoint": {
      const file = encodeUtf8(e.file)
      w.int4(file.length).bytes(file)
      break
    }
    case "MysqlGtid":
      w.int1(e.flags)
      unsafeWriteUuid(w, e.uuid)
      w.int8(e.sequence)
      if (e.lastCommitted !== undefined || e.sequenceNumber !== undefined) {
        w.int1(LOGICAL_TIMESTAMP)
          .int8(e.lastCommitted ?? 0n)
          .int8(e.sequenceNumber ?? 0n)
      }
      break
    case "PreviousGtids":
      unsafeWriteMysqlGtidSet(w, e.sets)
      break
    case "TransactionPayload":
      writeTransactionPayload(w, e)
      break
    case "Heartbeat":
      if (e.header.type === EventType.HEARTBEAT_V2) {
        const file = encodeUtf8(e.file)
        const position = new Writer(9).lenencInt(e.position).finish()
        w.lenencInt(HeartbeatField.FILE).lenencBytes(file).lenencInt(HeartbeatField.POSITION).lenencBytes(position)
        w.lenencInt(HeartbeatField.END)
      } else w.string(e.file)
      break
    case "Stop":
      break
    case "Other":
      w.bytes(e.body)
      break
  }
  return format.checksum === "crc32"
}

const writeFormatDescription = (w: Writer, e: FormatDescriptionEvent): boolean => {
  const version = encodeUtf8(e.serverVersion)
  if (version.length > SERVER_VERSION_LENGTH) fail("server version longer than 50 bytes", w.pos, "serverVersion")
  w.int2(e.binlogVersion)
    .bytes(version)
    .zeros(SERVER_VERSION_LENGTH - version.length)
  w.int4(e.createTimestamp).int1(e.headerLength).bytes(e.postHeaderLengths)
  if (!hasChecksumAlgorithm(e.serverVersion)) return false
  w.int1(e.checksum === "crc32" ? ChecksumAlgorithm.CRC32 : ChecksumAlgorithm.OFF)
  return true
}

const writeQuery = (w: Writer, e: QueryEvent, postHeader: number): void => {
  const database = encodeUtf8(e.database)
  if (database.length > 255) fail("database name longer than 255 bytes", w.pos, "database")
  w.int4(e.threadId).int4(e.executionTime).int1(database.length).int2(e.errorCode).int2(e.statusVars.length)
  if (postHeader > 13) w.zeros(postHeader - 13)
  w.bytes(e.statusVars).bytes(database).int1(0)
  if (e.compressed)
    w.bytes(e.compressedQuery ?? fail("a compressed query event needs compressedQuery", w.pos, "compressedQuery"))
  else w.string(e.query)
}

const writeRows = (w: Writer, e: RowsEvent, postHeader: number): void => {
  if (postHeader === 6) w.int4(e.tableId)
  else w.int6(e.tableId)
  w.int2(e.flags)
  if (e.version === 2) w.int2(e.extraData.length + 2).bytes(e.extraData)
  else if (postHeader > 8) w.zeros(postHeader - 8)
  const bitmapLength = (e.columnCount + 7) >>> 3
  if (e.columnsPresent.length !== bitmapLength || (e.kind === "update") !== (e.columnsPresentAfter !== undefined)) {
    fail(`column bitmaps do not match ${e.columnCount} columns`, w.pos, "columnsPresent")
  }
  w.lenencInt(e.columnCount).bytes(e.columnsPresent)
  if (e.columnsPresentAfter !== undefined) w.fixedBytes(e.columnsPresentAfter, bitmapLength)
  w.bytes(e.rows)
}

const writeMariadbGtid = (w: Writer, e: MariadbGtidEvent): void => {
  const start = w.pos
  w.int8(e.sequence).int4(e.domainId).int1(e.flags)
  if (e.flags & MariadbGtidFlag.GROUP_COMMIT_ID) w.int8(e.commitId ?? 0n)
  if (e.flags & (MariadbGtidFlag.PREPARED_XA | MariadbGtidFlag.COMPLETED_XA)) {
    const xid = e.xid ?? fail("XA flags without an xid", w.pos, "xid")
    w.int4(xid.formatId).int1(xid.gtrid.length).int1(xid.bqual.length).bytes(xid.gtrid).bytes(xid.bqual)
  }
  if (e.flagsExtra !== 0) {
    w.int1(e.flagsExtra)
    if (e.flagsExtra & MariadbGtidExtra.MULTI_ENGINE) w.int1(e.extraEngines ?? 0)
    if (e.flagsExtra & (MariadbGtidExtra.COMMIT_ALTER | MariadbGtidExtra.ROLLBACK_ALTER))
      w.int8(e.startAlterSequence ?? 0n)
  }
  if (w.pos - start < MARIADB_GTID_LENGTH) w.zeros(MARIADB_GTID_LENGTH - (w.pos - start))
}

/** A TLV whose value is a length-encoded integer. */
const writeIntField = (w: Writer, field: number, value: number): void => {
  w.lenencInt(field).lenencBytes(new Writer(9).lenencInt(value).finish())
}

const writeTransactionPayload = (w: Writer, e: TransactionPayloadEvent): void => {
  writeIntField(w, PayloadField.COMPRESSION, e.compression)
  if (e.compression !== PayloadCompression.NONE) writeIntField(w, PayloadField.UNCOMPRESSED_SIZE, e.uncompressedSize)
  writeIntField(w, PayloadField.SIZE, e.payload.length)
  w.lenencInt(PayloadField.END).bytes(e.payload)
}
