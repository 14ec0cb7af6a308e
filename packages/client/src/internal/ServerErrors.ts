/**
 * ERR packets as typed errors: the access-denied family during the login becomes an
 * `AuthenticationError` whose message says what to check, everything else a `ServerError` with
 * errno, SQLSTATE and the symbolic name.
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
}

export const toServerError = (err: ErrPacket, flavor: ServerFlavor | undefined, sql?: string): ServerError =>
  new ServerError({
    errno: err.errorCode,
    sqlState: err.sqlState ?? "HY000",
    ...(serverErrorName(err.errorCode, flavor) === undefined ? {} : { code: serverErrorName(err.errorCode, flavor) }),
    message: err.errorMessage,
    ...(sql === undefined ? {} : { sql })
  })

/** Fails with the error an ERR packet stands for; `login` is given while authenticating. */
export const serverError = (
  err: ErrPacket,
  flavor: ServerFlavor | undefined,
  sql: string | undefined,
  login: LoginContext | undefined
): Effect.Effect<never, ServerError | AuthenticationError> => {
  if (login === undefined || !accessDenied.has(err.errorCode)) return Effect.fail(toServerError(err, flavor, sql))
  const hint = login.tls
    ? ""
    : " (the connection was not encrypted: accounts created with REQUIRE SSL or REQUIRE X509 are refused without TLS, and X509 also needs a client certificate: set ssl.mode and ssl.cert/ssl.key)"
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
