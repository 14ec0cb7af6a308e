/**
 * Server error numbers → symbolic names, for the errors an application or a driver acts on.
 *
 * The `error_code` [2 bytes] of an ERR packet. MySQL and MariaDB share the numbers below 1900
 * (MariaDB descends from MySQL 5.5 and merged 5.6's list); above that they diverge: MariaDB's
 * own errors live in 1900-1999 and 4000+, MySQL 5.7/8's in 3000-3999 and 4000+ (MariaDB has a
 * few of MySQL's 3000s with the same meaning), so the same number can mean different things:
 * 4031 is MySQL's ER_CLIENT_INTERACTION_TIMEOUT and MariaDB's ER_REFERENCED_TRG_DOES_NOT_EXIST.
 * Look those up with the server's flavor.
 *
 * MySQL: https://dev.mysql.com/doc/mysql-errors/8.4/en/server-error-reference.html
 * MariaDB: https://mariadb.com/kb/en/mariadb-error-code-reference/
 *
 * The shared and MariaDB names were checked against `perror` of MariaDB 10.11. Classify by errno
 * first and SQLSTATE second: MySQL reuses SQLSTATEs (1064 and 1142 both say 42000).
 *
 * Pure data; no IO.
 */

/** Errors with the same number and meaning on MySQL and MariaDB. */
export const ServerErrorCode = {
  // Connection, authentication and privileges
  ER_CON_COUNT_ERROR: 1040,
  ER_HANDSHAKE_ERROR: 1043,
  ER_DBACCESS_DENIED_ERROR: 1044,
  ER_ACCESS_DENIED_ERROR: 1045,
  ER_NO_DB_ERROR: 1046,
  ER_UNKNOWN_COM_ERROR: 1047,
  ER_SERVER_SHUTDOWN: 1053,
  ER_NORMAL_SHUTDOWN: 1077,
  ER_SHUTDOWN_COMPLETE: 1079,
  ER_FORCING_CLOSE: 1080,
  ER_IPSOCK_ERROR: 1081,
  ER_NO_SUCH_THREAD: 1094,
  ER_KILL_DENIED_ERROR: 1095,
  ER_STACK_OVERRUN: 1119,
  ER_HOST_IS_BLOCKED: 1129,
  ER_HOST_NOT_PRIVILEGED: 1130,
  ER_PASSWORD_ANONYMOUS_USER: 1131,
  ER_PASSWORD_NOT_ALLOWED: 1132,
  ER_PASSWORD_NO_MATCH: 1133,
  ER_TABLEACCESS_DENIED_ERROR: 1142,
  ER_COLUMNACCESS_DENIED_ERROR: 1143,
  ER_NOT_ALLOWED_COMMAND: 1148,
  ER_ABORTING_CONNECTION: 1152,
  ER_NET_PACKET_TOO_LARGE: 1153,
  ER_NET_PACKETS_OUT_OF_ORDER: 1156,
  ER_NET_UNCOMPRESS_ERROR: 1157,
  ER_NET_READ_ERROR: 1158,
  ER_NET_READ_INTERRUPTED: 1159,
  ER_NET_ERROR_ON_WRITE: 1160,
  ER_NET_WRITE_INTERRUPTED: 1161,
  ER_NEW_ABORTING_CONNECTION: 1184,
  ER_TOO_MANY_USER_CONNECTIONS: 1203,
  ER_USER_LIMIT_REACHED: 1226,
  ER_SPECIFIC_ACCESS_DENIED_ERROR: 1227,
  ER_NOT_SUPPORTED_AUTH_MODE: 1251,
  ER_SERVER_IS_IN_SECURE_AUTH_MODE: 1275,
  ER_PROCACCESS_DENIED_ERROR: 1370,
  ER_CANNOT_USER: 1396,
  ER_NO_SUCH_USER: 1449,
  ER_ACCESS_DENIED_NO_PASSWORD_ERROR: 1698,
  ER_NOT_VALID_PASSWORD: 1819,
  ER_MUST_CHANGE_PASSWORD: 1820,
  ER_MALFORMED_PACKET: 1835,
  ER_MUST_CHANGE_PASSWORD_LOGIN: 1862,
  ER_ACCESS_DENIED_CHANGE_USER_ERROR: 1873,
  // Statements and schema
  ER_DB_CREATE_EXISTS: 1007,
  ER_DB_DROP_EXISTS: 1008,
  ER_BAD_DB_ERROR: 1049,
  ER_TABLE_EXISTS_ERROR: 1050,
  ER_BAD_TABLE_ERROR: 1051,
  ER_NON_UNIQ_ERROR: 1052,
  ER_BAD_FIELD_ERROR: 1054,
  ER_WRONG_FIELD_WITH_GROUP: 1055,
  ER_DUP_FIELDNAME: 1060,
  ER_DUP_KEYNAME: 1061,
  ER_PARSE_ERROR: 1064,
  ER_EMPTY_QUERY: 1065,
  ER_CANT_DROP_FIELD_OR_KEY: 1091,
  ER_UNKNOWN_CHARACTER_SET: 1115,
  ER_WRONG_VALUE_COUNT_ON_ROW: 1136,
  ER_MIX_OF_GROUP_FUNC_AND_FIELDS: 1140,
  ER_NO_SUCH_TABLE: 1146,
  ER_SYNTAX_ERROR: 1149,
  ER_KEY_DOES_NOT_EXISTS: 1176,
  ER_UNKNOWN_SYSTEM_VARIABLE: 1193,
  ER_WRONG_ARGUMENTS: 1210,
  ER_GLOBAL_VARIABLE: 1229,
  ER_WRONG_VALUE_FOR_VAR: 1231,
  ER_WRONG_TYPE_FOR_VAR: 1232,
  ER_NOT_SUPPORTED_YET: 1235,
  ER_INCORRECT_GLOBAL_LOCAL_VAR: 1238,
  ER_OPERAND_COLUMNS: 1241,
  ER_SUBQUERY_NO_1_ROW: 1242,
  ER_CANT_AGGREGATE_2COLLATIONS: 1267,
  ER_CANT_AGGREGATE_3COLLATIONS: 1270,
  ER_CANT_AGGREGATE_NCOLLATIONS: 1271,
  ER_UNKNOWN_COLLATION: 1273,
  ER_UNKNOWN_STORAGE_ENGINE: 1286,
  ER_FEATURE_DISABLED: 1289,
  ER_INVALID_CHARACTER_STRING: 1300,
  ER_SP_DOES_NOT_EXIST: 1305,
  ER_SP_WRONG_NO_OF_ARGS: 1318,
  ER_VIEW_INVALID: 1356,
  // Data and constraints
  ER_DUP_KEY: 1022,
  ER_BAD_NULL_ERROR: 1048,
  ER_DUP_ENTRY: 1062,
  ER_RECORD_FILE_FULL: 1114,
  ER_TOO_BIG_ROWSIZE: 1118,
  ER_DUP_UNIQUE: 1169,
  ER_CANNOT_ADD_FOREIGN: 1215,
  ER_NO_REFERENCED_ROW: 1216,
  ER_ROW_IS_REFERENCED: 1217,
  ER_WARN_DATA_OUT_OF_RANGE: 1264,
  WARN_DATA_TRUNCATED: 1265,
  ER_TRUNCATED_WRONG_VALUE: 1292,
  ER_SP_FETCH_NO_DATA: 1329,
  ER_NO_DEFAULT_FOR_FIELD: 1364,
  ER_DIVISION_BY_ZERO: 1365,
  ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: 1366,
  ER_ILLEGAL_VALUE_FOR_TYPE: 1367,
  ER_DATA_TOO_LONG: 1406,
  ER_WRONG_VALUE_FOR_TYPE: 1411,
  ER_CANT_CREATE_GEOMETRY_OBJECT: 1416,
  ER_ROW_IS_REFERENCED_2: 1451,
  ER_NO_REFERENCED_ROW_2: 1452,
  ER_WRONG_VALUE: 1525,
  ER_DUP_ENTRY_WITH_KEY_NAME: 1586,
  ER_SIGNAL_EXCEPTION: 1644,
  ER_DATA_OUT_OF_RANGE: 1690,
  ER_TRUNCATE_ILLEGAL_FK: 1701,
  ER_DUP_UNKNOWN_IN_INDEX: 1859,
  // Locks, transactions and interruption
  ER_TABLE_NOT_LOCKED_FOR_WRITE: 1099,
  ER_TABLE_NOT_LOCKED: 1100,
  ER_CANT_DO_THIS_DURING_AN_TRANSACTION: 1179,
  ER_ERROR_DURING_COMMIT: 1180,
  ER_ERROR_DURING_ROLLBACK: 1181,
  ER_WARNING_NOT_COMPLETE_ROLLBACK: 1196,
  ER_LOCK_WAIT_TIMEOUT: 1205,
  ER_LOCK_TABLE_FULL: 1206,
  ER_READ_ONLY_TRANSACTION: 1207,
  ER_LOCK_DEADLOCK: 1213,
  ER_CANT_UPDATE_WITH_READLOCK: 1223,
  ER_OPTION_PREVENTS_STATEMENT: 1290,
  ER_QUERY_INTERRUPTED: 1317,
  ER_XAER_NOTA: 1397,
  ER_XAER_INVAL: 1398,
  ER_XAER_RMFAIL: 1399,
  ER_XAER_OUTSIDE: 1400,
  ER_XAER_RMERR: 1401,
  ER_XA_RBROLLBACK: 1402,
  ER_CANT_CHANGE_TX_CHARACTERISTICS: 1568,
  ER_XA_RBTIMEOUT: 1613,
  ER_XA_RBDEADLOCK: 1614,
  ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION: 1792,
  ER_READ_ONLY_MODE: 1836,
  // Prepared statements
  ER_UNKNOWN_STMT_HANDLER: 1243,
  ER_UNSUPPORTED_PS: 1295,
  ER_MAX_PREPARED_STMT_COUNT_REACHED: 1461,
  ER_NEED_REPREPARE: 1615,
  // Server resources
  ER_DISK_FULL: 1021,
  ER_GET_ERRNO: 1030,
  ER_OUTOFMEMORY: 1037,
  ER_OUT_OF_SORTMEMORY: 1038,
  ER_OUT_OF_RESOURCES: 1041,
  ER_UNKNOWN_ERROR: 1105,
  ER_UPDATE_WITHOUT_KEY_IN_SAFE_MODE: 1175,
  ER_CRASHED_ON_USAGE: 1194,
  ER_CRASHED_ON_REPAIR: 1195,
  ER_INTERNAL_ERROR: 1815,
  // MySQL 5.7 numbers MariaDB also has
  ER_SERVER_OFFLINE_MODE: 3032,
  ER_USER_LOCK_DEADLOCK: 3058
} as const

/** MariaDB-only errors (1900-1999, 4000+). */
export const MariaDbErrorCode = {
  /** The connection was killed (KILL CONNECTION, or the server shutting down). */
  ER_CONNECTION_KILLED: 1927,
  ER_CONNECTION_ALREADY_EXISTS: 1934,
  /** max_statement_time exceeded (SQLSTATE 70100). */
  ER_STATEMENT_TIMEOUT: 1969,
  ER_SET_STATEMENT_NOT_SUPPORTED: 1971,
  ER_KILL_QUERY_DENIED_ERROR: 1979,
  /** A CHECK constraint failed (SQLSTATE 23000). MySQL's counterpart is ER_CHECK_CONSTRAINT_VIOLATED 3819. */
  ER_CONSTRAINT_FAILED: 4025,
  ER_JSON_SYNTAX: 4038,
  ER_SEQUENCE_RUN_OUT: 4084,
  ER_BACKUP_LOCK_IS_ACTIVE: 4145,
  ER_USER_IS_BLOCKED: 4150,
  /** Login to an account with ACCOUNT LOCK. MySQL's is 3118. */
  ER_ACCOUNT_HAS_BEEN_LOCKED: 4151,
  ER_NO_SECURE_TRANSPORTS_CONFIGURED: 4167
} as const

/**
 * MySQL-only errors (3000+, 4000+). MariaDB 10.11 refuses a plaintext login under
 * require_secure_transport with ER_ACCESS_DENIED_ERROR 1045 rather than 3159.
 */
export const MySqlErrorCode = {
  /** max_execution_time exceeded. MariaDB's counterpart is ER_STATEMENT_TIMEOUT 1969. */
  ER_QUERY_TIMEOUT: 3024,
  /** Group Replication: rejected by the before-DML hook. */
  ER_BEFORE_DML_VALIDATION_ERROR: 3098,
  /** Group Replication: certification failed, the transaction was rolled back at commit. */
  ER_TRANSACTION_ROLLBACK_DURING_COMMIT: 3101,
  ER_ACCOUNT_HAS_BEEN_LOCKED: 3118,
  ER_INVALID_JSON_TEXT: 3140,
  ER_SECURE_TRANSPORT_REQUIRED: 3159,
  ER_SESSION_WAS_KILLED: 3169,
  /** NOWAIT could not take a lock. */
  ER_LOCK_NOWAIT: 3572,
  ER_CHECK_CONSTRAINT_VIOLATED: 3819,
  ER_CLIENT_LOCAL_FILES_DISABLED: 3948,
  /** The server closed an idle connection (wait_timeout); sent before closing. */
  ER_CLIENT_INTERACTION_TIMEOUT: 4031
} as const

/** Which server sent the error; numbers from 1900 up depend on it. */
export type ServerFlavor = "mysql" | "mariadb"

const invert = (table: Record<string, number>): ReadonlyMap<number, string> =>
  new Map(Object.entries(table).map(([name, code]) => [code, name]))

const common = invert(ServerErrorCode)
const mariadb = invert(MariaDbErrorCode)
const mysql = invert(MySqlErrorCode)

/**
 * The symbolic name of a server error number ("ER_DUP_ENTRY"), or `undefined` when it is not in
 * these tables. Without `flavor`, a number only one of the two servers defines here is still
 * named; one both define differently is `undefined`.
 */
export const serverErrorName = (errno: number, flavor?: ServerFlavor): string | undefined => {
  const shared = common.get(errno)
  if (shared !== undefined) return shared
  if (flavor === "mariadb") return mariadb.get(errno)
  if (flavor === "mysql") return mysql.get(errno)
  const a = mariadb.get(errno)
  const b = mysql.get(errno)
  return a === undefined ? b : b === undefined ? a : undefined
}
