/**
 * SslRequest: the 32-byte packet a client sends instead of its handshake response when it wants
 * TLS; the TLS handshake starts right after it on the same connection, and the full handshake
 * response follows inside the tunnel with the next sequence id.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_ssl_request.html
 * MariaDB: https://mariadb.com/kb/en/connection/#sslrequest-packet
 *
 * ```
 * int<4>     client capabilities   // [4 bytes] with CLIENT_SSL
 * int<4>     max packet size       // [4 bytes]
 * int<1>     character set         // [1 byte]
 * string[23] filler                // MariaDB (CLIENT_MYSQL cleared): string[19] + int<4> extended capabilities
 * ```
 *
 * It is exactly the first 32 bytes of HandshakeResponse41.
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Schema } from "effect"
import { Capability } from "./Capabilities.ts"
import type { HandshakeResponse41 } from "./HandshakeResponse41.ts"
import { ownFlagClear } from "./internal/conditions.ts"
import { define, int1, int4, type PacketCodec, UInt8, UInt32 } from "./Packet.ts"

/** Length of the SSL Request payload. */
export const SSL_REQUEST_LENGTH = 32

/** The decoded SSL Request. */
export const SslRequestSchema: Schema.Struct<{
  readonly capabilities: typeof UInt32
  readonly maxPacketSize: typeof UInt32
  readonly characterSet: typeof UInt8
  /** Present when the client cleared CLIENT_MYSQL (talking to MariaDB). */
  readonly mariadbCapabilities: Schema.optionalKey<typeof UInt32>
}> = Schema.Struct({
  capabilities: UInt32,
  maxPacketSize: UInt32,
  characterSet: UInt8,
  mariadbCapabilities: Schema.optionalKey(UInt32)
})

export type SslRequest = typeof SslRequestSchema.Type

/** The SSL Request codec. */
export const SslRequest: PacketCodec<SslRequest> = define(
  "SslRequest",
  SslRequestSchema,
  (L) => [
    L.field("capabilities", int4),
    L.field("maxPacketSize", int4),
    L.field("characterSet", int1),
    L.choose(
      ownFlagClear(Capability.CLIENT_MYSQL),
      [L.zeros("filler", 19), L.field("mariadbCapabilities", int4)],
      [L.zeros("filler", 23)]
    )
  ],
  { capacity: SSL_REQUEST_LENGTH }
)

/** The SSL Request that goes before `response`: its first fields, with CLIENT_SSL set. */
export const sslRequestFor = (response: HandshakeResponse41): SslRequest => ({
  capabilities: (response.capabilities | Capability.CLIENT_SSL) >>> 0,
  maxPacketSize: response.maxPacketSize,
  characterSet: response.characterSet,
  ...(response.mariadbCapabilities === undefined ? {} : { mariadbCapabilities: response.mariadbCapabilities })
})

/**
 * Server side: `true` when a payload received in place of a handshake response is an SSL Request
 * (32 bytes with CLIENT_SSL).
 */
export const isSslRequest = (payload: Uint8Array): boolean =>
  payload.length === SSL_REQUEST_LENGTH && (payload[1] & (Capability.CLIENT_SSL >>> 8)) !== 0
