/**
 * @effect-mysql/compression — MySQL's compressed protocol (zlib and zstd) around a byte connection.
 *
 * The pure parts (header, decoder, encoder, negotiation) take and return `Uint8Array` and plain
 * data; `CompressionCodecs` wraps the runtime's `node:zlib`; `CompressedConnection` puts the two
 * around a connection.
 *
 * @module
 */
export * as CompressedConnection from "./CompressedConnection.ts"
export * from "./CompressedPacket.ts"
export * from "./CompressedPacketDecoder.ts"
export * from "./CompressedPacketEncoder.ts"
export * from "./CompressionCodec.ts"
export * from "./Negotiation.ts"
