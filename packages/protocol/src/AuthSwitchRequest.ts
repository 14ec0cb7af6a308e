/**
 * AuthSwitchRequest: the server asks the client to authenticate with another plugin, giving that
 * plugin's data (usually a fresh scramble). The client answers with an AuthSwitchResponse.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_auth_switch_request.html
 *        https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_auth_switch_response.html
 * MariaDB: https://mariadb.com/kb/en/connection/#authentication-switch-request
 *
 * ```
 * int<1>      status        // [1 byte] 0xFE
 * string<NUL> plugin name
 * string<EOF> plugin data   // e.g. a 20-byte scramble and a NUL for mysql_native_password
 * ```
 *
 * The pre-4.1 "old password" switch, a lone 0xFE byte (MySQL: "Old Authentication Method Switch
 * Request"), decodes as a switch to `mysql_old_password` with no plugin data (the plugin then uses
 * the greeting's scramble). Both forms are data here: refusing the plugin is the client's decision,
 * which can then name it; a server or proxy built on this codec can send and read either.
 *
 * AuthSwitchResponse (client to server): `string<EOF>` auth response data.
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Schema } from "effect"
import { define, type PacketCodec, restBytes } from "./Packet.ts"

/** The plugin a lone 0xFE (the pre-4.1 auth switch) asks for. */
const OLD_PASSWORD_PLUGIN = "mysql_old_password"

/** The decoded auth switch request. */
export const AuthSwitchRequestSchema: Schema.Struct<{
  readonly _tag: Schema.tag<"AuthSwitchRequest">
  readonly pluginName: Schema.String
  /** The plugin's data as sent (for the scramble-based plugins: scramble + NUL). */
  readonly pluginData: Schema.Uint8Array
}> = Schema.Struct({
  _tag: Schema.tag("AuthSwitchRequest"),
  pluginName: Schema.String,
  pluginData: Schema.Uint8Array
})

export type AuthSwitchRequest = typeof AuthSwitchRequestSchema.Type

/** The auth switch request codec. */
export const AuthSwitchRequest: PacketCodec<AuthSwitchRequest> = define(
  "AuthSwitchRequest",
  AuthSwitchRequestSchema,
  (L) => [
    L.tag("AuthSwitchRequest"),
    L.header("status", 0xfe),
    L.custom(
      "pluginName",
      (r, acc) => {
        acc.pluginName = r.atEnd() ? OLD_PASSWORD_PLUGIN : r.nulString()
      },
      (w, v) => {
        w.nulString(v.pluginName)
      }
    ),
    L.field("pluginData", restBytes)
  ],
  { tag: "AuthSwitchRequest" }
)

/**
 * The plugin data without its trailing NUL: the scramble a plugin works with (the NUL terminates the
 * 20-byte scramble of mysql_native_password and caching_sha2_password).
 */
export const authSwitchScramble = (request: { readonly pluginData: Uint8Array }): Uint8Array => {
  const d = request.pluginData
  return d.length > 0 && d[d.length - 1] === 0 ? d.subarray(0, d.length - 1) : d
}

/** The decoded auth switch response (or any auth data the client sends during the exchange). */
export const AuthSwitchResponseSchema: Schema.Struct<{
  readonly _tag: Schema.tag<"AuthSwitchResponse">
  readonly data: Schema.Uint8Array
}> = Schema.Struct({
  _tag: Schema.tag("AuthSwitchResponse"),
  data: Schema.Uint8Array
})

export type AuthSwitchResponse = typeof AuthSwitchResponseSchema.Type

/** The auth switch response codec: the payload is the data. */
export const AuthSwitchResponse: PacketCodec<AuthSwitchResponse> = define(
  "AuthSwitchResponse",
  AuthSwitchResponseSchema,
  (L) => [L.tag("AuthSwitchResponse"), L.field("data", restBytes)],
  { tag: "AuthSwitchResponse" }
)
