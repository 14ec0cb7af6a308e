/**
 * AuthNextFactor: MySQL multi-factor authentication; after one factor succeeded, the server asks
 * for the next one with its plugin and data.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_auth_next_factor_request.html
 *
 * ```
 * int<1>      status        // [1 byte] 0x02
 * string<NUL> plugin name
 * string<EOF> plugin data
 * ```
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Schema } from "effect"
import { define, nulString, type PacketCodec, restBytes } from "./Packet.ts"

/** The decoded AuthNextFactor packet. */
export const AuthNextFactorSchema: Schema.Struct<{
  readonly _tag: Schema.tag<"AuthNextFactor">
  readonly pluginName: Schema.String
  readonly pluginData: Schema.Uint8Array
}> = Schema.Struct({
  _tag: Schema.tag("AuthNextFactor"),
  pluginName: Schema.String,
  pluginData: Schema.Uint8Array
})

export type AuthNextFactor = typeof AuthNextFactorSchema.Type

/** The AuthNextFactor codec. */
export const AuthNextFactor: PacketCodec<AuthNextFactor> = define(
  "AuthNextFactor",
  AuthNextFactorSchema,
  (L) => [
    L.tag("AuthNextFactor"),
    L.header("status", 0x02),
    L.field("pluginName", nulString),
    L.field("pluginData", restBytes)
  ],
  { tag: "AuthNextFactor" }
)
