/**
 * Enough of the connection phase to drive the transport against a real server, from the protocol
 * package's codecs: read the greeting, send the SSL Request, and after the upgrade a handshake
 * response with mysql_native_password.
 */
import {
  Capability,
  ErrPacket,
  encodePacket,
  HandshakeResponse41,
  HandshakeV10,
  MysqlNativePassword,
  type Packet,
  PacketDecoder,
  SslRequest
} from "@effect-mysql/protocol"
import { Effect, Result } from "effect"
import type { Connection } from "../../src/Transport.ts"

export const CLIENT_SSL = Capability.CLIENT_SSL

const clientFlags =
  Capability.CLIENT_LONG_PASSWORD |
  Capability.CLIENT_PROTOCOL_41 |
  Capability.CLIENT_SECURE_CONNECTION |
  Capability.CLIENT_PLUGIN_AUTH

/** Reassembles packets from whatever chunks the transport gives. */
export const packetReader = (connection: Connection) => {
  // Sequence ids are the login script's business here, not the reader's.
  const decoder = new PacketDecoder({ checkSequence: false })
  const ready: Array<Packet> = []
  return Effect.gen(function* () {
    while (ready.length === 0)
      ready.push(...Result.getOrThrow(decoder.push(yield* connection.read({ timeout: "10 seconds" }))))
    return ready.shift()!
  })
}

export interface Greeting {
  readonly serverVersion: string
  readonly capabilities: number
  readonly scramble: Uint8Array
}

export const parseGreeting = (payload: Uint8Array): Greeting => {
  const greeting = Result.getOrThrow(HandshakeV10.decode(payload))
  return {
    serverVersion: greeting.serverVersion,
    capabilities: greeting.capabilities,
    scramble: greeting.authPluginData
  }
}

const fixedFields = (flags: number) => ({
  capabilities: flags >>> 0,
  maxPacketSize: 16 * 1024 * 1024,
  characterSet: 45
})

/** The 32-byte SSL Request, framed with sequence id 1. */
export const sslRequest = (): Uint8Array =>
  encodePacket(Result.getOrThrow(SslRequest.encode(fixedFields(clientFlags | CLIENT_SSL))), 1).bytes

/** A handshake response logging in `user` with mysql_native_password, framed with `sequenceId`. */
export const handshakeResponse = (
  user: string,
  password: string,
  scramble: Uint8Array,
  sequenceId: number,
  tls: boolean
) =>
  Effect.map(MysqlNativePassword.scramble(password, scramble), (authResponse) => {
    const payload = HandshakeResponse41.encode({
      ...fixedFields(clientFlags | (tls ? CLIENT_SSL : 0)),
      username: user,
      authResponse,
      authPluginName: MysqlNativePassword.pluginName
    })
    return encodePacket(Result.getOrThrow(payload), sequenceId).bytes
  })

/** "OK", "ERR <errno> <message>" or the packet's first byte. */
export const describeReply = (payload: Uint8Array): string => {
  if (payload[0] === 0x00) return "OK"
  if (payload[0] === 0xff) {
    const err = Result.getOrThrow(ErrPacket.decode(payload))
    return `ERR ${err.errorCode} ${err.errorMessage}`
  }
  return `packet 0x${payload[0].toString(16)}`
}
