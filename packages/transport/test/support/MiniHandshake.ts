/**
 * Just enough of the MySQL handshake to drive the transport against a real server: read the
 * greeting (HandshakeV10), send the 32-byte SSL Request, and after the upgrade a Handshake
 * Response 41 with mysql_native_password. The protocol package owns these layouts; this helper
 * exists so that the transport's tests do not depend on it.
 * https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html
 */
import { createHash } from "node:crypto"
import { Effect } from "effect"
import type { Connection } from "../../src/Transport.ts"

export const CLIENT_LONG_PASSWORD = 0x1
export const CLIENT_PROTOCOL_41 = 0x200
export const CLIENT_SSL = 0x800
export const CLIENT_SECURE_CONNECTION = 0x8000
export const CLIENT_PLUGIN_AUTH = 0x80000

const clientFlags = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH

export interface Packet {
  readonly sequenceId: number
  readonly payload: Uint8Array
}

/** Reassembles packets (3-byte length, 1-byte sequence id) from whatever chunks the transport gives. */
export const packetReader = (connection: Connection) => {
  let pending = new Uint8Array(0)
  return Effect.gen(function* () {
    while (true) {
      if (pending.length >= 4) {
        const length = pending[0] | (pending[1] << 8) | (pending[2] << 16)
        if (pending.length >= 4 + length) {
          const packet: Packet = { sequenceId: pending[3], payload: pending.slice(4, 4 + length) }
          pending = pending.slice(4 + length)
          return packet
        }
      }
      const chunk = yield* connection.read({ timeout: "10 seconds" })
      const joined = new Uint8Array(pending.length + chunk.length)
      joined.set(pending)
      joined.set(chunk, pending.length)
      pending = joined
    }
  })
}

export interface Greeting {
  readonly serverVersion: string
  readonly capabilities: number
  readonly scramble: Uint8Array
}

/** HandshakeV10: protocol version [1], server version [NUL], thread id [4], scramble 1 [8], filler [1], capabilities [2], … */
export const parseGreeting = (payload: Uint8Array): Greeting => {
  if (payload[0] !== 10) throw new Error(`not a HandshakeV10 greeting (first byte ${payload[0]})`)
  const versionEnd = payload.indexOf(0, 1)
  const serverVersion = new TextDecoder().decode(payload.subarray(1, versionEnd))
  let offset = versionEnd + 1 + 4 // thread id [4]
  const scramble1 = payload.subarray(offset, offset + 8)
  offset += 8 + 1 // scramble part 1 [8], filler [1]
  const lower = payload[offset] | (payload[offset + 1] << 8) // capability flags, lower [2]
  offset += 2 + 1 + 2 // capabilities [2], character set [1], status flags [2]
  const upper = payload[offset] | (payload[offset + 1] << 8) // capability flags, upper [2]
  offset += 2
  const scrambleLength = payload[offset] // auth plugin data length [1]
  offset += 1 + 10 // reserved (MariaDB: filler [6] + extended capabilities [4]) [10]
  const scramble2 = payload.subarray(offset, offset + Math.max(13, scrambleLength - 8) - 1)
  const scramble = new Uint8Array(20)
  scramble.set(scramble1)
  scramble.set(scramble2, 8)
  return { serverVersion, capabilities: (lower | (upper << 16)) >>> 0, scramble }
}

const header = (length: number, sequenceId: number) =>
  new Uint8Array([length & 0xff, (length >> 8) & 0xff, (length >> 16) & 0xff, sequenceId])

/** capability flags [4], max packet size [4], character set [1], filler [23]: 32 bytes, sequence id 1. */
const fixedPrefix = (flags: number) => {
  const prefix = new Uint8Array(32)
  const view = new DataView(prefix.buffer)
  view.setUint32(0, flags >>> 0, true)
  view.setUint32(4, 16 * 1024 * 1024, true)
  prefix[8] = 45 // utf8mb4_general_ci
  return prefix
}

export const sslRequest = (): Uint8Array => {
  const packet = new Uint8Array(36)
  packet.set(header(32, 1))
  packet.set(fixedPrefix(clientFlags | CLIENT_SSL), 4)
  return packet
}

const sha1 = (...parts: ReadonlyArray<Uint8Array>) => {
  const hash = createHash("sha1")
  for (const part of parts) hash.update(part)
  return new Uint8Array(hash.digest())
}

/** SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))); empty for an empty password. */
export const nativePassword = (password: string, scramble: Uint8Array): Uint8Array => {
  if (password === "") return new Uint8Array(0)
  const stage1 = sha1(new TextEncoder().encode(password))
  const mask = sha1(scramble, sha1(stage1))
  return stage1.map((byte, i) => byte ^ mask[i])
}

/** The SSL Request's 32 bytes again, then user [NUL], auth response [1 + n], plugin name [NUL]. */
export const handshakeResponse = (
  user: string,
  password: string,
  scramble: Uint8Array,
  sequenceId: number,
  tls: boolean
): Uint8Array => {
  const encoder = new TextEncoder()
  const auth = nativePassword(password, scramble)
  const parts = [
    fixedPrefix(clientFlags | (tls ? CLIENT_SSL : 0)),
    encoder.encode(`${user}\0`),
    new Uint8Array([auth.length]),
    auth,
    encoder.encode("mysql_native_password\0")
  ]
  const length = parts.reduce((sum, part) => sum + part.length, 0)
  const packet = new Uint8Array(4 + length)
  packet.set(header(length, sequenceId))
  let offset = 4
  for (const part of parts) {
    packet.set(part, offset)
    offset += part.length
  }
  return packet
}

/** OK [0x00] or ERR [0xff] error code [2], '#' SQL state [5], message. */
export const describeReply = (payload: Uint8Array): string => {
  if (payload[0] === 0x00) return "OK"
  if (payload[0] === 0xff) {
    const errno = payload[1] | (payload[2] << 8)
    return `ERR ${errno} ${new TextDecoder().decode(payload.subarray(9))}`
  }
  return `packet 0x${payload[0].toString(16)}`
}
