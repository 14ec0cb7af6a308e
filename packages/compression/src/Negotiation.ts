/**
 * Negotiation: which compression a connection uses, decided from the server's greeting and the
 * caller's options before the handshake response is written.
 *
 * MySQL: https://dev.mysql.com/doc/refman/8.4/en/connection-compression-control.html
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_compression.html
 * MariaDB: https://mariadb.com/kb/en/connection/#capabilities
 *
 * A server offers zlib with CLIENT_COMPRESS and zstd with CLIENT_ZSTD_COMPRESSION_ALGORITHM (MySQL
 * ≥ 8.0.18; MariaDB has only zlib). The client answers with the one flag it chose, plus, for zstd,
 * the level byte at the end of HandshakeResponse41 (`zstdCompressionLevel`). Compression starts
 * after the server's final OK of the handshake, both ways.
 *
 * The caller lists what it accepts, in order of preference: the first entry the server offers wins,
 * `"uncompressed"` always matches. When nothing matches the connection goes uncompressed, unless
 * `required` is set: then the answer is a `CompressionNegotiationError`, before anything of the
 * authentication is written.
 *
 * Pure code: plain data in and out; no IO.
 *
 * @module
 */
import { Capability } from "@effect-mysql/protocol"
import { type Cause, Result, Schema } from "effect"
import { type CompressionAlgorithm, DEFAULT_ZLIB_LEVEL, DEFAULT_ZSTD_LEVEL, LEVELS } from "./CompressionCodec.ts"

/** An entry of `algorithms`: a compression algorithm, or `"uncompressed"` to accept none. */
export const AlgorithmChoice: Schema.Literals<readonly ["zstd", "zlib", "uncompressed"]> = Schema.Literals([
  "zstd",
  "zlib",
  "uncompressed"
])

export type AlgorithmChoice = typeof AlgorithmChoice.Type

const level = (algorithm: CompressionAlgorithm): Schema.Int =>
  Schema.Int.check(Schema.isBetween({ minimum: LEVELS[algorithm].min, maximum: LEVELS[algorithm].max }))

/** The `compression` options of a connection. */
export const CompressionOptions: Schema.Struct<{
  /** Acceptable algorithms, preferred first (default `["zstd", "zlib"]`). */
  readonly algorithms: Schema.optionalKey<Schema.$Array<typeof AlgorithmChoice>>
  /** zstd level, 1–22 (default 3), sent to the server, which compresses its side at that level too. */
  readonly zstdLevel: Schema.optionalKey<Schema.Int>
  /** zlib level for what this client writes, 1–9 (default 6); the server keeps its own. */
  readonly zlibLevel: Schema.optionalKey<Schema.Int>
  /** Fail instead of going uncompressed when nothing listed matches (default `false`). */
  readonly required: Schema.optionalKey<Schema.Boolean>
}> = Schema.Struct({
  algorithms: Schema.optionalKey(Schema.Array(AlgorithmChoice)),
  zstdLevel: Schema.optionalKey(level("zstd")),
  zlibLevel: Schema.optionalKey(level("zlib")),
  required: Schema.optionalKey(Schema.Boolean)
})

export type CompressionOptions = typeof CompressionOptions.Type

/** Acceptable algorithms when the options list none. */
export const DEFAULT_ALGORITHMS: ReadonlyArray<AlgorithmChoice> = ["zstd", "zlib"]

/** What the negotiation decided. */
export interface CompressionNegotiation {
  readonly algorithm: CompressionAlgorithm | "uncompressed"
  /** The level this side compresses with; 0 when uncompressed. */
  readonly level: number
  /** `CLIENT_*` flags to add to the handshake response: the chosen algorithm's flag, or 0. */
  readonly clientFlags: number
  /** For zstd: the handshake response's `zstdCompressionLevel` byte. */
  readonly zstdCompressionLevel?: number
}

const CompressionNegotiationErrorBase: Schema.Class<
  CompressionNegotiationError,
  Schema.TaggedStruct<
    "CompressionNegotiationError",
    {
      readonly reason: Schema.Literals<readonly ["unsupported", "options"]>
      /** The algorithms the caller listed. */
      readonly requested: Schema.$Array<Schema.String>
      /** The algorithms the server offered. */
      readonly offered: Schema.$Array<Schema.String>
      readonly message: Schema.String
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<CompressionNegotiationError>()("CompressionNegotiationError", {
  reason: Schema.Literals(["unsupported", "options"]),
  requested: Schema.Array(Schema.String),
  offered: Schema.Array(Schema.String),
  message: Schema.String
})

/** Compression could not be agreed on, or the options asking for it are not valid. */
export class CompressionNegotiationError extends CompressionNegotiationErrorBase {}

/** The compression algorithms a capability set offers (a greeting) or selects (a handshake response). */
export const offeredAlgorithms = (capabilities: number): Array<CompressionAlgorithm> => {
  const offered: Array<CompressionAlgorithm> = []
  if ((capabilities & Capability.CLIENT_ZSTD_COMPRESSION_ALGORITHM) !== 0) offered.push("zstd")
  if ((capabilities & Capability.CLIENT_COMPRESS) !== 0) offered.push("zlib")
  return offered
}

/**
 * The algorithm a handshake response's flags select, as a server reads them: zlib when
 * CLIENT_COMPRESS is set (even with CLIENT_ZSTD_COMPRESSION_ALGORITHM beside it), else zstd when
 * that flag is set, else none.
 */
export const selectedAlgorithm = (clientCapabilities: number): CompressionAlgorithm | "uncompressed" =>
  (clientCapabilities & Capability.CLIENT_COMPRESS) !== 0
    ? "zlib"
    : (clientCapabilities & Capability.CLIENT_ZSTD_COMPRESSION_ALGORITHM) !== 0
      ? "zstd"
      : "uncompressed"

const decodeOptions = Schema.decodeUnknownResult(CompressionOptions)

const flagOf: Record<CompressionAlgorithm, number> = {
  zlib: Capability.CLIENT_COMPRESS,
  zstd: Capability.CLIENT_ZSTD_COMPRESSION_ALGORITHM
}

/**
 * Decides the compression of a connection from the greeting's `CLIENT_*` flags and the caller's
 * options. The client adds `clientFlags` to its handshake response (and must not set either
 * compression flag otherwise) and, for zstd, writes `zstdCompressionLevel`.
 */
export const negotiate = (
  serverCapabilities: number,
  options: CompressionOptions
): Result.Result<CompressionNegotiation, CompressionNegotiationError> => {
  const offered = offeredAlgorithms(serverCapabilities)
  const decoded = decodeOptions(options)
  if (Result.isFailure(decoded)) {
    return Result.fail(
      new CompressionNegotiationError({
        reason: "options",
        requested: [],
        offered,
        message: `invalid compression options: ${decoded.failure.message}`
      })
    )
  }
  const requested = decoded.success.algorithms ?? DEFAULT_ALGORITHMS
  const chosen = requested.find((choice) => choice === "uncompressed" || offered.includes(choice))
  if (chosen === "zstd") {
    const zstdLevel = decoded.success.zstdLevel ?? DEFAULT_ZSTD_LEVEL
    return Result.succeed({
      algorithm: "zstd",
      level: zstdLevel,
      clientFlags: flagOf.zstd,
      zstdCompressionLevel: zstdLevel
    })
  }
  if (chosen === "zlib") {
    return Result.succeed({
      algorithm: "zlib",
      level: decoded.success.zlibLevel ?? DEFAULT_ZLIB_LEVEL,
      clientFlags: flagOf.zlib
    })
  }
  if (chosen === undefined && decoded.success.required === true) {
    return Result.fail(
      new CompressionNegotiationError({
        reason: "unsupported",
        requested: [...requested],
        offered,
        message: `compression is required but the server offers ${offered.length === 0 ? "none" : offered.join(", ")}, and the options accept ${requested.length === 0 ? "none" : requested.join(", ")}`
      })
    )
  }
  return Result.succeed({ algorithm: "uncompressed", level: 0, clientFlags: 0 })
}
