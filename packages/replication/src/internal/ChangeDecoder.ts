/**
 * Turns the binlog's events, as the dump delivers them, into changes: it follows the format
 * (FORMAT_DESCRIPTION), the current file (ROTATE), the tables (TABLE_MAP) and the transaction
 * (GTID … XID), verifies each event's checksum, skips the tables the filter leaves out before any
 * row is decoded, and keeps the GTID state a `Commit` can be resumed from.
 *
 * Plain synchronous code over one event at a time: the stream calls it for each batch of events a
 * socket read brought.
 */
import type { Row } from "@effect-mysql/client"
import { type CompressionCodec, zlib, zstd } from "@effect-mysql/compression"
import { Binlog, type ProtocolError, type ResolvedValueOptions } from "@effect-mysql/protocol"
import { Result } from "effect"
import { ReplicationError } from "../ReplicationError.ts"
import type { Position, ReplicationEvent } from "../ReplicationEvent.ts"
import type { GtidState } from "./GtidState.ts"

/** Which tables a stream reads: undefined reads every one. */
export type TableFilter = ((database: string, table: string) => boolean) | undefined

interface TableState {
  readonly map: Binlog.TableMapEvent
  /** Undefined for a table the filter leaves out. */
  readonly decoder: Binlog.RowImageDecoder<Row> | undefined
}

export class ChangeDecoder {
  private format: Binlog.BinlogFormat
  private file: string
  private readonly tables = new Map<number, TableState>()
  private readonly tableMaps = new Binlog.TableMapCache()
  /** The GTID of the transaction under way. */
  private gtid: string | undefined
  /** Whether a transaction has begun (BEGIN, or MariaDB's GTID) and not yet ended. */
  private inTransaction = false
  private readonly state: GtidState
  private readonly filter: TableFilter
  private readonly values: ResolvedValueOptions
  private inflater: CompressionCodec | undefined
  private unzstd: CompressionCodec | undefined

  constructor(
    file: string,
    checksum: Binlog.BinlogFormat["checksum"],
    state: GtidState,
    filter: TableFilter,
    values: ResolvedValueOptions
  ) {
    this.format = { ...Binlog.initialFormat, checksum }
    this.file = file
    this.state = state
    this.filter = filter
    this.values = values
  }

  /**
   * Decodes one event (header, body, checksum) into `out`; answers what went wrong, if anything.
   * Events that change nothing the stream says (the SQL of ANNOTATE_ROWS, heartbeats, INTVAR, …)
   * are skipped unread.
   */
  push(bytes: Uint8Array, out: Array<ReplicationEvent>): ReplicationError | undefined {
    if (bytes.length > Binlog.EVENT_TYPE_OFFSET && unread.has(bytes[Binlog.EVENT_TYPE_OFFSET])) return undefined
    const decoded = Binlog.decodeEvent(bytes, 0, bytes.length, this.format, this.tableMaps)
    if (Result.isFailure(decoded)) return this.malformed(decoded.failure, bytes)
    return this.apply(decoded.success, out)
  }

  private apply(event: Binlog.BinlogEvent, out: Array<ReplicationEvent>): ReplicationError | undefined {
    switch (event._tag) {
      case "FormatDescription":
        this.format = event
        return undefined
      case "Rotate":
        this.file = event.file
        this.tables.clear()
        // Every dump starts with a ROTATE the server makes up to name its file: not a switch of files.
        if ((event.header.flags & Binlog.EventFlag.ARTIFICIAL) === 0) {
          out.push({ _tag: "Rotate", file: event.file, position: this.positionAt(Number(event.position)) })
        }
        return undefined
      case "MariadbGtid":
        this.gtid = this.state.mariadb(event.domainId, event.header.serverId, event.sequence)
        // MariaDB writes no BEGIN after a GTID: the GTID starts the transaction, unless it is standalone (DDL).
        this.inTransaction = !event.standalone
        return undefined
      case "MysqlGtid":
        this.gtid = event.anonymous ? undefined : this.state.mysql(event.uuid, event.sequence)
        return undefined
      case "MariadbGtidList":
        this.state.seedMariadb(event.gtids)
        return undefined
      case "PreviousGtids":
        this.state.seedMysql(event.sets)
        return undefined
      case "TableMap":
        return this.tableMap(event)
      case "Rows":
        return this.rows(event, out)
      case "Query":
        return this.query(event, out)
      case "Xid":
        this.commit(event.header, event.xid, out)
        return undefined
      case "TransactionPayload":
        return this.payload(event, out)
      case "Other":
        // An INCIDENT marks changes the binlog may lack (LOST_EVENTS): a replica stops there, and so does the stream.
        return event.header.type === Binlog.EventType.INCIDENT
          ? this.error(
              "incident",
              "the server logged an incident: changes may be missing from the binlog",
              event.header
            )
          : undefined
      default:
        return undefined
    }
  }

  private tableMap(event: Binlog.TableMapEvent): ReplicationError | undefined {
    // Each statement repeats its table map: `tableMaps` answers the same bytes with the same columns,
    // and the decoder built for them is kept.
    const known = this.tables.get(event.tableId)
    if (known !== undefined && known.map.columns === event.columns) return undefined
    const wanted = this.filter === undefined || this.filter(event.database, event.table)
    const decoder = wanted ? Binlog.makeRowImageDecoder(event, this.values, "object") : undefined
    this.tables.set(event.tableId, { map: event, decoder })
    return undefined
  }

  private rows(event: Binlog.RowsEvent, out: Array<ReplicationEvent>): ReplicationError | undefined {
    const table = this.tables.get(event.tableId)
    if (table === undefined) {
      return this.error(
        "unknown-table",
        `a rows event names table id ${event.tableId}, which no TABLE_MAP announced`,
        event.header
      )
    }
    const decoder = table.decoder
    if (decoder === undefined) return undefined
    let images = event.rows
    if (event.compressed) {
      const inflated = this.inflate(images)
      if (Result.isFailure(inflated)) return this.malformed(inflated.failure, undefined, event.header)
      images = inflated.success
    }
    const position = this.positionAt(event.header.logPos)
    const { database, table: name } = table.map
    const timestamp = event.header.timestamp
    if (event.kind === "update") {
      const updates = decoder.decodeUpdates(event, images)
      if (Result.isFailure(updates)) return this.malformed(updates.failure, undefined, event.header)
      out.push({ _tag: "RowsUpdated", database, table: name, timestamp, position, rows: updates.success })
      return undefined
    }
    const rows = decoder.decodeRows(event, images)
    if (Result.isFailure(rows)) return this.malformed(rows.failure, undefined, event.header)
    out.push({
      _tag: event.kind === "write" ? "RowsInserted" : "RowsDeleted",
      database,
      table: name,
      timestamp,
      position,
      rows: rows.success
    })
    return undefined
  }

  private query(event: Binlog.QueryEvent, out: Array<ReplicationEvent>): ReplicationError | undefined {
    let query = event.query
    if (event.compressedQuery !== undefined) {
      const inflated = this.inflate(event.compressedQuery)
      if (Result.isFailure(inflated)) return this.malformed(inflated.failure, undefined, event.header)
      query = textDecoder.decode(inflated.success)
    }
    if (query === "BEGIN") {
      this.inTransaction = true
      return undefined
    }
    // Transactions that touched tables without transactions end with a COMMIT (or ROLLBACK) statement.
    if (query === "COMMIT" || query === "ROLLBACK") {
      this.commit(event.header, undefined, out)
      return undefined
    }
    if (this.filter === undefined || this.filter(event.database, "")) {
      out.push({
        _tag: "SchemaChange",
        database: event.database,
        query,
        timestamp: event.header.timestamp,
        position: this.positionAt(event.header.logPos)
      })
    }
    // A statement logged as text outside a transaction is a transaction of its own (DDL).
    if (!this.inTransaction) this.commit(event.header, undefined, out)
    return undefined
  }

  private commit(header: Binlog.EventHeader, xid: bigint | undefined, out: Array<ReplicationEvent>): void {
    out.push({
      _tag: "Commit",
      xid,
      timestamp: header.timestamp,
      position: { file: this.file, position: header.logPos, gtid: this.gtid, gtidSet: this.state.text() }
    })
    this.gtid = undefined
    this.inTransaction = false
  }

  /** MySQL's TRANSACTION_PAYLOAD: a transaction's events, compressed together, each without a checksum. */
  private payload(event: Binlog.TransactionPayloadEvent, out: Array<ReplicationEvent>): ReplicationError | undefined {
    let bytes = event.payload
    if (event.compression === Binlog.PayloadCompression.ZSTD) {
      this.unzstd ??= zstd()
      const inflated = this.unzstd.decompress(bytes, event.uncompressedSize)
      if (Result.isFailure(inflated)) return this.malformed(inflated.failure, undefined, event.header)
      bytes = inflated.success
    } else if (event.compression !== Binlog.PayloadCompression.NONE) {
      return this.error(
        "unsupported",
        `a transaction payload compressed with unknown algorithm ${event.compression}`,
        event.header
      )
    }
    const ranges = Binlog.splitPayloadEvents(bytes)
    if (Result.isFailure(ranges)) return this.malformed(ranges.failure, undefined, event.header)
    const outer = this.format
    this.format = { ...outer, checksum: "none" }
    try {
      for (const { start, end } of ranges.success) {
        const inner = Binlog.decodeEvent(bytes, start, end, this.format, this.tableMaps)
        if (Result.isFailure(inner)) return this.malformed(inner.failure, undefined, event.header)
        // Inner events carry no position of their own: they all end where the payload does.
        const failed = this.apply(withLogPos(inner.success, event.header.logPos), out)
        if (failed !== undefined) return failed
      }
      return undefined
    } finally {
      this.format = outer
    }
  }

  private inflate(block: Uint8Array): Result.Result<Uint8Array, ProtocolError> {
    return Result.flatMap(Binlog.readCompressedBlock(block), ({ uncompressedLength, deflated }) => {
      this.inflater ??= zlib()
      return this.inflater.decompress(deflated, uncompressedLength)
    })
  }

  private positionAt(position: number): Position {
    return { file: this.file, position, gtid: this.gtid, gtidSet: undefined }
  }

  private error(reason: ReplicationError["reason"], message: string, header: Binlog.EventHeader | undefined) {
    return new ReplicationError({
      reason,
      file: this.file,
      position: header?.logPos,
      message: `${message} (${this.file}${header === undefined ? "" : `, event ending at ${header.logPos}`})`
    })
  }

  private malformed(
    failure: ProtocolError,
    bytes: Uint8Array | undefined,
    header?: Binlog.EventHeader
  ): ReplicationError {
    const logPos = (header ?? (bytes === undefined ? undefined : Binlog.decodeEventHeader(bytes, 0, bytes.length)))
      ?.logPos
    const checksum = failure.field === "checksum" && failure.detail.startsWith("checksum mismatch")
    return new ReplicationError({
      reason: checksum ? "checksum" : "malformed-event",
      file: this.file,
      position: logPos,
      message: `${checksum ? "corrupted event" : "malformed event"} in ${this.file}${logPos === undefined ? "" : ` ending at ${logPos}`}: ${failure.message}`
    })
  }
}

const textDecoder = new TextDecoder()

const { EventType } = Binlog

/** The events a change stream has no use for. */
const unread = new Set<number>([
  EventType.ANNOTATE_ROWS,
  EventType.BINLOG_CHECKPOINT,
  EventType.HEARTBEAT,
  EventType.HEARTBEAT_V2,
  EventType.INTVAR,
  EventType.RAND,
  EventType.USER_VAR,
  EventType.IGNORABLE,
  EventType.ROWS_QUERY,
  EventType.TRANSACTION_CONTEXT,
  EventType.VIEW_CHANGE
])

const withLogPos = (event: Binlog.BinlogEvent, logPos: number): Binlog.BinlogEvent =>
  ({ ...event, header: { ...event.header, logPos } }) as Binlog.BinlogEvent
