/**
 * Server status flags, carried by OK, EOF and the greeting.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/mysql__com_8h.html (enum SERVER_STATUS_flags_enum)
 * MariaDB: https://mariadb.com/kb/en/ok_packet/#server-status-flag
 *
 * Pure data: no IO.
 *
 * @module
 */

/** `SERVER_*` status flags [2 bytes]. */
export const StatusFlag = {
  /** A transaction is active. */
  SERVER_STATUS_IN_TRANS: 0x0001,
  /** Autocommit mode is on. */
  SERVER_STATUS_AUTOCOMMIT: 0x0002,
  /** More results follow (multi-statement or stored procedure). */
  SERVER_MORE_RESULTS_EXISTS: 0x0008,
  SERVER_QUERY_NO_GOOD_INDEX_USED: 0x0010,
  SERVER_QUERY_NO_INDEX_USED: 0x0020,
  /** A read-only cursor was opened by COM_STMT_EXECUTE; fetch rows with COM_STMT_FETCH. */
  SERVER_STATUS_CURSOR_EXISTS: 0x0040,
  /** The last row of a cursor was sent. */
  SERVER_STATUS_LAST_ROW_SENT: 0x0080,
  SERVER_STATUS_DB_DROPPED: 0x0100,
  /** NO_BACKSLASH_ESCAPES is in sql_mode: escape quotes by doubling them. */
  SERVER_STATUS_NO_BACKSLASH_ESCAPES: 0x0200,
  SERVER_STATUS_METADATA_CHANGED: 0x0400,
  SERVER_QUERY_WAS_SLOW: 0x0800,
  /** The result set holds output parameters of a stored procedure. */
  SERVER_PS_OUT_PARAMS: 0x1000,
  /** A read-only transaction is active. */
  SERVER_STATUS_IN_TRANS_READONLY: 0x2000,
  /** Session state changed: an OK packet carries session-state information. */
  SERVER_SESSION_STATE_CHANGED: 0x4000
} as const

/** Names of the flags set in `flags`, for logs and messages. */
export const statusFlagNames = (flags: number): ReadonlyArray<string> =>
  Object.entries(StatusFlag)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name)
