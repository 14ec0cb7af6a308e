// The hex dumps of the MySQL internals manual, "14.5 SSL" (../../../shared/seeds/004_*.txt), as
// test vectors: they decode to the values listed in issue 3 and re-encode byte-exactly.
import { describe, expect, it } from "@effect/vitest"
import { Capability } from "../src/Capabilities.ts"
import { decodePackets, encodePacket } from "../src/Framing.ts"
import { HandshakeResponse41 } from "../src/HandshakeResponse41.ts"
import { HandshakeV10 } from "../src/HandshakeV10.ts"
import { SslRequest, sslRequestFor } from "../src/SslRequest.ts"
import { fromHex, ok, toHex } from "./support/bytes.ts"

const greetingWire = fromHex(`
  36 00 00 00 0a 35 2e 35 2e 32 2d 6d 32 00 52 00
  00 00 22 3d 4e 50 29 75 39 56 00 ff ff 08 02 00
  00 00 00 00 00 00 00 00 00 00 00 00 00 29 64 40
  52 5c 55 78 7a 7c 21 29 4b 00`)

const responseWire = fromHex(`
  3a 00 00 01 05 a6 03 00 00 00 00 01 08 00 00 00
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
  00 00 00 00 72 6f 6f 74 00 14 14 63 6b 70 99 8a
  b6 9e 96 87 a2 30 9a 40 67 2b 83 38 85 4b`)

const sslRequestWire = fromHex(`
  20 00 00 01 05 ae 03 00 00 00 00 01 08 00 00 00
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
  00 00 00 00`)

const single = (wire: Uint8Array, sequenceId: number) => {
  const packets = ok(decodePackets(wire, { sequenceId }))
  expect(packets).toHaveLength(1)
  expect(packets[0].sequenceId).toBe(sequenceId)
  return packets[0].payload
}

describe("seed 004: MySQL internals manual, 14.5 SSL", () => {
  it("Initial Handshake decodes to the listed values and re-encodes byte-exactly", () => {
    const payload = single(greetingWire, 0)
    const greeting = ok(HandshakeV10.decode(payload))
    expect(greeting.protocolVersion).toBe(10)
    expect(greeting.serverVersion).toBe("5.5.2-m2")
    expect(greeting.connectionId).toBe(82)
    expect(toHex(greeting.authPluginData)).toBe("223d4e5029753956" + "296440525c55787a7c21294b")
    expect(greeting.capabilities).toBe(0x0000ffff)
    expect(greeting.characterSet).toBe(8)
    expect(greeting.statusFlags).toBe(0x0002)
    expect(greeting.authPluginName).toBeUndefined()
    expect(greeting.mariadbCapabilities).toBeUndefined()
    const encoded = ok(HandshakeV10.encode(greeting))
    expect(toHex(encoded)).toBe(toHex(payload))
    expect(toHex(encodePacket(encoded, 0).bytes)).toBe(toHex(greetingWire))
  })

  it("Handshake Response decodes to the listed values and re-encodes byte-exactly", () => {
    const payload = single(responseWire, 1)
    const response = ok(HandshakeResponse41.decode(payload))
    expect(response.capabilities).toBe(0x0003a605)
    expect(response.maxPacketSize).toBe(16777216)
    expect(response.characterSet).toBe(8)
    expect(response.username).toBe("root")
    expect(response.authResponse).toHaveLength(20)
    expect(toHex(response.authResponse)).toBe("14636b70998ab69e9687a2309a40672b8338854b")
    expect(response.database).toBeUndefined()
    expect(response.authPluginName).toBeUndefined()
    const encoded = ok(HandshakeResponse41.encode(response))
    expect(toHex(encodePacket(encoded, 1).bytes)).toBe(toHex(responseWire))
  })

  it("SSL Request is exactly 32 bytes, the response's flags plus CLIENT_SSL", () => {
    const payload = single(sslRequestWire, 1)
    expect(payload).toHaveLength(32)
    const request = ok(SslRequest.decode(payload))
    expect(request).toEqual({ capabilities: 0x0003ae05, maxPacketSize: 16777216, characterSet: 8 })
    const response = ok(HandshakeResponse41.decode(single(responseWire, 1)))
    const derived = sslRequestFor(response)
    expect(derived).toEqual(request)
    expect(derived.capabilities).toBe(response.capabilities | Capability.CLIENT_SSL)
    const encoded = ok(SslRequest.encode(derived))
    expect(toHex(encodePacket(encoded, 1).bytes)).toBe(toHex(sslRequestWire))
    // The SSL Request is the handshake response's first 32 bytes with CLIENT_SSL set.
    const responseBytes = ok(HandshakeResponse41.encode({ ...response, capabilities: derived.capabilities }))
    expect(toHex(responseBytes.subarray(0, 32))).toBe(toHex(encoded))
  })
})
