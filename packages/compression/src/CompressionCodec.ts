/**
 * CompressionCodec: the two algorithms of MySQL's compressed protocol, zlib (RFC 1950) and zstd
 * (RFC 8878), taken from the runtime's own `node:zlib` (Node ≥ 22.19, Deno and Bun all have both).
 *
 * MySQL: https://dev.mysql.com/doc/refman/8.4/en/connection-compression-control.html
 *
 * Every call is synchronous, one compressed packet at a time. Measured with `bench/codecs.ts` on
 * result rows of 200 B – 16 KiB (the sizes servers send), the synchronous calls took 1.2–7x less
 * time than the callback forms on Node 24 and 1.1–14x less on Bun, and were about even on Deno
 * (0.7–1.8x): the thread-pool round trip costs more than the work. Writes are cut at 1 MiB
 * (`CompressedPacketEncoder`) so that one call holds the event loop for milliseconds, not for the
 * 0.4 s zlib takes over 16 MiB.
 *
 * Decompression is where a hostile peer attacks, so it is bounded by the header's claim: the
 * output may not exceed `uncompressedLength` (`maxOutputLength` stops the inflater there, whatever
 * the input would expand to) and must reach it exactly. A bomb costs one `ProtocolError`.
 *
 * @module
 */

import * as Zlib from "node:zlib"
import { type ProtocolError, protocolError } from "@effect-mysql/protocol"
import { Context, Layer, Result } from "effect"

/** A compression algorithm of the compressed protocol. */
export type CompressionAlgorithm = "zlib" | "zstd"

/** One algorithm at one level: bytes in, bytes out. */
export interface CompressionCodec {
  readonly algorithm: CompressionAlgorithm
  readonly level: number
  /** Compresses a whole payload. */
  readonly compress: (input: Uint8Array) => Uint8Array
  /**
   * Decompresses a payload whose header claims `uncompressedLength` bytes: exactly that many, or a
   * `ProtocolError` (more, fewer, or not valid data), never more memory than the claim.
   */
  readonly decompress: (input: Uint8Array, uncompressedLength: number) => Result.Result<Uint8Array, ProtocolError>
}

/** zlib's default level, the one libmysqlclient compresses with. */
export const DEFAULT_ZLIB_LEVEL = 6

/** MySQL's default `zstd_compression_level`. */
export const DEFAULT_ZSTD_LEVEL = 3

/** Levels each algorithm accepts, as MySQL bounds them (zstd's level travels in one byte). */
export const LEVELS: Readonly<Record<CompressionAlgorithm, { readonly min: number; readonly max: number }>> = {
  zlib: { min: 1, max: 9 },
  zstd: { min: 1, max: 22 }
}

const PACKET = "CompressedPacket"

type Decompressor = (input: Uint8Array, options: { maxOutputLength: number }) => Uint8Array

const bounded =
  (algorithm: CompressionAlgorithm, decompressor: Decompressor) =>
  (input: Uint8Array, uncompressedLength: number): Result.Result<Uint8Array, ProtocolError> => {
    let output: Uint8Array
    try {
      output = decompressor(input, { maxOutputLength: uncompressedLength })
    } catch (cause) {
      // node:zlib reports the bound as a RangeError (ERR_BUFFER_TOO_LARGE) on every runtime.
      const message =
        cause instanceof RangeError
          ? `${algorithm} payload expands beyond the ${uncompressedLength} bytes its header claims`
          : `${algorithm} payload is not valid: ${cause instanceof Error ? cause.message : String(cause)}`
      return Result.fail(protocolError(PACKET, message, "compressed payload"))
    }
    // Some runtimes answer a truncated zstd frame with fewer bytes instead of an error.
    if (output.length !== uncompressedLength) {
      return Result.fail(
        protocolError(
          PACKET,
          `${algorithm} payload expands to ${output.length} bytes, its header claims ${uncompressedLength}`,
          "length of uncompressed payload"
        )
      )
    }
    return Result.succeed(output)
  }

/** zlib (RFC 1950: a deflate stream with its 2-byte header and Adler-32), as MySQL's `compress()` writes it. */
export const zlib = (level: number = DEFAULT_ZLIB_LEVEL): CompressionCodec => ({
  algorithm: "zlib",
  level,
  compress: (input) => Zlib.deflateSync(input, { level }),
  decompress: bounded("zlib", Zlib.inflateSync)
})

interface BunZstd {
  readonly zstdCompressSync: (input: Uint8Array, options: { level: number }) => Uint8Array
}

// On Bun, Bun's own zstd compresses 1.6–2.3x faster than Bun's node:zlib one on 200 B – 16 KiB and
// as fast at 1 MiB (bench/codecs.ts, Bun 1.4.5). Its decompressor has no output bound, so
// decompression stays on node:zlib everywhere.
const bunZstd = (globalThis as { readonly Bun?: Partial<BunZstd> }).Bun?.zstdCompressSync

/** zstd (RFC 8878), one frame per compressed packet. */
export const zstd = (level: number = DEFAULT_ZSTD_LEVEL): CompressionCodec => {
  const params = { [Zlib.constants.ZSTD_c_compressionLevel]: level }
  return {
    algorithm: "zstd",
    level,
    compress:
      bunZstd === undefined
        ? (input) => Zlib.zstdCompressSync(input, { params })
        : (input) => bunZstd(input, { level }),
    decompress: bounded("zstd", Zlib.zstdDecompressSync)
  }
}

/** zlib and zstd from `node:zlib` (and Bun's zstd compressor). */
export const nodeCodecs: CompressionCodecs["Service"] = {
  make: (algorithm, level) => (algorithm === "zlib" ? zlib(level) : zstd(level))
}

const CompressionCodecsBase: Context.ServiceClass<
  CompressionCodecs,
  "@effect-mysql/compression/CompressionCodecs",
  {
    /** The codec of `algorithm` at `level` (the algorithm's default level when left out). */
    readonly make: (algorithm: CompressionAlgorithm, level?: number) => CompressionCodec
  }
> = Context.Service<CompressionCodecs, CompressionCodecs["Service"]>()("@effect-mysql/compression/CompressionCodecs")

/**
 * The codecs a connection compresses with. The default layer takes them from `node:zlib`
 * (`nodeCodecs`); a test or an embedder may provide others (a WebAssembly zstd, a counting wrapper).
 */
export class CompressionCodecs extends CompressionCodecsBase {
  static readonly layer: Layer.Layer<CompressionCodecs> = Layer.succeed(CompressionCodecs, nodeCodecs)
}
