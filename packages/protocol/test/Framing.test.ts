import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import { concatBytes } from "../src/Bytes.ts"
import {
  decodePackets,
  encodePacket,
  encodePackets,
  MAX_PACKET_PAYLOAD,
  type Packet,
  PacketDecoder,
  PacketReader
} from "../src/Framing.ts"
import { err, fromHex, ok, toHex } from "./support/bytes.ts"

const feed = (decoder: PacketDecoder, bytes: Uint8Array, cuts: ReadonlyArray<number>) => {
  const out: Array<Packet> = []
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    const chunk = bytes.subarray(from, Math.max(from, cut))
    from = Math.max(from, cut)
    for (const p of ok(decoder.push(chunk))) out.push({ sequenceId: p.sequenceId, payload: p.payload.slice() })
  }
  return out
}

describe("Framing", () => {
  it("frames a payload with its length and sequence id", () => {
    expect(toHex(encodePacket(fromHex("0e"), 0).bytes)).toBe("010000000e")
    expect(encodePacket(fromHex("0e"), 255).nextSequenceId).toBe(0)
  })

  it("splits 0xFFFFFF-byte payloads and ends with an empty packet", () => {
    const payload = new Uint8Array(MAX_PACKET_PAYLOAD)
    payload[0] = 1
    payload[MAX_PACKET_PAYLOAD - 1] = 2
    const framed = encodePacket(payload, 254)
    expect(framed.bytes.length).toBe(MAX_PACKET_PAYLOAD + 8)
    expect(toHex(framed.bytes.subarray(0, 4))).toBe("fffffffe")
    expect(toHex(framed.bytes.subarray(MAX_PACKET_PAYLOAD + 4))).toBe("000000ff")
    expect(framed.nextSequenceId).toBe(0)
    const decoder = new PacketDecoder({ sequenceId: 254 })
    const packets = ok(decoder.push(framed.bytes))
    expect(packets).toHaveLength(1)
    expect(packets[0].sequenceId).toBe(254)
    expect(packets[0].payload.length).toBe(MAX_PACKET_PAYLOAD)
    expect(packets[0].payload[MAX_PACKET_PAYLOAD - 1]).toBe(2)
    expect(decoder.nextSequenceId).toBe(0)
  })

  it("reassembles a payload longer than 0xFFFFFF fed in small chunks", () => {
    const payload = new Uint8Array(MAX_PACKET_PAYLOAD + 10)
    for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff
    const framed = encodePacket(payload, 0)
    const decoder = new PacketDecoder()
    const got: Array<Packet> = []
    for (let at = 0; at < framed.bytes.length; at += 65536) {
      got.push(...ok(decoder.push(framed.bytes.subarray(at, at + 65536))))
    }
    expect(got).toHaveLength(1)
    expect(got[0].payload.length).toBe(payload.length)
    let same = true
    for (let i = 0; i < payload.length; i++) if (got[0].payload[i] !== payload[i]) same = false
    expect(same).toBe(true)
  })

  it("checks sequence ids", () => {
    const decoder = new PacketDecoder({ sequenceId: 1 })
    const e = err(decoder.push(encodePacket(fromHex("00"), 3).bytes))
    expect(e.message).toMatch(/expected sequence id 1, got 3/)
    // a failed decoder stays failed
    expect(Result.isFailure(decoder.push(encodePacket(fromHex("00"), 1).bytes))).toBe(true)
    const relaxed = new PacketDecoder({ checkSequence: false })
    expect(ok(relaxed.push(encodePacket(fromHex("00"), 9).bytes))[0].sequenceId).toBe(9)
  })

  it("refuses a length above the maximum before allocating", () => {
    const decoder = new PacketDecoder({ maxPayloadLength: 1024 })
    const e = err(decoder.push(fromHex("ffffff00")))
    expect(e.field).toBe("payload_length")
    expect(decoder.bufferedBytes).toBe(0)
    // split payloads count as a whole
    const small = new PacketDecoder({ maxPayloadLength: MAX_PACKET_PAYLOAD + 5 })
    const framed = encodePacket(new Uint8Array(MAX_PACKET_PAYLOAD + 6), 0)
    expect(Result.isFailure(small.push(framed.bytes))).toBe(true)
  })

  it("decodePackets reports a truncated stream", () => {
    expect(err(decodePackets(fromHex("0500000001"))).message).toMatch(/incomplete/)
  })

  it("property: any chunking of a valid stream yields the same packets", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.nat(255),
        fc.array(fc.nat(3000), { maxLength: 20 }),
        (payloads, seq, cuts) => {
          const { bytes } = encodePackets(payloads, seq)
          const sorted = [...cuts].map((c) => c % (bytes.length + 1)).sort((a, b) => a - b)
          const got = feed(new PacketDecoder({ sequenceId: seq }), bytes, sorted)
          expect(got.map((p) => p.payload)).toEqual(payloads)
          expect(got.map((p) => p.sequenceId)).toEqual(payloads.map((_, i) => (seq + i) & 0xff))
        }
      )
    )
  })

  it("property: one byte at a time yields the same packets", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 5 }), (payloads) => {
        const { bytes } = encodePackets(payloads, 0)
        const cuts = Array.from({ length: bytes.length }, (_, i) => i)
        expect(feed(new PacketDecoder(), bytes, cuts).map((p) => p.payload)).toEqual(payloads)
      })
    )
  })

  it("property: random bytes give packets or a ProtocolError, and never more than the maximum buffered", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 256 }),
        fc.boolean(),
        (chunks, max, checkSequence) => {
          const decoder = new PacketDecoder({ maxPayloadLength: max, checkSequence })
          for (const chunk of chunks) {
            const r = decoder.push(chunk)
            expect(decoder.bufferedBytes).toBeLessThanOrEqual(max + 4)
            if (Result.isFailure(r)) {
              expect(r.failure._tag).toBe("ProtocolError")
              break
            }
            for (const p of r.success) expect(p.payload.length).toBeLessThanOrEqual(max)
          }
        }
      )
    )
  })

  describe("PacketReader", () => {
    const take = (reader: PacketReader) => toHex(reader.bytes.subarray(reader.start, reader.end))

    it("hands out a packet inside one chunk as a range of that chunk, without a copy", () => {
      const chunk = encodePackets([fromHex("0a0b"), fromHex("0c")], 1).bytes
      const reader = new PacketReader({ sequenceId: 1 })
      reader.push(chunk)
      expect(reader.next()).toBe(true)
      expect(reader.bytes).toBe(chunk)
      expect([reader.start, reader.end, reader.sequenceId]).toEqual([4, 6, 1])
      expect(reader.next()).toBe(true)
      expect([take(reader), reader.sequenceId]).toEqual(["0c", 2])
      expect(reader.next()).toBe(false)
      expect(reader.error).toBeUndefined()
      expect(reader.idle).toBe(true)
    })

    it("copies only a packet split across chunks", () => {
      const bytes = encodePackets([fromHex("01"), fromHex("020304"), fromHex("05")], 0).bytes
      const reader = new PacketReader()
      // The cut falls after the first byte of the second payload.
      reader.push(bytes.subarray(0, 10))
      expect(reader.next()).toBe(true)
      expect(take(reader)).toBe("01")
      expect(reader.next()).toBe(false)
      expect(reader.idle).toBe(false)
      reader.push(bytes.subarray(10))
      expect(reader.next()).toBe(true)
      expect(take(reader)).toBe("020304")
      expect(reader.bytes.length).toBe(3)
      expect(reader.next()).toBe(true)
      expect(take(reader)).toBe("05")
      expect(reader.next()).toBe(false)
    })

    it("frames lazily, so the expected sequence id can restart between two answers in one chunk", () => {
      // Two pipelined commands' answers (each from sequence id 1) arrive in one chunk.
      const chunk = new Uint8Array([...encodePacket(fromHex("00"), 1).bytes, ...encodePacket(fromHex("fe"), 1).bytes])
      const reader = new PacketReader({ sequenceId: 1 })
      reader.push(chunk)
      expect(reader.next()).toBe(true)
      reader.expectSequenceId(1)
      expect(reader.next()).toBe(true)
      expect(take(reader)).toBe("fe")
      const strict = new PacketReader({ sequenceId: 1 })
      strict.push(chunk)
      expect(strict.next()).toBe(true)
      expect(strict.next()).toBe(false)
      expect(strict.error?.message).toMatch(/expected sequence id 2, got 1/)
      // A broken reader stays broken.
      strict.push(encodePacket(fromHex("00"), 2).bytes)
      expect(strict.next()).toBe(false)
    })

    it("allowSequenceId lets the next header, and only that one, carry a second id", () => {
      // A server that flushed under compression numbers the next packet from the compressed id.
      const reader = new PacketReader({ sequenceId: 7 })
      reader.allowSequenceId(2)
      reader.push(concatBytes([encodePacket(fromHex("00aa"), 2).bytes, encodePacket(fromHex("00bb"), 3).bytes]))
      expect(reader.next()).toBe(true)
      expect(take(reader)).toBe("00aa")
      expect(reader.next()).toBe(true)
      expect(take(reader)).toBe("00bb")
      reader.push(encodePacket(fromHex("00cc"), 2).bytes)
      expect(reader.next()).toBe(false)
      expect(reader.error?.message).toMatch(/expected sequence id 4, got 2/)
    })

    it("property: any chunking yields the packets PacketDecoder yields", () => {
      fc.assert(
        fc.property(
          fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }),
          fc.array(fc.nat(400), { maxLength: 6 }),
          (payloads, cuts) => {
            const bytes = encodePackets(payloads, 0).bytes
            const reader = new PacketReader()
            const got: Array<string> = []
            let from = 0
            for (const cut of [...[...cuts].sort((a, b) => a - b), bytes.length]) {
              reader.push(bytes.subarray(from, Math.max(from, cut)))
              from = Math.max(from, cut)
              while (reader.next()) got.push(take(reader))
              expect(reader.error).toBeUndefined()
            }
            expect(got).toEqual(payloads.map(toHex))
            expect(reader.idle).toBe(true)
          }
        )
      )
    })
  })
})
