/**
 * What a replication stream emits: the changes of the binlog, one event per rows event, transaction
 * end, DDL statement and binlog file switch. Every event has a `position`; the positions of `Commit`
 * events (which follow DDL statements too) are where a stream can be resumed exactly.
 */
import type { Row } from "@effect-mysql/client"

/** Where an event ends in the binlog. */
export interface Position {
  /** The binlog file. */
  readonly file: string
  /** The offset in `file` where the next event starts. */
  readonly position: number
  /** The GTID of the event's transaction ("0-1-42" on MariaDB, "uuid:42" on MySQL), when the server writes GTIDs. */
  readonly gtid: string | undefined
  /**
   * On `Commit` events: every GTID applied up to and including this transaction, the state a stream
   * resumes from (MariaDB's GTID position "0-1-42,1-2-7", MySQL's GTID set "uuid:1-42"). Undefined
   * elsewhere, and where the stream could not know the whole state (see docs/replication.md).
   */
  readonly gtidSet: string | undefined
}

interface Change {
  readonly database: string
  readonly table: string
  /** When the statement ran on the server, in seconds since the epoch. */
  readonly timestamp: number
  readonly position: Position
}

/**
 * Rows as objects keyed by column name when the server sends full row metadata
 * (`binlog_row_metadata=FULL`), otherwise by the column's position ("0", "1", …). Only the columns
 * the server logged are present (`binlog_row_image`).
 */
export interface RowsInserted extends Change {
  readonly _tag: "RowsInserted"
  readonly rows: ReadonlyArray<Row>
}

export interface RowsUpdated extends Change {
  readonly _tag: "RowsUpdated"
  readonly rows: ReadonlyArray<{ readonly before: Row; readonly after: Row }>
}

export interface RowsDeleted extends Change {
  readonly _tag: "RowsDeleted"
  readonly rows: ReadonlyArray<Row>
}

/** The end of a transaction (its XID), or of a statement that is a transaction of its own (DDL, non-transactional tables). */
export interface Commit {
  readonly _tag: "Commit"
  /** The XID of a transactional commit; undefined after DDL and non-transactional statements. */
  readonly xid: bigint | undefined
  readonly timestamp: number
  readonly position: Position
}

/** A statement logged as text: DDL (CREATE, ALTER, DROP, …), followed by its `Commit`. */
export interface SchemaChange {
  readonly _tag: "SchemaChange"
  /** The statement's default database ("" when none). */
  readonly database: string
  readonly query: string
  readonly timestamp: number
  readonly position: Position
}

/** The server goes on in another binlog file. */
export interface Rotate {
  readonly _tag: "Rotate"
  readonly file: string
  readonly position: Position
}

export type ReplicationEvent = RowsInserted | RowsUpdated | RowsDeleted | Commit | SchemaChange | Rotate
