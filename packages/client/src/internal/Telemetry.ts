/**
 * Span attributes, named as OpenTelemetry's database conventions name them
 * (https://opentelemetry.io/docs/specs/semconv/database/mysql/ and …/mariadb/): the server a
 * connection reached, what TLS it negotiated, and what a statement was and how it failed. None of
 * them carries a password or a parameter value: only names, numbers and the negotiated settings.
 */
import type { Endpoint, TlsInfo } from "@effect-mysql/transport"
import { Effect, type Fiber, type Tracer } from "effect"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import type { ConnectionInfo } from "../MysqlConnection.ts"

type Attributes = Record<string, unknown>

/** `server.address` and `server.port`; a Unix socket's path as the address. */
export const serverAttributes = (endpoint: Endpoint.Endpoint): Attributes =>
  endpoint._tag === "Tcp"
    ? { "server.address": endpoint.host, "server.port": endpoint.port }
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
export const errorAttributes = (error: unknown): Attributes => {
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

/**
 * `effect` (one statement on a connection at `endpoint`) with its span given `db.operation.name`,
 * the host it ran on, and on failure `error.type` and `db.response.status_code`. Without a
 * statement span to annotate, `effect` itself: nothing is allocated.
 */
export const traceStatement = <A>(
  fiber: Fiber.Fiber<unknown, unknown>,
  sql: string,
  endpoint: Endpoint.Endpoint,
  effect: Effect.Effect<A, SqlError>
): Effect.Effect<A, SqlError> => {
  const span = statementSpan(fiber, sql)
  if (span === undefined) return effect
  const operation = operationName(sql)
  if (operation !== undefined) span.attribute("db.operation.name", operation)
  annotate(span, serverAttributes(endpoint))
  return Effect.tapError(effect, (error) => Effect.sync(() => annotate(span, errorAttributes(error))))
}
