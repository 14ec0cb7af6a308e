/**
 * The one place that knows every option: the shape of the options of a connection, of the pool
 * and of the client, as effect Schemas. Options from code, a URL or the environment all pass
 * through `decodeOptions` before anything else reads them, so an unknown key (`connectionLimit`,
 * a typo inside `ssl`) or a value of the wrong type is refused with a `ConfigError` that names the
 * option and, for a key, the one that was probably meant. What a value means (a port range, an
 * ssl-mode) is checked later by the code that uses it.
 *
 * Each struct's keys are tied to its TypeScript interface, so an option added to an interface
 * without its schema fails to type-check.
 */
import { CompressionOptions } from "@effect-mysql/compression"
import type { ValueOptions } from "@effect-mysql/protocol"
import type { SslPolicy } from "@effect-mysql/transport"
import { Duration, Effect, Redacted, Result, Schema, type SchemaIssue } from "effect"
import type { ConnectionOptions } from "../ConnectionOptions.ts"
import { ConfigError } from "../Errors.ts"
import type { LocalInfileOptions } from "../LocalInfile.ts"
import type { MysqlClientOptions, ReplicaReadOptions } from "../MysqlClientOptions.ts"
import type { PoolOptions } from "../MysqlPool.ts"

type Fields<T> = { readonly [K in keyof Required<T>]: Schema.Top }

const isDurationInput = (u: unknown): u is Duration.Input =>
  typeof u === "number" ||
  typeof u === "bigint" ||
  typeof u === "string" ||
  Duration.isDuration(u) ||
  (Array.isArray(u) && u.length === 2 && u.every((n) => typeof n === "number"))

const DurationInput = Schema.declare(isDurationInput, {
  expected: 'a duration ("5 seconds", a number of milliseconds or a Duration)'
})

const Password = Schema.declare(
  (u: unknown): u is ConnectionOptions["password"] =>
    typeof u === "string" || Redacted.isRedacted(u) || Effect.isEffect(u),
  { expected: "a string, a Redacted string, or an Effect of one" }
)

const AFunction = Schema.declare((u: unknown): u is (...args: Array<never>) => unknown => typeof u === "function", {
  expected: "a function"
})

const sslFields = {
  mode: Schema.optional(Schema.String),
  ca: Schema.optional(Schema.Union([Schema.String, Schema.Array(Schema.String)])),
  cert: Schema.optional(Schema.String),
  key: Schema.optional(Schema.Union([Schema.String, Schema.Redacted(Schema.String)])),
  passphrase: Schema.optional(Schema.Union([Schema.String, Schema.Redacted(Schema.String)])),
  servername: Schema.optional(Schema.String),
  minVersion: Schema.optional(Schema.String),
  maxVersion: Schema.optional(Schema.String),
  ciphers: Schema.optional(Schema.String),
  ciphersuites: Schema.optional(Schema.String),
  fingerprints: Schema.optional(Schema.Array(Schema.String)),
  crl: Schema.optional(Schema.Union([Schema.String, Schema.Array(Schema.String)])),
  sessionReuse: Schema.optional(Schema.Boolean)
} satisfies Fields<SslPolicy.SslOptions>

const choice = <const L extends ReadonlyArray<string>>(literals: L) => Schema.optional(Schema.Literals(literals))

const typesFields = {
  bigint: choice(["bigint", "number", "string"]),
  decimal: choice(["string", "number"]),
  float: choice(["exact", "shortest"]),
  dates: choice(["date", "string"]),
  timeZone: Schema.optional(Schema.String),
  json: choice(["parse", "string"]),
  bit: choice(["bytes", "bigint"]),
  set: choice(["string", "array"]),
  tinyint1: choice(["number", "boolean"]),
  vector: choice(["float32", "bytes"]),
  cast: Schema.optional(AFunction)
} satisfies Fields<ValueOptions>

const localInfileFields = { source: AFunction } satisfies Fields<LocalInfileOptions>

const connectionFields = {
  host: Schema.optional(Schema.String),
  port: Schema.optional(Schema.Number),
  socketPath: Schema.optional(Schema.String),
  hosts: Schema.optional(
    Schema.Array(
      Schema.Union([Schema.String, Schema.Struct({ host: Schema.String, port: Schema.optional(Schema.Number) })])
    )
  ),
  hostOrder: choice(["sequential", "random"]),
  targetSessionAttrs: choice(["any", "read-write", "read-only", "prefer-replica"]),
  user: Schema.optional(Schema.String),
  password: Schema.optional(Password),
  password2: Schema.optional(Password),
  password3: Schema.optional(Password),
  database: Schema.optional(Schema.String),
  ssl: Schema.optional(Schema.Struct(sslFields)),
  compression: Schema.optional(CompressionOptions),
  connectTimeout: Schema.optional(DurationInput),
  keepAlive: Schema.optional(Schema.Union([DurationInput, Schema.Literal(false)])),
  busyPoll: Schema.optional(DurationInput),
  readTimeout: Schema.optional(DurationInput),
  stallCheckAfter: Schema.optional(Schema.Union([DurationInput, Schema.Literal(false)])),
  statementTimeout: Schema.optional(DurationInput),
  killQueryOnInterrupt: Schema.optional(Schema.Boolean),
  cancelTimeout: Schema.optional(DurationInput),
  serverPublicKey: Schema.optional(Schema.String),
  allowPublicKeyRetrieval: Schema.optional(Schema.Boolean),
  allowCleartextPasswords: Schema.optional(Schema.Boolean),
  multipleStatements: Schema.optional(Schema.Boolean),
  localInfile: Schema.optional(Schema.Struct(localInfileFields)),
  statementCacheSize: Schema.optional(Schema.Number),
  maxPacketSize: Schema.optional(Schema.Number),
  maxResults: Schema.optional(Schema.Number),
  maxResponseSize: Schema.optional(Schema.Number),
  collation: Schema.optional(Schema.Number),
  types: Schema.optional(Schema.Struct(typesFields)),
  connectAttributes: Schema.optional(Schema.Record(Schema.String, Schema.String)),
  programName: Schema.optional(Schema.String),
  sessionVariables: Schema.optional(
    Schema.Record(Schema.String, Schema.Union([Schema.String, Schema.Number, Schema.Boolean]))
  ),
  initSql: Schema.optional(Schema.Union([Schema.String, Schema.Array(Schema.String)])),
  trackGtids: Schema.optional(Schema.Boolean)
} satisfies Fields<ConnectionOptions>

const poolFields = {
  minConnections: Schema.optional(Schema.Number),
  maxConnections: Schema.optional(Schema.Number),
  acquireTimeout: Schema.optional(DurationInput),
  idleTimeout: Schema.optional(DurationInput),
  maxLifetime: Schema.optional(DurationInput),
  validateAfter: Schema.optional(DurationInput),
  validationTimeout: Schema.optional(DurationInput),
  heartbeatInterval: Schema.optional(Schema.Union([DurationInput, Schema.Literal(false)])),
  resetOnRelease: Schema.optional(Schema.Boolean)
} satisfies Fields<PoolOptions>

/** The keys of the pool's options, to split them from a connection's. */
export const poolKeys: ReadonlyArray<string> = Object.keys(poolFields)

const replicaReadFields = {
  maxLag: Schema.optional(Schema.Union([DurationInput, Schema.Literal(false)])),
  readYourWrites: Schema.optional(Schema.Boolean),
  waitTimeout: Schema.optional(DurationInput)
} satisfies Fields<ReplicaReadOptions>

/** The client's own options: neither a connection's nor the pool's (effect/sql's, a host list's). */
const clientFields = {
  spanAttributes: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
  transformResultNames: Schema.optional(AFunction),
  transformQueryNames: Schema.optional(AFunction),
  replicaReads: Schema.optional(Schema.Struct(replicaReadFields)),
  hostCheckInterval: Schema.optional(DurationInput),
  hostCheckTimeout: Schema.optional(DurationInput),
  disablePreparedStatements: Schema.optional(Schema.Boolean)
}

export const clientKeys: ReadonlyArray<string> = Object.keys(clientFields)

/** What `poolConfig` may hold: the options of our connections and pool, under their names here. */
const poolConfigFields = { ...connectionFields, ...poolFields }

/**
 * @effect/sql-mysql2's names for options of ours, accepted by `MysqlClient` only and mapped onto
 * ours in one place (internal/SqlMysql2Options.ts).
 */
const sqlMysql2Fields = {
  url: Schema.optional(Schema.Union([Schema.String, Schema.Redacted(Schema.String)])),
  username: Schema.optional(Schema.String),
  connectionTTL: Schema.optional(DurationInput),
  poolConfig: Schema.optional(Schema.Struct(poolConfigFields))
}

export const ConnectionOptionsSchema = Schema.Struct(connectionFields)
export const PoolOptionsSchema = Schema.Struct(poolFields)
export const ClientOptionsSchema = Schema.Struct({
  ...connectionFields,
  ...poolFields,
  ...clientFields,
  ...sqlMysql2Fields
} satisfies Fields<MysqlClientOptions>)

/**
 * Other drivers' spellings (mysql2, the mariadb connector, HikariCP-style pools) and what to write
 * here instead, by full option path. A spelling that becomes accepted as a synonym moves from here
 * to the decoder. `username`, `url` and `connectionTTL` stay: `MysqlClient` accepts them as
 * @effect/sql-mysql2 spells them, a single connection and a pool do not.
 */
const hints: Readonly<Record<string, string>> = {
  username: "user",
  pass: "password",
  db: "database",
  schema: "database",
  socket: "socketPath",
  loadBalanceHosts: 'hostOrder ("random")',
  load_balance_hosts: 'hostOrder ("random")',
  target_session_attrs: "targetSessionAttrs",
  url: "MysqlClient.layerFromUrl(url) or MysqlClient.optionsFromUrl(url)",
  uri: "MysqlClient.layerFromUrl(url) or MysqlClient.optionsFromUrl(url)",
  rejectUnauthorized: 'ssl.mode ("verify-identity" checks the certificate and host name, "required" does not)',
  checkServerIdentity: 'ssl.mode ("verify-identity" or "verify-ca")',
  verifyServerCertificate: 'ssl.mode ("verify-identity" or "verify-ca")',
  fingerprint: "ssl.fingerprints",
  cipher: "ssl.ciphers",
  connectionLimit: "maxConnections",
  maxPoolSize: "maxConnections",
  poolSize: "maxConnections",
  minimumIdle: "minConnections",
  minIdle: "minConnections",
  maxIdle: "minConnections",
  connectionTTL: "maxLifetime",
  maxLifetimeMillis: "maxLifetime",
  acquireTimeoutMillis: "acquireTimeout",
  idleTimeoutMillis: "idleTimeout",
  minDelayValidation: "validateAfter",
  resetAfterUse: "resetOnRelease",
  socketTimeout: "readTimeout",
  queryTimeout: "statementTimeout",
  timeout: "statementTimeout",
  enableKeepAlive: "keepAlive",
  keepAliveInitialDelay: "keepAlive",
  keepAliveDelay: "keepAlive",
  compress: 'compression (e.g. { algorithms: ["zlib"] })',
  charset: "collation (a utf8mb4 collation id, default 45)",
  charsetNumber: "collation",
  timezone: "types.timeZone",
  supportBigNumbers: "types.bigint",
  bigNumberStrings: 'types.bigint ("string")',
  bigIntAsNumber: 'types.bigint ("number")',
  decimalNumbers: 'types.decimal ("number")',
  decimalAsNumber: 'types.decimal ("number")',
  dateStrings: 'types.dates ("string")',
  jsonStrings: 'types.json ("string")',
  rsaPublicKey: "serverPublicKey",
  cachingRsaPublicKey: "serverPublicKey",
  permitLocalInfile: "localInfile",
  infileStreamFactory: "localInfile",
  maxPreparedStatements: "statementCacheSize",
  prepareCacheLength: "statementCacheSize",
  maxAllowedPacket: "maxPacketSize",
  multiStatements: "multipleStatements",
  connectionAttributes: "connectAttributes",
  waitForConnections: "acquireTimeout (a borrow always waits for a free connection, up to acquireTimeout)",
  queueLimit: "acquireTimeout (waiting borrows are bounded by time, not by count)"
}

/** Edits (insert, delete, replace, swap two neighbours) between two names. */
const distance = (a: string, b: string): number => {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i + j))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1)
    }
  }
  return d[a.length]![b.length]!
}

/** The option that was probably meant: a known other driver's name, else the closest spelling. */
const suggestion = (prefix: string, key: string, known: ReadonlyArray<string>): string | undefined => {
  const hint = hints[key]
  if (hint !== undefined) return hint
  let best: { readonly name: string; readonly distance: number } | undefined
  for (const name of known) {
    const d = distance(key.toLowerCase(), name.toLowerCase())
    if (d <= Math.max(1, Math.floor(name.length / 3)) && (best === undefined || d < best.distance))
      best = { name, distance: d }
  }
  return best === undefined ? undefined : prefix + best.name
}

type Struct = Schema.ConstraintDecoder<unknown> & { readonly fields: Schema.Struct.Fields }

/** The options that hold options of their own, whose keys are checked too. */
const nested: Readonly<Record<string, Schema.Struct.Fields>> = {
  ssl: sslFields,
  compression: CompressionOptions.fields,
  types: typesFields,
  localInfile: localInfileFields,
  replicaReads: replicaReadFields,
  poolConfig: poolConfigFields
}

const unknownKey = (prefix: string, key: string, known: ReadonlyArray<string>): ConfigError => {
  const option = prefix + key
  if (prefix === "" && (poolKeys.includes(key) || clientKeys.includes(key)))
    return new ConfigError({
      option,
      message: `${option}: is an option of MysqlClient (its pool and effect/sql), not of a single connection`
    })
  const meant = suggestion(prefix, key, known)
  return new ConfigError({
    option,
    message: `${option}: unknown option${meant === undefined ? "." : `; did you mean ${meant}?`} Known${
      prefix === "" ? "" : ` in ${prefix.slice(0, -1)}`
    }: ${known.join(", ")}`
  })
}

const firstUnknownKey = (fields: Schema.Struct.Fields, value: unknown, prefix: string): ConfigError | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const known = Object.keys(fields)
  for (const [key, inner] of Object.entries(value)) {
    if (!Object.hasOwn(fields, key)) return unknownKey(prefix, key, known)
    const inside = prefix === "" ? nested[key] : undefined
    const found = inside === undefined ? undefined : firstUnknownKey(inside, inner, `${key}.`)
    if (found !== undefined) return found
  }
  return undefined
}

/** The path of the first failing value, through structs and unions. */
const pathOf = (issue: SchemaIssue.Issue): Array<PropertyKey> => {
  if (issue._tag === "Pointer") return [...issue.path, ...pathOf(issue.issue)]
  if ((issue._tag === "Composite" || issue._tag === "AnyOf") && issue.issues.length > 0) return pathOf(issue.issues[0])
  return []
}

/**
 * Checks `input` against one of the schemas above: the first unknown key, or the first value of
 * the wrong type, is refused, naming the option.
 */
export const decodeOptions = (schema: Struct, input: unknown): Result.Result<void, ConfigError> => {
  if (typeof input !== "object" || input === null)
    return Result.fail(new ConfigError({ option: "options", message: "options: expected an object of options" }))
  const unknown = firstUnknownKey(schema.fields, input, "")
  if (unknown !== undefined) return Result.fail(unknown)
  const decoded = Schema.decodeUnknownResult(schema)(input)
  if (Result.isSuccess(decoded)) return Result.void
  const option = pathOf(decoded.failure.issue).map(String).join(".") || "options"
  const reason = decoded.failure.message.split("\n")[0]!
  return Result.fail(new ConfigError({ option, message: `${option}: ${reason}` }))
}
