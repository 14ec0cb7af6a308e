/**
 * HandshakeResponse41: the client's answer to the greeting (user, auth response, database, plugin,
 * connection attributes, zstd level).
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_response.html
 * MariaDB: https://mariadb.com/kb/en/connection/#handshake-response-packet
 *
 * ```
 * int<4>     client capabilities          // [4 bytes] the packet's own flags drive its layout
 * int<4>     max packet size              // [4 bytes]
 * int<1>     character set                // [1 byte]  collation id
 * string[23] filler                       // MySQL: 23 zero bytes; MariaDB (CLIENT_MYSQL cleared):
 *                                         //   string[19] filler + int<4> extended capabilities
 * string<NUL> username
 * if CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA:
 *   string<lenenc> auth response
 * else if CLIENT_SECURE_CONNECTION:
 *   int<1> length [1 byte], string[length] auth response
 * else:
 *   string<NUL> auth response
 * if CLIENT_CONNECT_WITH_DB:  string<NUL> database
 * if CLIENT_PLUGIN_AUTH:      string<NUL> client plugin name
 * if CLIENT_CONNECT_ATTRS:    int<lenenc> length of all key-values, then string<lenenc> key,
 *                             string<lenenc> value, …
 * if CLIENT_ZSTD_COMPRESSION_ALGORITHM: int<1> zstd compression level [1 byte]
 * ```
 *
 * Its first 32 bytes are exactly the SSL Request (see `SslRequest.ts`).
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Schema } from "effect"
import { Capability } from "./Capabilities.ts"
import { ownFlag, ownFlagClear } from "./internal/conditions.ts"
import { authResponse1, authResponseNul, connectAttributes } from "./internal/fields.ts"
import { define, int1, int4, lenencBytesCopy, nulString, type PacketCodec, UInt8, UInt32 } from "./Packet.ts"

/** Connection attributes as sent: key/value pairs in order. */
export const ConnectAttributesSchema: Schema.$Array<Schema.Tuple<readonly [Schema.String, Schema.String]>> =
  Schema.Array(Schema.Tuple([Schema.String, Schema.String]))

export type ConnectAttributes = typeof ConnectAttributesSchema.Type

/** The decoded handshake response. */
export const HandshakeResponse41Schema: Schema.Struct<{
  readonly capabilities: typeof UInt32
  readonly maxPacketSize: typeof UInt32
  readonly characterSet: typeof UInt8
  /** Present when the client cleared CLIENT_MYSQL (talking to MariaDB). */
  readonly mariadbCapabilities: Schema.optionalKey<typeof UInt32>
  readonly username: Schema.String
  readonly authResponse: Schema.Uint8Array
  /** Present with CLIENT_CONNECT_WITH_DB. */
  readonly database: Schema.optionalKey<Schema.String>
  /** Present with CLIENT_PLUGIN_AUTH. */
  readonly authPluginName: Schema.optionalKey<Schema.String>
  /** Present with CLIENT_CONNECT_ATTRS. */
  readonly connectAttributes: Schema.optionalKey<typeof ConnectAttributesSchema>
  /** Present with CLIENT_ZSTD_COMPRESSION_ALGORITHM. */
  readonly zstdCompressionLevel: Schema.optionalKey<typeof UInt8>
}> = Schema.Struct({
  capabilities: UInt32,
  maxPacketSize: UInt32,
  characterSet: UInt8,
  mariadbCapabilities: Schema.optionalKey(UInt32),
  username: Schema.String,
  authResponse: Schema.Uint8Array,
  database: Schema.optionalKey(Schema.String),
  authPluginName: Schema.optionalKey(Schema.String),
  connectAttributes: Schema.optionalKey(ConnectAttributesSchema),
  zstdCompressionLevel: Schema.optionalKey(UInt8)
})

export type HandshakeResponse41 = typeof HandshakeResponse41Schema.Type

/** The handshake response codec. */
export const HandshakeResponse41: PacketCodec<HandshakeResponse41> = define(
  "HandshakeResponse41",
  HandshakeResponse41Schema,
  (L) => [
    L.field("capabilities", int4),
    L.field("maxPacketSize", int4),
    L.field("characterSet", int1),
    L.choose(
      ownFlagClear(Capability.CLIENT_MYSQL),
      [L.zeros("filler", 19), L.field("mariadbCapabilities", int4)],
      [L.zeros("filler", 23)]
    ),
    L.field("username", nulString),
    L.choose(
      ownFlag(Capability.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA),
      [L.field("authResponse", lenencBytesCopy)],
      [
        L.choose(
          ownFlag(Capability.CLIENT_SECURE_CONNECTION),
          [L.field("authResponse", authResponse1)],
          [L.field("authResponse", authResponseNul)]
        )
      ]
    ),
    L.when(ownFlag(Capability.CLIENT_CONNECT_WITH_DB), L.field("database", nulString)),
    L.when(ownFlag(Capability.CLIENT_PLUGIN_AUTH), L.field("authPluginName", nulString)),
    // libmariadb announces CLIENT_CONNECT_ATTRS and leaves the field out when it has no attributes;
    // servers read it only when bytes remain, and so does this codec.
    L.when(
      ownFlag(Capability.CLIENT_CONNECT_ATTRS),
      L.custom(
        "connectAttributes",
        (r, acc) => {
          if (!r.atEnd()) acc.connectAttributes = connectAttributes.read(r)
        },
        (w, v) => {
          if (v.connectAttributes !== undefined) connectAttributes.write(w, v.connectAttributes)
        }
      )
    ),
    L.when(ownFlag(Capability.CLIENT_ZSTD_COMPRESSION_ALGORITHM), L.field("zstdCompressionLevel", int1))
  ],
  { capacity: 128 }
)
