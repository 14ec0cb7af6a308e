/**
 * ERR packets as typed errors: the access-denied family during the login becomes an
 * `AuthenticationError` whose message says what to check, everything else a `ServerError` with
 * errno, SQLSTATE and the symbolic name. A few errors are the server's last word before it closes
 * the connection; their message says so, and the connection treats them as fatal.
 */
import { type ErrPacket, ServerErrorCode, type ServerFlavor, serverErrorName } from "@effect-mysql/protocol"
import { Effect } from "effect"
import { AuthenticationError, ServerError } from "../Errors.ts"

/** Refusals of the login itself, as opposed to a server that cannot take the connection. */
const accessDenied = new Set<number>([
  ServerErrorCode.ER_ACCESS_DENIED_ERROR,
  ServerErrorCode.ER_DBACCESS_DENIED_ERROR,
  ServerErrorCode.ER_ACCESS_DENIED_NO_PASSWORD_ERROR,
  ServerErrorCode.ER_NOT_SUPPORTED_AUTH_MODE,
  ServerErrorCode.ER_MUST_CHANGE_PASSWORD_LOGIN,
  ServerErrorCode.ER_ACCESS_DENIED_CHANGE_USER_ERROR,
  3118, // MySQL ER_ACCOUNT_HAS_BEEN_LOCKED
  3159, // MySQL ER_SECURE_TRANSPORT_REQUIRED
  4151 // MariaDB ER_ACCOUNT_HAS_BEEN_LOCKED
])

export interface LoginContext {
  readonly user: string
  readonly plugin: string | undefined
  /** TLS (or a Unix socket) carried the login. */
  readonly tls: boolean
  /** The server offered TLS in its greeting (so an account may require it). */
  readonly serverOffersTls: boolean
}

const E = ServerErrorCode

/**
 * Errors after which the server closes the connection (MySQL reference manual, "Packet Too Large":
 * "issues an ER_NET_PACKET_TOO_LARGE error and closes the connection"; the net read/write errors end
 * the session the same way; shutdown, KILL CONNECTION and the idle timeout are goodbyes). Not
 * ER_QUERY_INTERRUPTED (1317): KILL QUERY stops the statement and keeps the connection.
 */
const closingErrnos = new Set<number>([
  E.ER_SERVER_SHUTDOWN,
  E.ER_NORMAL_SHUTDOWN,
  E.ER_SHUTDOWN_COMPLETE,
  E.ER_FORCING_CLOSE,
  E.ER_ABORTING_CONNECTION,
  E.ER_NET_PACKET_TOO_LARGE,
  E.ER_NET_PACKETS_OUT_OF_ORDER,
  E.ER_NET_UNCOMPRESS_ERROR,
  E.ER_NET_READ_ERROR,
  E.ER_NET_READ_INTERRUPTED,
  E.ER_NET_ERROR_ON_WRITE,
  E.ER_NET_WRITE_INTERRUPTED,
  E.ER_NEW_ABORTING_CONNECTION
])
// From 1900 up the numbers differ between MySQL and MariaDB: matched by the flavor-resolved name.
const closingCodes = new Set<string>(["ER_CONNECTION_KILLED", "ER_SESSION_WAS_KILLED", "ER_CLIENT_INTERACTION_TIMEOUT"])

const closing = (errno: number, code: string | undefined): boolean =>
  closingErrnos.has(errno) || (code !== undefined && closingCodes.has(code))

/** The server closes the connection after this error: the connection must not be used again. */
export const closesConnection = (error: ServerError): boolean => closing(error.errno, error.code)

/**
 * The server rolled the whole transaction back with this error (InnoDB's deadlock victim), so the
 * session is no longer in one, though no status flags came to say so.
 */
export const endsTransaction = (error: ServerError): boolean => error.errno === E.ER_LOCK_DEADLOCK

export const toServerError = (err: ErrPacket, flavor: ServerFlavor | undefined, sql?: string): ServerError => {
  const code = serverErrorName(err.errorCode, flavor)
  return new ServerError({
    errno: err.errorCode,
    sqlState: err.sqlState ?? "HY000",
    ...(code === undefined ? {} : { code }),
    message: closing(err.errorCode, code)
      ? `${err.errorMessage} (the server closed the connection after this error)`
      : err.errorMessage,
    ...(sql === undefined ? {} : { sql })
  })
}

/**
 * What to check after a refused login. MariaDB and MySQL answer a wrong password, an unknown user,
 * a host the account is not allowed from and a REQUIRE SSL account reached without TLS with the
 * same 1045 and message, so TLS is named only where it may be the reason: a plaintext login to a
 * server that offers TLS (a server without TLS cannot admit such accounts at all).
 */
const loginHint = (err: ErrPacket, login: LoginContext): string => {
  if (err.errorCode !== E.ER_ACCESS_DENIED_ERROR) return ""
  const base = "check the user name and password, and that the account may connect from this host"
  if (login.tls || !login.serverOffersTls) return ` (${base})`
  return ` (${base}; the connection was not encrypted, and accounts created with REQUIRE SSL or REQUIRE X509 are refused without TLS: set ssl.mode, and ssl.cert/ssl.key for X509)`
}

/** Fails with the error an ERR packet stands for; `login` is given while authenticating. */
export const serverError = (
  err: ErrPacket,
  flavor: ServerFlavor | undefined,
  sql: string | undefined,
  login: LoginContext | undefined
): Effect.Effect<never, ServerError | AuthenticationError> => {
  if (login === undefined || !accessDenied.has(err.errorCode)) return Effect.fail(toServerError(err, flavor, sql))
  const hint = loginHint(err, login)
  return Effect.fail(
    new AuthenticationError({
      user: login.user,
      ...(login.plugin === undefined ? {} : { plugin: login.plugin }),
      errno: err.errorCode,
      sqlState: err.sqlState ?? "28000",
      message: `${err.errorMessage}${hint}`
    })
  )
}
