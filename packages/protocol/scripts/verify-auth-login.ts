/**
 * Logs in to a running MariaDB with this package's mysql_native_password and client_ed25519
 * answers, over a raw `node:net` Unix socket: a check against the real server that the vectors
 * in test/auth.test.ts cannot give (the server's nonce is random).
 *
 *   mariadb -uroot -e "CREATE USER n@localhost IDENTIFIED BY 'pw';
 *                      CREATE USER e@localhost IDENTIFIED VIA ed25519 USING PASSWORD('secret')"
 *   PATH=$PWD/node_modules/.bin:$PATH node packages/protocol/scripts/verify-auth-login.ts /path/to/mariadb.sock
 *
 * (the server needs --plugin-load-add=auth_ed25519). Prints one line per account.
 */
import * as Net from "node:net"
import { Effect, Result } from "effect"
import { AuthSwitchRequest, authSwitchScramble } from "../src/AuthSwitchRequest.ts"
import * as ClientEd25519 from "../src/auth/ClientEd25519.ts"
import * as MysqlNativePassword from "../src/auth/MysqlNativePassword.ts"
import { Capability } from "../src/Capabilities.ts"
import { encodePacket, type Packet, PacketDecoder } from "../src/Framing.ts"
import { HandshakeResponse41 } from "../src/HandshakeResponse41.ts"
import { HandshakeV10 } from "../src/HandshakeV10.ts"

const unwrap = <A, E>(r: Result.Result<A, E>): A => {
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

const login = async (
  path: string,
  user: string,
  password: string,
  plugin: "mysql_native_password" | "client_ed25519"
) => {
  const socket = Net.connect({ path })
  const decoder = new PacketDecoder({ checkSequence: false })
  const queue: Array<Packet> = []
  let wake: (() => void) | undefined
  socket.on("data", (chunk: Uint8Array) => {
    queue.push(...unwrap(decoder.push(new Uint8Array(chunk))))
    wake?.()
  })
  const next = async (): Promise<Packet> => {
    while (queue.length === 0) await new Promise<void>((r) => (wake = r))
    return queue.shift()!
  }
  const greeting = unwrap(HandshakeV10.decode((await next()).payload))
  const capabilities =
    (Capability.CLIENT_PROTOCOL_41 |
      Capability.CLIENT_SECURE_CONNECTION |
      Capability.CLIENT_PLUGIN_AUTH |
      Capability.CLIENT_LONG_FLAG) &
    greeting.capabilities
  const nonce = greeting.authPluginData.subarray(0, 20)
  const first = await Effect.runPromise(MysqlNativePassword.scramble(password, nonce))
  socket.write(
    encodePacket(
      unwrap(
        HandshakeResponse41.encode({
          capabilities,
          maxPacketSize: 1 << 24,
          characterSet: 45,
          mariadbCapabilities: 0,
          username: user,
          authResponse: first,
          authPluginName: "mysql_native_password"
        })
      ),
      1
    ).bytes
  )
  let reply = await next()
  if (reply.payload[0] === 0xfe) {
    const request = unwrap(AuthSwitchRequest.decode(reply.payload))
    if (request.pluginName !== plugin) throw new Error(`server asked for ${request.pluginName}`)
    console.log(`  ${request.pluginName}: ${request.pluginData.length} bytes of plugin data`)
    const answer =
      plugin === "client_ed25519"
        ? await Effect.runPromise(
            ClientEd25519.sign(password, request.pluginData.subarray(0, ClientEd25519.NONCE_LENGTH))
          )
        : await Effect.runPromise(MysqlNativePassword.scramble(password, authSwitchScramble(request)))
    socket.write(encodePacket(answer, reply.sequenceId + 1).bytes)
    reply = await next()
  }
  socket.end()
  const ok = reply.payload[0] === 0x00
  console.log(`${user} (${plugin}): ${ok ? "OK" : `refused: ${new TextDecoder().decode(reply.payload.subarray(9))}`}`)
  return ok
}

const path = process.argv[2]
if (path === undefined) throw new Error("usage: verify-auth-login.ts <socket>")
const results = [
  await login(path, "n", "pw", "mysql_native_password"),
  await login(path, "e", "secret", "client_ed25519"),
  !(await login(path, "e", "wrong", "client_ed25519"))
]
if (results.includes(false)) process.exit(1)
