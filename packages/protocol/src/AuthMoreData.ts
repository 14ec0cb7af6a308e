/**
 * AuthMoreData: extra data from the server's authentication plugin during the exchange
 * (caching_sha2_password's fast-auth result 0x03 / full-auth request 0x04, an RSA public key, …).
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_auth_more_data.html
 * MariaDB: https://mariadb.com/kb/en/connection/#authentication-more-data
 *
 * ```
 * int<1>      status   // [1 byte] 0x01
 * string<EOF> data
 * ```
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Schema } from "effect"
import { define, type PacketCodec, restBytes } from "./Packet.ts"

/** The decoded AuthMoreData packet. */
export const AuthMoreDataSchema: Schema.Struct<{
  readonly _tag: Schema.tag<"AuthMoreData">
  readonly data: Schema.Uint8Array
}> = Schema.Struct({
  _tag: Schema.tag("AuthMoreData"),
  data: Schema.Uint8Array
})

export type AuthMoreData = typeof AuthMoreDataSchema.Type

/** The AuthMoreData codec. */
export const AuthMoreData: PacketCodec<AuthMoreData> = define(
  "AuthMoreData",
  AuthMoreDataSchema,
  (L) => [L.tag("AuthMoreData"), L.header("status", 0x01), L.field("data", restBytes)],
  { tag: "AuthMoreData" }
)
