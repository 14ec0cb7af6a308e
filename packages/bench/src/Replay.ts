/**
 * The replay mode: a local server that plays back the bytes a real server sent for a result set,
 * so the benchmark measures a driver's decoding without the server's work in the way.
 *
 * `record` puts a proxy between effect-mysql and the real server, which rewrites the greeting so
 * that every driver negotiates the same wire format (no TLS, no compression, classic EOF packets,
 * no MariaDB extended metadata), and keeps what the server answered to one COM_QUERY. `serve`
 * greets each driver with that greeting, accepts any login, and answers the recorded statement with
 * the recorded bytes; any other statement (a driver's own set-up) gets an OK.
 */
import * as Net from "node:net"
import {
  Capability,
  encodePacket,
  HandshakeV10,
  makeCapabilitySet,
  makeOkPacket,
  OkPacket,
  PacketDecoder
} from "@effect-mysql/protocol"
import { Result } from "effect"

export interface Recording {
  readonly sql: string
  /** The rewritten greeting, framed (sequence id 0). */
  readonly greeting: Uint8Array
  /** The server's answer to the statement, framed as sent (sequence ids from 1). */
  readonly response: Uint8Array
}

const COM_QUIT = 0x01
const COM_QUERY = 0x03

/** What the greeting may offer: whatever changes the bytes of a result set is taken out. */
const strippedCapabilities = Capability.CLIENT_SSL | Capability.CLIENT_COMPRESS | Capability.CLIENT_DEPRECATE_EOF

const rewriteGreeting = (framed: Uint8Array): Uint8Array => {
  const greeting = Result.getOrThrow(HandshakeV10.decode(framed.subarray(4)))
  const rewritten = Result.getOrThrow(
    HandshakeV10.encode({
      ...greeting,
      capabilities: (greeting.capabilities & ~strippedCapabilities) >>> 0,
      ...(greeting.mariadbCapabilities === undefined ? {} : { mariadbCapabilities: 0 })
    })
  )
  return encodePacket(rewritten, 0).bytes
}

const queryText = (chunk: Uint8Array): string | undefined =>
  chunk.length > 5 && chunk[4] === COM_QUERY ? new TextDecoder().decode(chunk.subarray(5)) : undefined

const listen = (server: Net.Server) =>
  new Promise<number>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve((server.address() as Net.AddressInfo).port))
  })

/**
 * A recording proxy to `host:port`. Connect a driver to the port it answers, run `sql` once, close
 * the driver, then call `recording()`.
 */
export const recordingProxy = async (host: string, port: number, sql: string) => {
  let greeting: Uint8Array | undefined
  const response: Array<Uint8Array> = []
  let recording = false
  const server = Net.createServer((client) => {
    const upstream = Net.connect(port, host)
    let greeted = false
    upstream.on("data", (chunk: Buffer) => {
      if (!greeted) {
        // The greeting arrives alone: the server says nothing else before the client answers.
        greeted = true
        greeting = rewriteGreeting(chunk)
        client.write(greeting)
        return
      }
      if (recording) response.push(Uint8Array.from(chunk))
      client.write(chunk)
    })
    client.on("data", (chunk: Buffer) => {
      recording = queryText(chunk) === sql
      upstream.write(chunk)
    })
    client.on("close", () => upstream.destroy())
    upstream.on("close", () => client.destroy())
    client.on("error", () => upstream.destroy())
    upstream.on("error", () => client.destroy())
  })
  const proxyPort = await listen(server)
  return {
    port: proxyPort,
    recording: (): Recording => {
      server.close()
      if (greeting === undefined || response.length === 0) throw new Error("nothing was recorded")
      return { sql, greeting, response: Buffer.concat(response) }
    }
  }
}

/** Serves `recording` until `close`. */
export const serve = async (recording: Recording) => {
  const sockets = new Set<Net.Socket>()
  const server = Net.createServer((socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
    socket.on("error", () => socket.destroy())
    socket.setNoDelay(true)
    const decoder = new PacketDecoder({ checkSequence: false })
    let ok: Uint8Array | undefined
    socket.write(recording.greeting)
    socket.on("data", (chunk: Buffer) => {
      const packets = decoder.push(chunk)
      if (Result.isFailure(packets)) return socket.destroy()
      for (const { payload } of packets.success) {
        if (ok === undefined) {
          // The handshake response: whoever it is, they are in. Its first 4 bytes are the
          // capabilities the client chose, which decide the form of an OK.
          const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
          ok = Result.getOrThrow(
            OkPacket.encode(makeOkPacket({ statusFlags: 2 }), makeCapabilitySet(view.getUint32(0, true)))
          )
          socket.write(encodePacket(ok, 2).bytes)
        } else if (payload[0] === COM_QUIT) {
          socket.end()
        } else if (payload[0] === COM_QUERY && new TextDecoder().decode(payload.subarray(1)) === recording.sql) {
          socket.write(recording.response)
        } else {
          socket.write(encodePacket(ok, 1).bytes)
        }
      }
    })
  })
  const port = await listen(server)
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}
