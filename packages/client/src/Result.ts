/**
 * What one statement produced: the rows and column metadata of a result set, or the OK
 * information of a statement without one. Both shapes are one type, so a caller reads `rows` or
 * `affectedRows` without first asking which it got.
 */
import type { ColumnDefinition, SessionStateChange } from "@effect-mysql/protocol"

export type Row = Record<string, unknown>

export interface Result<R = Row> {
  /** The column metadata; empty for a statement without a result set. */
  readonly columns: ReadonlyArray<ColumnDefinition>
  readonly rows: ReadonlyArray<R>
  /** Rows changed (or matched: the connection sets CLIENT_FOUND_ROWS, as mysql2 does). */
  readonly affectedRows: number | bigint
  /** The AUTO_INCREMENT value the statement generated; a bigint above 2^53 - 1. */
  readonly insertId: number | bigint
  /** Rows actually changed by an UPDATE (from the server's info text); 0 otherwise. */
  readonly changedRows: number
  readonly warningCount: number
  /** SERVER_STATUS_* flags after the statement. */
  readonly statusFlags: number
  /** The server's info text ("Records: 3  Duplicates: 0  Warnings: 0"); "" when none. */
  readonly info: string
  /** Session state changes (CLIENT_SESSION_TRACK): variables, schema, transaction state. */
  readonly sessionStateChanges: ReadonlyArray<SessionStateChange>
}

/** How rows are shaped: objects keyed by column name (default), or arrays in column order. */
export type RowShape = "object" | "array"
