/**
 * Our errors as effect/sql's `SqlError`, with the reason an application acts on. Server errors are
 * classified by errno first and SQLSTATE second: MySQL reuses SQLSTATEs (1064 and 1142 both say
 * 42000), and numbers from 1900 up mean different things on MySQL and MariaDB, so those are matched
 * by the symbolic name the connection resolved with the server's flavor. The original error is the
 * reason's `cause`.
 */
import { ServerErrorCode } from "@effect-mysql/protocol"
import {
  AuthenticationError,
  AuthorizationError,
  ConnectionError,
  ConstraintError,
  DeadlockError,
  LockTimeoutError,
  SerializationError,
  SqlError,
  type SqlErrorReason,
  SqlSyntaxError,
  StatementTimeoutError,
  UniqueViolation,
  UnknownError
} from "effect/sql/SqlError"
import type { ServerError } from "../Errors.ts"
import { closesConnection } from "./ServerErrors.ts"

type ReasonFields = { readonly cause: unknown; readonly message: string; readonly operation: string }

const E = ServerErrorCode

/**
 * Server errors that mean the server cannot take us, besides those after which it closes the
 * connection (`closesConnection`: shutdown, network errors, a killed session).
 */
const connectionErrnos = new Set<number>([
  E.ER_CON_COUNT_ERROR,
  E.ER_HANDSHAKE_ERROR,
  E.ER_IPSOCK_ERROR,
  E.ER_HOST_IS_BLOCKED,
  E.ER_TOO_MANY_USER_CONNECTIONS,
  E.ER_USER_LIMIT_REACHED,
  E.ER_SERVER_OFFLINE_MODE
])

const authenticationErrnos = new Set<number>([
  E.ER_ACCESS_DENIED_ERROR,
  E.ER_HOST_NOT_PRIVILEGED,
  E.ER_NOT_SUPPORTED_AUTH_MODE,
  E.ER_SERVER_IS_IN_SECURE_AUTH_MODE,
  E.ER_ACCESS_DENIED_NO_PASSWORD_ERROR,
  E.ER_MUST_CHANGE_PASSWORD,
  E.ER_MUST_CHANGE_PASSWORD_LOGIN,
  E.ER_ACCESS_DENIED_CHANGE_USER_ERROR
])
const authenticationCodes = new Set<string>([
  "ER_ACCOUNT_HAS_BEEN_LOCKED",
  "ER_SECURE_TRANSPORT_REQUIRED",
  "ER_USER_IS_BLOCKED"
])

const authorizationErrnos = new Set<number>([
  E.ER_DBACCESS_DENIED_ERROR,
  E.ER_KILL_DENIED_ERROR,
  E.ER_TABLEACCESS_DENIED_ERROR,
  E.ER_COLUMNACCESS_DENIED_ERROR,
  E.ER_SPECIFIC_ACCESS_DENIED_ERROR,
  E.ER_PROCACCESS_DENIED_ERROR,
  E.ER_PASSWORD_ANONYMOUS_USER,
  E.ER_PASSWORD_NOT_ALLOWED,
  E.ER_OPTION_PREVENTS_STATEMENT,
  E.ER_READ_ONLY_MODE,
  E.ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
])
const authorizationCodes = new Set<string>(["ER_KILL_QUERY_DENIED_ERROR"])

const syntaxErrnos = new Set<number>([E.ER_PARSE_ERROR, E.ER_SYNTAX_ERROR, E.ER_EMPTY_QUERY])

const uniqueErrnos = new Set<number>([E.ER_DUP_ENTRY, E.ER_DUP_ENTRY_WITH_KEY_NAME, E.ER_DUP_KEY, E.ER_DUP_UNIQUE])

const constraintErrnos = new Set<number>([
  E.ER_BAD_NULL_ERROR,
  E.ER_NO_REFERENCED_ROW,
  E.ER_ROW_IS_REFERENCED,
  E.ER_ROW_IS_REFERENCED_2,
  E.ER_NO_REFERENCED_ROW_2,
  E.ER_NO_DEFAULT_FOR_FIELD,
  E.ER_DUP_UNKNOWN_IN_INDEX
])
const constraintCodes = new Set<string>(["ER_CONSTRAINT_FAILED", "ER_CHECK_CONSTRAINT_VIOLATED"])

const deadlockErrnos = new Set<number>([E.ER_LOCK_DEADLOCK, E.ER_XA_RBDEADLOCK, E.ER_USER_LOCK_DEADLOCK])
const lockTimeoutErrnos = new Set<number>([E.ER_LOCK_WAIT_TIMEOUT, E.ER_XA_RBTIMEOUT])
const lockTimeoutCodes = new Set<string>(["ER_LOCK_NOWAIT"])
// ER_QUERY_INTERRUPTED (1317) is what a statement stopped by KILL QUERY ends with: our own timeouts
// arrive as StatementTimeoutError already; another session's KILL (an operator, pt-kill) is most
// often the same judgement made elsewhere.
const statementTimeoutCodes = new Set<string>(["ER_STATEMENT_TIMEOUT", "ER_QUERY_TIMEOUT", "ER_QUERY_INTERRUPTED"])
const serializationCodes = new Set<string>(["ER_TRANSACTION_ROLLBACK_DURING_COMMIT"])

/**
 * The unique key named in an ER_DUP_ENTRY message: "Duplicate entry 'x' for key 'users.email'"
 * (MySQL 8 qualifies it with the table, MariaDB and MySQL 5.7 do not). The key comes last and the
 * entry may itself contain quotes, so it is read from the end.
 */
export const duplicateKeyName = (message: string): string => {
  const match = /for key '((?:[^']|'')*)'\s*$/.exec(message) ?? /for key (\S+)\s*$/.exec(message)
  if (match === null) return "unknown"
  const name = match[1]!.replaceAll("''", "'")
  return name.length === 0 ? "unknown" : name
}

/** Operations that open a connection, as opposed to running a statement on one. */
const opening = new Set<string>(["connect", "acquire"])

const classifyServerError = (error: ServerError, fields: ReasonFields): SqlErrorReason => {
  const { errno, sqlState } = error
  const code = error.code ?? ""
  // The `database` option names a database that does not exist: no connection can be opened. In a
  // statement (USE, a qualified name) it is a wrong name in the SQL, like an unknown table.
  if (errno === E.ER_BAD_DB_ERROR) {
    return opening.has(fields.operation) ? new ConnectionError(fields) : new SqlSyntaxError(fields)
  }
  if (uniqueErrnos.has(errno)) return new UniqueViolation({ ...fields, constraint: duplicateKeyName(error.message) })
  if (deadlockErrnos.has(errno)) return new DeadlockError(fields)
  if (lockTimeoutErrnos.has(errno) || lockTimeoutCodes.has(code)) return new LockTimeoutError(fields)
  if (statementTimeoutCodes.has(code)) return new StatementTimeoutError(fields)
  if (serializationCodes.has(code)) return new SerializationError(fields)
  if (closesConnection(error) || connectionErrnos.has(errno)) return new ConnectionError(fields)
  if (authenticationErrnos.has(errno) || authenticationCodes.has(code)) return new AuthenticationError(fields)
  if (authorizationErrnos.has(errno) || authorizationCodes.has(code)) return new AuthorizationError(fields)
  if (syntaxErrnos.has(errno)) return new SqlSyntaxError(fields)
  if (constraintErrnos.has(errno) || constraintCodes.has(code)) return new ConstraintError(fields)
  // SQLSTATE classes, for the errors the tables above do not name.
  if (sqlState.startsWith("08")) return new ConnectionError(fields)
  if (sqlState.startsWith("28")) return new AuthenticationError(fields)
  if (sqlState.startsWith("42")) return new SqlSyntaxError(fields)
  if (sqlState === "23000") return new ConstraintError(fields)
  if (sqlState === "40001") return new DeadlockError(fields)
  if (sqlState === "70100") return new StatementTimeoutError(fields)
  return new UnknownError(fields)
}

/** The reason an error of ours (or anything else a command failed with) stands for. */
export const classify = (error: unknown, operation: string): SqlErrorReason => {
  const tag = typeof error === "object" && error !== null ? (error as { _tag?: unknown })._tag : undefined
  const message =
    typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string"
      ? (error as { message: string }).message
      : String(error)
  const fields: ReasonFields = { cause: error, message, operation }
  switch (tag) {
    case "ServerError":
      return classifyServerError(error as ServerError, fields)
    case "AuthenticationError":
      return new AuthenticationError(fields)
    case "StatementTimeoutError":
      return new StatementTimeoutError(fields)
    case "TransportError":
    case "TlsError":
    case "TimeoutError":
    case "ProtocolError":
    case "CompressionNegotiationError":
    case "SslConfigError":
    case "ConfigError":
    case "PoolTimeoutError":
    case "HostRoleError":
    case "HostsUnavailableError":
      return new ConnectionError(fields)
    default:
      return new UnknownError(fields)
  }
}

/** `classify`, wrapped as the `SqlError` effect/sql users catch. */
export const toSqlError = (error: unknown, operation: string): SqlError =>
  new SqlError({ reason: classify(error, operation) })
