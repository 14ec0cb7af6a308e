import { describe, expect, it } from "@effect/vitest"
import { encodePacket, encodePackets, type Packet, PacketDecoder, ProtocolError } from "@effect-mysql/protocol"
import type { Connection, OperationOptions, TimeoutError, TlsError, TransportError } from "@effect-mysql/transport"
import { Effect, Result, Schema } from "effect"
import { readHeader } from "../src/CompressedPacket.ts"
import { CompressedPacketDecoder } from "../src/CompressedPacketDecoder.ts"
import { CompressedPacketEncoder } from "../src/CompressedPacketEncoder.ts"
import { CompressionCodecs, zlib, zstd } from "../src/CompressionCodec.ts"
import { CompressedConnection } from "../src/index.ts"
import { concat, drain, split, textLike } from "./support/bytes.ts"

class Closed extends Schema.TaggedError<Closed>()("Closed", {}) {}

/** A connection whose peer has sent `incoming` (delivered chunk by chunk) and which records writes. */
const fakeConnection = (incoming: Array<Uint8Array>) => {
  const written: Array<Uint8Array> = []
  return {
    written,
    connection: {
      read: () =>
        Effect.suspend(() => {
          const chunk = incoming.shift()
          return chunk === undefined ? Effect.fail(new Closed()) : Effect.succeed(chunk)
        }),
      write: (chunk: Uint8Array) => Effect.sync(() => void written.push(chunk)),
      remoteAddress: "127.0.0.1:3306"
    }
  }
}

const text = new TextEncoder()

describe("CompressedConnection", () => {
  it.effect("writes compressed packets a peer decodes back, sequence from 0", () =>
    Effect.gen(function* () {
      const { connection, written } = fakeConnection([])
      const compressed = CompressedConnection.wrap(connection, zstd())
      const query = encodePacket(concat([Uint8Array.of(0x03), text.encode(`SELECT '${"x".repeat(200)}'`)]), 0).bytes
      yield* compressed.write(query)
      yield* compressed.write(query)
      expect(written.map((w) => readHeader(w, 0).sequenceId)).toEqual([0, 0])
      const peer = new CompressedPacketDecoder(zstd(), { checkSequence: true })
      const out = drain(peer, written.slice(0, 1))
      expect(Result.isSuccess(out) && Buffer.compare(concat(out.success), query)).toBe(0)
    })
  )

  it.effect("reads what the peer compressed, in chunks of any size, and continues its sequence", () =>
    Effect.gen(function* () {
      const rows = Array.from({ length: 300 }, (_, i) => textLike(i * 3, i))
      const response = encodePackets(rows, 1).bytes
      const server = new CompressedPacketEncoder(zlib(), { maxWriteLength: 4096 })
      server.sequenceId = 1
      const wire = concat(Array.from(server.encode(response)))
      const cuts = Array.from({ length: 40 }, (_, i) => i * 997 + (i % 7))
      const { connection, written } = fakeConnection(split(wire, cuts))
      const compressed = CompressedConnection.wrap(connection, zlib())
      const framing = new PacketDecoder({ sequenceId: 1 })
      const packets: Array<Packet> = []
      while (packets.length < rows.length) {
        const out = framing.push(yield* compressed.read())
        if (Result.isFailure(out)) return yield* out.failure
        packets.push(...out.success)
      }
      expect(packets.map((p, i) => Buffer.compare(p.payload, rows[i]))).toEqual(rows.map(() => 0))
      // a packet that continues the exchange (not a command) takes the next compressed id
      yield* compressed.write(encodePacket(textLike(10), 45).bytes)
      expect(readHeader(written[0], 0).sequenceId).toBe(server.sequenceId)
    })
  )

  it.effect("fails a read with a ProtocolError on a hostile frame, and a transport error passes through", () =>
    Effect.gen(function* () {
      const lying = Uint8Array.of(5, 0, 0, 0, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5)
      const bad = fakeConnection([lying]).connection
      const error = yield* Effect.flip(CompressedConnection.wrap(bad, zlib()).read())
      expect(error).toBeInstanceOf(ProtocolError)
      const closed = yield* Effect.flip(CompressedConnection.wrap(fakeConnection([]).connection, zlib()).read())
      expect(closed._tag).toBe("Closed")
    })
  )

  it.effect("is made from the CompressionCodecs service and keeps the connection's other members", () =>
    Effect.gen(function* () {
      const { connection } = fakeConnection([])
      const compressed = yield* CompressedConnection.make(connection, { algorithm: "zstd", level: 5 })
      expect(compressed.compression).toEqual({ algorithm: "zstd", level: 5 })
      expect(compressed.remoteAddress).toBe("127.0.0.1:3306")
      // the error type of reads is the connection's and ProtocolError
      const typed: Effect.Effect<Uint8Array, Closed | ProtocolError> = compressed.read()
      expect(typed).toBeDefined()
    }).pipe(Effect.provide(CompressionCodecs.layer))
  )

  it.effect("wraps the transport's Connection: options go to every read and write underneath", () =>
    Effect.gen(function* () {
      const seen: Array<OperationOptions | undefined> = []
      const server = new CompressedPacketEncoder(zlib(), { maxWriteLength: 100 })
      const reply = Array.from(server.encode(encodePacket(textLike(150), 1).bytes))
      let closed = false
      const connection: Connection = {
        read: (options) =>
          Effect.sync(() => {
            seen.push(options)
            return reply.shift()!
          }),
        write: (_bytes, options) => Effect.sync(() => void seen.push(options)),
        upgradeTls: () => Effect.die("not used"),
        info: Effect.die("not used"),
        close: Effect.sync(() => {
          closed = true
        }),
        abort: Effect.die("not used")
      }
      const compressed = CompressedConnection.wrap(connection, zlib())
      const read: Effect.Effect<Uint8Array, TransportError | TlsError | TimeoutError | ProtocolError> = compressed.read(
        { timeout: "1 second" }
      )
      expect((yield* read).length).toBe(100)
      expect((yield* compressed.read()).length).toBe(54)
      yield* compressed.write(encodePacket(textLike(10), 0).bytes, { timeout: "2 seconds" })
      expect(seen).toEqual([{ timeout: "1 second" }, undefined, { timeout: "2 seconds" }])
      yield* compressed.close
      expect(closed).toBe(true)
    })
  )
})
