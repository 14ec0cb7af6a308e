/**
 * CompressedConnection: a byte connection with the compressed protocol underneath. Reads answer
 * uncompressed bytes, writes take the MySQL packet stream and send compressed packets; whatever
 * else the connection offers passes through unchanged.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_compression.html
 *
 * It goes around the transport's `Connection` after the handshake's final OK: on the wire, packets
 * are compressed first, then encrypted by TLS. Only `read` and `write` are needed of the
 * connection, so anything with those two members can be wrapped (a transport connection, a test
 * pipe); its other members (`info`, `close`, …) are carried over as they are. The package does not
 * depend on the transport: `ByteConnection` and `OperationOptions` describe those two members, and
 * the transport's `Connection` fits them structurally.
 *
 * One reader and one writer at a time, as on the connection underneath. The reader decompresses one
 * compressed packet per `read`, and reads from the connection only when nothing decoded is left,
 * so memory stays bounded by one compressed packet and one connection chunk. A `read`'s options
 * (its deadline) apply to each read underneath: the deadline is for the peer to make progress.
 *
 * @module
 */
import type { ProtocolError } from "@effect-mysql/protocol"
import { type Duration, Effect, Result } from "effect"
import { CompressedPacketDecoder, type CompressedPacketDecoderOptions } from "./CompressedPacketDecoder.ts"
import { CompressedPacketEncoder, type CompressedPacketEncoderOptions } from "./CompressedPacketEncoder.ts"
import { type CompressionAlgorithm, type CompressionCodec, CompressionCodecs } from "./CompressionCodec.ts"

/** The options of one `read` or `write`, as the transport's `OperationOptions`; passed on as they are. */
export interface OperationOptions {
  /** Overrides the connection's default deadline for this one operation (undefined keeps it). */
  readonly timeout?: Duration.Input | undefined
}

/** What the compressed protocol needs of a connection: the `read` and `write` of the transport's `Connection`. */
export interface ByteConnection<E> {
  /** The next bytes that arrived (of any size). */
  readonly read: (options?: OperationOptions) => Effect.Effect<Uint8Array, E>
  /** Writes `bytes` (the caller does not modify them afterwards). */
  readonly write: (bytes: Uint8Array, options?: OperationOptions) => Effect.Effect<void, E>
}

/** The compression in effect on a connection. */
export interface CompressionInfo {
  readonly algorithm: CompressionAlgorithm
  readonly level: number
}

/** `C` (whose reads and writes fail with `E`) with both going through the compressed protocol. */
export type Compressed<C, E> = Omit<C, "read" | "write" | "compression" | "compressedSequenceId"> &
  ByteConnection<E | ProtocolError> & {
    readonly compression: CompressionInfo
    /**
     * The compressed sequence id the next compressed packet carries, either way. The server
     * numbers the MySQL packets of its answer from it (it re-synchronises its packet counter with
     * the compressed one after every read), so the packet reader expects that id after a write.
     */
    readonly compressedSequenceId: () => number
  }

/** Options of `wrap` and `make`. */
export interface CompressedConnectionOptions extends CompressedPacketDecoderOptions, CompressedPacketEncoderOptions {}

/**
 * Wraps `connection` with the compressed protocol of `codec`. The compressed sequence id starts at
 * 0 and restarts with each command written (see `CompressedPacketEncoder`).
 */
export const wrap = <C, E>(
  connection: C & ByteConnection<E>,
  codec: CompressionCodec,
  options: CompressedConnectionOptions = {}
): Compressed<C, E> => {
  const decoder = new CompressedPacketDecoder(codec, options)
  const encoder = new CompressedPacketEncoder(codec, options)
  const read = (options?: OperationOptions): Effect.Effect<Uint8Array, E | ProtocolError> =>
    Effect.gen(function* () {
      while (true) {
        const next = decoder.next()
        if (Result.isFailure(next)) return yield* next.failure
        if (next.success !== undefined) {
          encoder.sequenceId = decoder.nextSequenceId
          return next.success
        }
        decoder.push(yield* connection.read(options))
      }
    })
  const write = (bytes: Uint8Array, options?: OperationOptions): Effect.Effect<void, E> =>
    Effect.gen(function* () {
      for (const packet of encoder.encode(bytes)) yield* connection.write(packet, options)
      decoder.expectSequenceId(encoder.sequenceId)
    })
  return {
    ...connection,
    read,
    write,
    compression: { algorithm: codec.algorithm, level: codec.level },
    compressedSequenceId: () => encoder.sequenceId
  }
}

/** Wraps `connection` with the codec that `CompressionCodecs` provides for `compression`. */
export const make = <C, E>(
  connection: C & ByteConnection<E>,
  compression: CompressionInfo,
  options: CompressedConnectionOptions = {}
): Effect.Effect<Compressed<C, E>, never, CompressionCodecs> =>
  Effect.map(Effect.service(CompressionCodecs), (codecs) =>
    wrap(connection, codecs.make(compression.algorithm, compression.level), options)
  )
