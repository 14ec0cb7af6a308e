/**
 * HandshakeV10: the server greeting, the first packet of every connection.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html
 * MariaDB: https://mariadb.com/kb/en/connection/#initial-handshake-packet
 *
 * ```
 * int<1>     protocol version            // [1 byte]  always 10
 * string<NUL> server version             // MariaDB: "5.5.5-" + real version
 * int<4>     connection id               // [4 bytes]
 * string[8]  auth-plugin-data-part-1     // [8 bytes] first 8 bytes of the scramble
 * int<1>     filler                      // [1 byte]  0x00
 * int<2>     capability flags (lower)    // [2 bytes]
 * int<1>     character set               // [1 byte]  server default collation id
 * int<2>     status flags                // [2 bytes]
 * int<2>     capability flags (upper)    // [2 bytes]
 * int<1>     auth plugin data length     // [1 byte]  0 without CLIENT_PLUGIN_AUTH
 * string[10] reserved                    // MySQL: 10 zero bytes; MariaDB (CLIENT_MYSQL cleared):
 *                                        //   string[6] filler + int<4> extended capabilities
 * if CLIENT_SECURE_CONNECTION:
 *   string[$len] auth-plugin-data-part-2 // $len = max(13, auth plugin data length - 8); the scramble's
 *                                        //   rest followed by a NUL
 * if CLIENT_PLUGIN_AUTH:
 *   string<NUL> auth plugin name         // some servers leave out the final NUL
 * ```
 *
 * Decoded, the two halves of the capability flags are one number and the two parts of the scramble
 * one `authPluginData` (part 2's terminating NUL dropped, so encoding needs 8 + $len - 1 bytes, or
 * 8 + $len when the last one is not NUL). A protocol version 9 greeting (servers before
 * 4.1) is refused as unsupported.
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Schema } from "effect"
import { Capability } from "./Capabilities.ts"
import { ownFlag, ownFlagClear } from "./internal/conditions.ts"
import {
  define,
  int1,
  int2,
  int4,
  nulOrEndString,
  nulString,
  type PacketCodec,
  UInt8,
  UInt16,
  UInt32
} from "./Packet.ts"
import { WireError } from "./Wire.ts"

/** The only protocol version supported. */
export const PROTOCOL_VERSION = 10

/** The decoded greeting. */
export const HandshakeV10Schema: Schema.Struct<{
  readonly protocolVersion: typeof UInt8
  readonly serverVersion: Schema.String
  readonly connectionId: typeof UInt32
  /** The scramble (nonce): 20 bytes from MySQL and MariaDB, without its terminating NUL. */
  readonly authPluginData: Schema.Uint8Array
  /** `CLIENT_*` capability flags (both halves). */
  readonly capabilities: typeof UInt32
  /** The server's default collation id. */
  readonly characterSet: typeof UInt8
  readonly statusFlags: typeof UInt16
  /** The auth plugin data length byte as sent (21 from MySQL 8 and MariaDB; 0 without CLIENT_PLUGIN_AUTH). */
  readonly authPluginDataLength: typeof UInt8
  /** MariaDB extended capabilities: present when the server cleared CLIENT_MYSQL. */
  readonly mariadbCapabilities: Schema.optionalKey<typeof UInt32>
  /** Present with CLIENT_PLUGIN_AUTH. */
  readonly authPluginName: Schema.optionalKey<Schema.String>
}> = Schema.Struct({
  protocolVersion: UInt8,
  serverVersion: Schema.String,
  connectionId: UInt32,
  authPluginData: Schema.Uint8Array,
  capabilities: UInt32,
  characterSet: UInt8,
  statusFlags: UInt16,
  authPluginDataLength: UInt8,
  mariadbCapabilities: Schema.optionalKey(UInt32),
  authPluginName: Schema.optionalKey(Schema.String)
})

export type HandshakeV10 = typeof HandshakeV10Schema.Type

const part2Length = (authPluginDataLength: number): number => Math.max(13, authPluginDataLength - 8)

/** The greeting codec. */
export const HandshakeV10: PacketCodec<HandshakeV10> = define(
  "HandshakeV10",
  HandshakeV10Schema,
  (L) => [
    L.custom(
      "protocolVersion",
      (r, acc) => {
        const at = r.pos
        const v = r.int1()
        if (v === 0xff) throw new WireError("the server answered with an ERR packet instead of a greeting", at)
        if (v !== PROTOCOL_VERSION) {
          throw new WireError(
            `unsupported protocol version ${v}${v === 9 ? " (pre-4.1 server)" : ""}: only HandshakeV10 is supported`,
            at
          )
        }
        acc.protocolVersion = v
      },
      (w, v) => {
        w.int1(v.protocolVersion)
      }
    ),
    L.field("serverVersion", nulString),
    L.field("connectionId", int4),
    // auth-plugin-data-part-1 [8 bytes]
    L.custom(
      "authPluginData",
      (r, acc) => {
        acc.authPluginData = r.fixedBytes(8).slice()
      },
      (w, v) => {
        if (v.authPluginData.length < 8) {
          throw new WireError(`the scramble needs at least 8 bytes, got ${v.authPluginData.length}`, w.pos)
        }
        w.bytes(v.authPluginData.subarray(0, 8))
      }
    ),
    L.zeros("filler", 1),
    // capability flags, lower 2 bytes
    L.custom(
      "capabilities",
      (r, acc) => {
        acc.capabilities = r.int2()
      },
      (w, v) => {
        w.int2(v.capabilities & 0xffff)
      }
    ),
    L.field("characterSet", int1),
    L.field("statusFlags", int2),
    // capability flags, upper 2 bytes
    L.custom(
      "capabilities",
      (r, acc) => {
        acc.capabilities = ((acc.capabilities as number) + r.int2() * 0x10000) >>> 0
      },
      (w, v) => {
        w.int2(v.capabilities >>> 16)
      }
    ),
    L.field("authPluginDataLength", int1),
    L.choose(
      ownFlagClear(Capability.CLIENT_MYSQL),
      [L.zeros("reserved", 6), L.field("mariadbCapabilities", int4)],
      [L.zeros("reserved", 10)]
    ),
    L.when(
      ownFlag(Capability.CLIENT_SECURE_CONNECTION),
      L.custom(
        "authPluginData",
        (r, acc) => {
          const n = part2Length(acc.authPluginDataLength as number)
          const part2 = r.fixedBytes(n)
          const rest = part2[n - 1] === 0 ? part2.subarray(0, n - 1) : part2
          const part1 = acc.authPluginData as Uint8Array
          const all = new Uint8Array(8 + rest.length)
          all.set(part1, 0)
          all.set(rest, 8)
          acc.authPluginData = all
        },
        (w, v) => {
          const n = part2Length(v.authPluginDataLength)
          const rest = v.authPluginData.subarray(8)
          if (rest.length !== n && rest.length !== n - 1) {
            throw new WireError(
              `auth-plugin-data-part-2 is ${n} bytes (auth plugin data length ${v.authPluginDataLength}): the scramble needs ${n - 1} or ${n} bytes after the first 8, got ${rest.length}`,
              w.pos
            )
          }
          w.bytes(rest).zeros(n - rest.length)
        }
      )
    ),
    L.when(ownFlag(Capability.CLIENT_PLUGIN_AUTH), L.field("authPluginName", nulOrEndString))
  ],
  {
    check: (v) =>
      (v.capabilities & Capability.CLIENT_PROTOCOL_41) === 0
        ? "unsupported server: CLIENT_PROTOCOL_41 is not offered (pre-4.1 protocol)"
        : undefined
  }
)

/**
 * A greeting with the usual derived fields filled in: `authPluginDataLength` is the scramble's
 * length + 1 with CLIENT_PLUGIN_AUTH, else 0. For servers and mocks.
 */
export const makeHandshakeV10 = (
  fields: Omit<HandshakeV10, "protocolVersion" | "authPluginDataLength"> & {
    readonly authPluginDataLength?: number
  }
): HandshakeV10 => ({
  protocolVersion: PROTOCOL_VERSION,
  authPluginDataLength:
    fields.authPluginDataLength ??
    ((fields.capabilities & Capability.CLIENT_PLUGIN_AUTH) !== 0 ? fields.authPluginData.length + 1 : 0),
  ...fields
})
