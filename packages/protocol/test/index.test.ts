import { describe, expect, it } from "@effect/vitest"
import * as Protocol from "../src/index.ts"
import { fromHex, ok } from "./support/bytes.ts"

describe("package entry point", () => {
  it("re-exports the packet codecs, framing and capabilities", () => {
    for (const name of [
      "ProtocolError",
      "PacketDecoder",
      "encodePacket",
      "Capability",
      "MariaDbCapability",
      "HandshakeV10",
      "SslRequest",
      "HandshakeResponse41",
      "AuthSwitchRequest",
      "OkPacket",
      "ErrPacket",
      "EofPacket",
      "ColumnDefinition41",
      "ComStmtPrepareOk",
      "ComQuery",
      "ComPing",
      "decodeCommand",
      "decodeCommandResponse",
      "decodeWith",
      "PacketLayout"
    ]) {
      expect(Protocol, name).toHaveProperty(name)
    }
    expect(ok(Protocol.OkPacket.decode(fromHex("00000002000000"))).statusFlags).toBe(2)
  })
})
