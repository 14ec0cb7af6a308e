/**
 * Binlog events as data: the v4 event header, the format a FORMAT_DESCRIPTION event announces, and
 * the decoded shape of every event a replica client acts on, for MySQL and MariaDB.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
 * MariaDB: https://mariadb.com/kb/en/replication-protocol/
 *
 * ```
 * header (19 bytes, little-endian)
 *   int<4> timestamp   // seconds since the epoch
 *   int<1> type        // EventType
 *   int<4> server id
 *   int<4> event size  // header + body + checksum
 *   int<4> log pos     // where the next event starts in the binlog file (0 for artificial events)
 *   int<2> flags
 * body
 * int<4> CRC32 of header and body, when the format's checksum is "crc32"
 * ```
 *
 * Row images are decoded separately (`RowImage.ts`), once the table map they refer to is known, so
 * that events of tables nobody reads cost no value decoding.
 *
 * Pure data; no IO.
 */

/** Event type codes, both flavors (MariaDB's start at 160). */
export const EventType = {
  UNKNOWN: 0,
  START_V3: 1,
  QUERY: 2,
  STOP: 3,
  ROTATE: 4,
  INTVAR: 5,
  RAND: 13,
  USER_VAR: 14,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  BEGIN_LOAD_QUERY: 17,
  EXECUTE_LOAD_QUERY: 18,
  TABLE_MAP: 19,
  WRITE_ROWS_V1: 23,
  UPDATE_ROWS_V1: 24,
  DELETE_ROWS_V1: 25,
  INCIDENT: 26,
  HEARTBEAT: 27,
  IGNORABLE: 28,
  ROWS_QUERY: 29,
  WRITE_ROWS_V2: 30,
  UPDATE_ROWS_V2: 31,
  DELETE_ROWS_V2: 32,
  GTID_LOG: 33,
  ANONYMOUS_GTID_LOG: 34,
  PREVIOUS_GTIDS: 35,
  TRANSACTION_CONTEXT: 36,
  VIEW_CHANGE: 37,
  XA_PREPARE_LOG: 38,
  PARTIAL_UPDATE_ROWS: 39,
  TRANSACTION_PAYLOAD: 40,
  HEARTBEAT_V2: 41,
  GTID_TAGGED_LOG: 42,
  ANNOTATE_ROWS: 160,
  BINLOG_CHECKPOINT: 161,
  GTID: 162,
  GTID_LIST: 163,
  START_ENCRYPTION: 164,
  QUERY_COMPRESSED: 165,
  WRITE_ROWS_COMPRESSED_V1: 166,
  UPDATE_ROWS_COMPRESSED_V1: 167,
  DELETE_ROWS_COMPRESSED_V1: 168,
  WRITE_ROWS_COMPRESSED: 169,
  UPDATE_ROWS_COMPRESSED: 170,
  DELETE_ROWS_COMPRESSED: 171
} as const

export const EVENT_HEADER_LENGTH = 19

/** Where the type byte is in an event, for readers that skip events without decoding them. */
export const EVENT_TYPE_OFFSET = 4

/** The v4 header every event starts with. */
export interface EventHeader {
  readonly timestamp: number
  readonly type: number
  readonly serverId: number
  /** Header, body and checksum. */
  readonly eventSize: number
  /** Where the next event starts in the current binlog file; 0 for events the server makes up. */
  readonly logPos: number
  readonly flags: number
}

/** Header flags. */
export const EventFlag = {
  /** LOG_EVENT_ARTIFICIAL_F: made up by the server for this dump (a fake ROTATE, a FORMAT_DESCRIPTION replayed). */
  ARTIFICIAL: 0x20
} as const

/**
 * How the events after a FORMAT_DESCRIPTION are laid out: the post-header length of each event
 * type and whether each event ends with a checksum. Until the first FORMAT_DESCRIPTION of a dump
 * the defaults of binlog version 4 apply (`initialFormat`).
 */
export interface BinlogFormat {
  readonly binlogVersion: number
  readonly serverVersion: string
  readonly headerLength: number
  /** Post-header length of event type `t` at index `t - 1`. */
  readonly postHeaderLengths: Uint8Array
  readonly checksum: "none" | "crc32"
}

/** One column of a TABLE_MAP event, with what its optional metadata (`binlog_row_metadata=FULL`) says. */
export interface TableColumn {
  /** The type byte of the table map (`ColumnType`); ENUM and SET columns say STRING here (see `metadata`). */
  readonly type: number
  /**
   * The column's 0–2 metadata bytes as they were read, first byte in the low bits (`b0 | b1 << 8`):
   * VARCHAR max length, STRING real type and length, NEWDECIMAL precision and scale, BIT bits and
   * bytes, BLOB/GEOMETRY/JSON length bytes, FLOAT/DOUBLE size, TIME2/DATETIME2/TIMESTAMP2 fsp.
   */
  readonly metadata: number
  readonly nullable: boolean
  /** From the optional metadata; undefined without it. */
  readonly name: string | undefined
  /** Numeric columns, from the optional metadata (SIGNEDNESS); undefined without it. */
  readonly unsigned: boolean | undefined
  /** Character and binary columns (ENUM and SET included), from the optional metadata; undefined without it. */
  readonly collation: number | undefined
  /** ENUM and SET columns' values, from the optional metadata. */
  readonly enumValues: ReadonlyArray<string> | undefined
  readonly setValues: ReadonlyArray<string> | undefined
  /** GEOMETRY columns' subtype, from the optional metadata. */
  readonly geometryType: number | undefined
}

/**
 * A table-map column from its type and what else is known; the rest is undefined, as in a table
 * map without optional metadata (nullable unless said otherwise). For building binlogs.
 */
export const makeTableColumn = (column: Pick<TableColumn, "type"> & Partial<TableColumn>): TableColumn => ({
  metadata: 0,
  nullable: true,
  name: undefined,
  unsigned: undefined,
  collation: undefined,
  enumValues: undefined,
  setValues: undefined,
  geometryType: undefined,
  ...column
})

export interface TableMapEvent {
  readonly _tag: "TableMap"
  readonly header: EventHeader
  readonly tableId: number
  readonly flags: number
  readonly database: string
  readonly table: string
  readonly columns: ReadonlyArray<TableColumn>
  /** Column indexes of the primary key, from the optional metadata; empty without it. */
  readonly primaryKey: ReadonlyArray<number>
}

/**
 * WRITE/UPDATE/DELETE_ROWS in all their versions: v1 (MariaDB), v2 (MySQL), MariaDB's compressed
 * ones and MySQL's PARTIAL_UPDATE_ROWS. The row images stay bytes until `RowImage` decodes them.
 */
export interface RowsEvent {
  readonly _tag: "Rows"
  readonly header: EventHeader
  readonly kind: "write" | "update" | "delete"
  readonly version: 1 | 2
  /** MariaDB's *_COMPRESSED events: `rows` is a compressed block (`CompressedBlock.ts`). */
  readonly compressed: boolean
  /** MySQL's PARTIAL_UPDATE_ROWS: after images may hold JSON diffs (`binlog_row_value_options=PARTIAL_JSON`). */
  readonly partial: boolean
  readonly tableId: number
  readonly flags: number
  /** v2 extra data (without its length), empty for v1. */
  readonly extraData: Uint8Array
  readonly columnCount: number
  /** Bitmap of the columns present in each (before) image. */
  readonly columnsPresent: Uint8Array
  /** Bitmap of the columns present in each after image; updates only. */
  readonly columnsPresentAfter: Uint8Array | undefined
  /** The row images, as sent (compressed for compressed events). */
  readonly rows: Uint8Array
}

/** Rows event flag: the last rows event of a statement. */
export const ROWS_END_OF_STATEMENT = 0x0001

export interface FormatDescriptionEvent extends BinlogFormat {
  readonly _tag: "FormatDescription"
  readonly header: EventHeader
  readonly createTimestamp: number
}

export interface RotateEvent {
  readonly _tag: "Rotate"
  readonly header: EventHeader
  readonly position: bigint
  readonly file: string
}

export interface QueryEvent {
  readonly _tag: "Query"
  readonly header: EventHeader
  readonly threadId: number
  readonly executionTime: number
  readonly errorCode: number
  /** The status variables block, undecoded. */
  readonly statusVars: Uint8Array
  /** The default database of the statement ("" when none). */
  readonly database: string
  readonly query: string
  /** QUERY_COMPRESSED (MariaDB): the query travels in `compressedQuery`. */
  readonly compressed: boolean
  /**
   * QUERY_COMPRESSED: the compressed block holding the query (`CompressedBlock.ts`); `query` is ""
   * until the caller inflates the block and sets it. Undefined for QUERY.
   */
  readonly compressedQuery: Uint8Array | undefined
}

export interface XidEvent {
  readonly _tag: "Xid"
  readonly header: EventHeader
  readonly xid: bigint
}

/** MariaDB GTID: starts a transaction (or a standalone statement: `standalone`). */
export interface MariadbGtidEvent {
  readonly _tag: "MariadbGtid"
  readonly header: EventHeader
  readonly domainId: number
  readonly sequence: bigint
  readonly flags: number
  /** FL_STANDALONE: no XID or COMMIT follows (DDL). */
  readonly standalone: boolean
  readonly commitId: bigint | undefined
  /** The XA transaction an XA PREPARE (FL_PREPARED_XA) or XA COMMIT/ROLLBACK (FL_COMPLETED_XA) belongs to. */
  readonly xid: MariadbXid | undefined
  /** `flags_extra` (0 when absent): FL_EXTRA_MULTI_ENGINE 1, FL_START_ALTER 2, FL_COMMIT_ALTER 4, FL_ROLLBACK_ALTER 8. */
  readonly flagsExtra: number
  /** With FL_EXTRA_MULTI_ENGINE: how many engines besides the first took part. */
  readonly extraEngines: number | undefined
  /** With FL_COMMIT_ALTER or FL_ROLLBACK_ALTER: the sequence number of the START ALTER it ends. */
  readonly startAlterSequence: bigint | undefined
}

/** An XA transaction id (`XA START 'gtrid','bqual',formatID`). */
export interface MariadbXid {
  readonly formatId: number
  readonly gtrid: Uint8Array
  readonly bqual: Uint8Array
}

export interface MariadbGtid {
  readonly domainId: number
  readonly serverId: number
  readonly sequence: bigint
}

/** MariaDB GTID_LIST: the binlog state at the start of a file. */
export interface MariadbGtidListEvent {
  readonly _tag: "MariadbGtidList"
  readonly header: EventHeader
  readonly flags: number
  readonly gtids: ReadonlyArray<MariadbGtid>
}

export interface AnnotateRowsEvent {
  readonly _tag: "AnnotateRows"
  readonly header: EventHeader
  readonly query: string
}

export interface BinlogCheckpointEvent {
  readonly _tag: "BinlogCheckpoint"
  readonly header: EventHeader
  readonly file: string
}

/** MySQL GTID_LOG and ANONYMOUS_GTID_LOG. */
export interface MysqlGtidEvent {
  readonly _tag: "MysqlGtid"
  readonly header: EventHeader
  readonly anonymous: boolean
  readonly flags: number
  /** The source's UUID, lower case with dashes. */
  readonly uuid: string
  readonly sequence: bigint
  readonly lastCommitted: bigint | undefined
  readonly sequenceNumber: bigint | undefined
}

export interface GtidInterval {
  readonly start: bigint
  /** Exclusive, as on the wire. */
  readonly end: bigint
}

/** MySQL PREVIOUS_GTIDS: the GTID set executed before this file. */
export interface PreviousGtidsEvent {
  readonly _tag: "PreviousGtids"
  readonly header: EventHeader
  readonly sets: ReadonlyArray<{ readonly uuid: string; readonly intervals: ReadonlyArray<GtidInterval> }>
}

/** MySQL TRANSACTION_PAYLOAD: a whole transaction's events, compressed. */
export interface TransactionPayloadEvent {
  readonly _tag: "TransactionPayload"
  readonly header: EventHeader
  /** `PayloadCompression`: 0 zstd, 255 none (MySQL's `transaction::compression::type`). */
  readonly compression: number
  readonly uncompressedSize: number
  /** The compressed events, each a full event without a checksum. */
  readonly payload: Uint8Array
}

/** HEARTBEAT (v1: the current file in the body, the position in the header) and HEARTBEAT_V2. */
export interface HeartbeatEvent {
  readonly _tag: "Heartbeat"
  readonly header: EventHeader
  readonly file: string
  readonly position: bigint
}

export interface StopEvent {
  readonly _tag: "Stop"
  readonly header: EventHeader
}

/** Any other event: kept as its body, so a stream never fails on an event it does not act on. */
export interface OtherEvent {
  readonly _tag: "Other"
  readonly header: EventHeader
  readonly body: Uint8Array
}

export type BinlogEvent =
  | FormatDescriptionEvent
  | RotateEvent
  | QueryEvent
  | XidEvent
  | TableMapEvent
  | RowsEvent
  | MariadbGtidEvent
  | MariadbGtidListEvent
  | AnnotateRowsEvent
  | BinlogCheckpointEvent
  | MysqlGtidEvent
  | PreviousGtidsEvent
  | TransactionPayloadEvent
  | HeartbeatEvent
  | StopEvent
  | OtherEvent
