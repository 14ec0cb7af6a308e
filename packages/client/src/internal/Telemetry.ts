/**
 * Span attributes, named as OpenTelemetry's database conventions name them
 * (https://opentelemetry.io/docs/specs/semconv/database/mysql/ and …/mariadb/): the server a
 * connection reached, what TLS it negotiated, and what a statement was and how it failed; and the
 * timing of each statement into its histogram. None of them carries a password or a parameter
 * value: only names, numbers and the negotiated settings.
 */
import type { Endpoint, TlsInfo } from "@effect-mysql/transport"
import { Cause, Clock, Effect, Exit, type Fiber, Option, type Tracer } from "effect"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import type { ConnectionInfo } from "../MysqlConnection.ts"
import type { OperationMetrics, Outcome } from "./OperationMetrics.ts"

type Attributes = Record<string, unknown>

/** `server.address` and `server.port`; a Unix socket's path as the address. */
export const serverAttributes = (endpoint: Endpoint.Endpoint): Attributes =>
  endpoint._tag === "Tcp"
    ? { "server.address": endpoint.host, "server.port": endpoint.port }
    : { "server.address": endpoint.path }

/** The same as metric labels, whose values are strings. */
export const serverLabels = (endpoint: Endpoint.Endpoint): Readonly<Record<string, string>> =>
  endpoint._tag === "Tcp"
    ? { "server.address": endpoint.host, "server.port": String(endpoint.port) }
    : { "server.address": endpoint.path }

/** The `tls.*` attributes of OpenTelemetry, and what was verified under our own `mysql.tls.*`. */
const tlsAttributes = (tls: TlsInfo): Attributes => ({
  "tls.established": true,
  "tls.protocol.name": "tls",
  ...(tls.version === undefined ? {} : { "tls.protocol.version": tls.version.replace(/^TLSv/, "") }),
  ...(tls.cipher === undefined ? {} : { "tls.cipher": tls.cipher }),
  ...(tls.sessionReused === undefined ? {} : { "tls.resumed": tls.sessionReused }),
  ...(tls.peerCertificate === undefined ? {} : { "tls.server.hash.sha256": tls.peerCertificate.fingerprint256 }),
  "mysql.ssl_mode": tls.verification.mode,
  "mysql.tls.chain_verified": tls.verification.chain,
  "mysql.tls.hostname_verified": tls.verification.hostname !== undefined,
  "mysql.tls.fingerprint_pinned": tls.verification.fingerprint
})

/** What a connection's span says once it is open. */
export const connectionAttributes = (info: ConnectionInfo): Attributes => ({
  "db.system.name": info.flavor,
  ...serverAttributes(info.endpoint),
  ...(info.tls === undefined ? { "tls.established": false } : tlsAttributes(info.tls)),
  "mysql.compression": info.compression?.algorithm ?? "none"
})

/**
 * `error.type` and, when the server answered with an error, `db.response.status_code` (its errno
 * as a string, which is also the `error.type` then, as the conventions recommend).
 */
export const errorAttributes = (error: unknown): Readonly<Record<string, string>> => {
  const cause = isSqlError(error) ? error.reason.cause : error
  const errno = (cause as { readonly errno?: unknown } | undefined)?.errno
  if (typeof errno === "number") return { "error.type": String(errno), "db.response.status_code": String(errno) }
  const tag = (cause as { readonly _tag?: unknown } | undefined)?._tag
  return { "error.type": typeof tag === "string" ? tag : "_OTHER" }
}

const annotate = (span: Tracer.Span, attributes: Attributes): void => {
  for (const key in attributes) span.attribute(key, attributes[key])
}

/**
 * The first keyword of `sql`, upper-cased (`SELECT`, `INSERT`, `CALL`): `db.operation.name`.
 * Leading blanks, parentheses and comments are skipped; text with several statements is named by
 * its first.
 */
export const operationName = (sql: string): string | undefined => {
  const start = /^(?:\s|\(|\/\*[\s\S]*?\*\/|(?:--\s|#)[^\n]*(?:\n|$))*([A-Za-z]+)/.exec(sql)
  return start === null ? undefined : start[1]!.toUpperCase()
}

/**
 * The statement span effect/sql made for `sql`, when the statement runs under it and a tracer was
 * installed to export it (without one, Effect's native spans go nowhere). effect/sql makes its
 * statement span the current one only with `SpanPropagationEnabled` (which `MysqlClient.layer`
 * turns on). Recognised by its `db.query.text`, so a span of the caller's is never annotated.
 */
const statementSpan = (fiber: Fiber.Fiber<unknown, unknown>, sql: string): Tracer.Span | undefined => {
  if (fiber.cache.tracer === undefined) return undefined
  const span = fiber.cache.span
  return span?._tag === "Span" && span.attributes.get("db.query.text") === sql ? span : undefined
}

/** The statement's span (see `statementSpan`) given `db.operation.name` and the host it runs on. */
const tracedSpan = (
  fiber: Fiber.Fiber<unknown, unknown>,
  sql: string,
  operation: string | undefined,
  info: ConnectionInfo
): Tracer.Span | undefined => {
  const span = statementSpan(fiber, sql)
  if (span === undefined) return undefined
  if (operation !== undefined) span.attribute("db.operation.name", operation)
  annotate(span, serverAttributes(info.endpoint))
  return span
}

/**
 * A stream's span, when a tracer exports one, given `db.operation.name` and the host it runs on;
 * what it answers annotates the span with a failure of the stream. A stream's duration is its
 * consumer's pace as much as the server's, so it is not timed into `db.client.operation.duration`.
 */
export const traceStream = (
  fiber: Fiber.Fiber<unknown, unknown>,
  sql: string,
  info: ConnectionInfo
): ((error: unknown) => void) | undefined => {
  const span = tracedSpan(fiber, sql, operationName(sql), info)
  return span === undefined ? undefined : (error) => annotate(span, errorAttributes(error))
}

/**
 * How a statement that did not succeed ended, as `error.type` (and `db.response.status_code`): its
 * error's, or `Interrupted` when it was interrupted.
 */
const failureAttributes = (cause: Cause.Cause<unknown>): Outcome => {
  const error = Cause.findErrorOption(cause)
  return Option.isSome(error)
    ? errorAttributes(error.value)
    : { "error.type": Cause.hasInterruptsOnly(cause) ? "Interrupted" : "_OTHER" }
}

/**
 * `effect` (one statement on a connection) timed into `db.client.operation.duration`, and its span,
 * when a tracer exports one, given `db.operation.name`, the host it ran on, and on failure
 * `error.type` and `db.response.status_code`.
 */
export const instrumentStatement = <A>(
  fiber: Fiber.Fiber<unknown, unknown>,
  sql: string,
  info: ConnectionInfo,
  metrics: OperationMetrics,
  effect: Effect.Effect<A, SqlError>
): Effect.Effect<A, SqlError> => {
  const operation = operationName(sql)
  const span = tracedSpan(fiber, sql, operation, info)
  const clock = fiber.getRef(Clock.Clock)
  const started = clock.monotonicTimeNanosUnsafe()
  return Effect.onExit(effect, (exit) => {
    const seconds = Number(clock.monotonicTimeNanosUnsafe() - started) / 1e9
    const outcome = Exit.isSuccess(exit) ? undefined : failureAttributes(exit.cause)
    if (span !== undefined && outcome !== undefined) annotate(span, outcome)
    metrics.series(info, operation, outcome).updateUnsafe(seconds, fiber.context)
    return Effect.void
  })
}
