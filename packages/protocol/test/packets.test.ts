import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { AuthSwitchRequest, authSwitchScramble } from "../src/AuthSwitchRequest.ts"
import { Capability, intersect, MariaDbCapability, makeCapabilitySet, parseServerVersion } from "../src/Capabilities.ts"
import { ColumnDefinition41, makeColumnDefinition } from "../src/ColumnDefinition41.ts"
import { ColumnType } from "../src/ColumnType.ts"
import { ComPing, ComQuit, ComStmtClose, ComStmtFetch, decodeCommand } from "../src/Commands.ts"
import { ComQuery, frameQuery } from "../src/ComQuery.ts"
import { ErrPacket, ProgressReport } from "../src/ErrPacket.ts"
import { encodePacket } from "../src/Framing.ts"
import { HandshakeResponse41 } from "../src/HandshakeResponse41.ts"
import { HandshakeV10, makeHandshakeV10 } from "../src/HandshakeV10.ts"
import { makeOkPacket, OkPacket } from "../src/OkPacket.ts"
import {
  classifyResultSetPacket,
  decodeAuthPhasePacket,
  decodeCommandResponse,
  decodeGreeting,
  decodePrepareResponse,
  decodeStatusResponse
} from "../src/Response.ts"
import { isSslRequest, SslRequest } from "../src/SslRequest.ts"
import { err, fromHex, ok, toHex } from "./support/bytes.ts"

const scramble = fromHex("0102030405060708090a0b0c0d0e0f1011121314")

describe("connection phase", () => {
  it("a pre-4.1 greeting is refused as unsupported, naming packet, field and offset", () => {
    const e = err(HandshakeV10.decode(fromHex("09332e32332e353800")))
    expect(e).toMatchObject({ _tag: "ProtocolError", packet: "HandshakeV10", field: "protocolVersion", offset: 0 })
    expect(e.message).toMatch(/unsupported protocol version 9 \(pre-4\.1 server\)/)
    expect(err(HandshakeV10.decode(fromHex("ff1504"))).message).toMatch(/ERR packet instead of a greeting/)
  })

  it("a MariaDB greeting carries extended capabilities in the last 4 reserved bytes", () => {
    const greeting = makeHandshakeV10({
      serverVersion: "5.5.5-10.11.6-MariaDB",
      connectionId: 7,
      authPluginData: scramble,
      capabilities: (0xf7fe | Capability.CLIENT_PLUGIN_AUTH | Capability.CLIENT_SECURE_CONNECTION) >>> 0,
      characterSet: 45,
      statusFlags: 2,
      mariadbCapabilities:
        MariaDbCapability.MARIADB_CLIENT_EXTENDED_METADATA | MariaDbCapability.MARIADB_CLIENT_PROGRESS,
      authPluginName: "mysql_native_password"
    })
    const bytes = ok(HandshakeV10.encode(greeting))
    const reserved = 1 + 22 + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1
    expect(toHex(bytes.subarray(reserved, reserved + 10))).toBe("000000000000" + "09000000")
    expect(ok(HandshakeV10.decode(bytes))).toEqual(greeting)
    expect(greeting.authPluginDataLength).toBe(21)
    expect(parseServerVersion(greeting.serverVersion)).toEqual({
      flavor: "mariadb",
      version: "10.11.6-MariaDB",
      major: 10,
      minor: 11,
      patch: 6
    })
    expect(parseServerVersion("8.4.2").flavor).toBe("mysql")
  })

  it("capability intersection keeps MariaDB bits only when both sides cleared CLIENT_MYSQL", () => {
    const server = makeCapabilitySet(0xfffffffe, 0x1f)
    expect(intersect(makeCapabilitySet(0x200, 0x8), server)).toEqual({ capabilities: 0x200, mariadbCapabilities: 8 })
    expect(intersect(makeCapabilitySet(0x201, 0x8), server).mariadbCapabilities).toBe(0)
  })

  it("handshake response: lenenc auth data, database, plugin, attributes and zstd level", () => {
    const capabilities =
      Capability.CLIENT_LONG_PASSWORD |
      Capability.CLIENT_PROTOCOL_41 |
      Capability.CLIENT_SECURE_CONNECTION |
      Capability.CLIENT_PLUGIN_AUTH |
      Capability.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |
      Capability.CLIENT_CONNECT_WITH_DB |
      Capability.CLIENT_CONNECT_ATTRS |
      Capability.CLIENT_ZSTD_COMPRESSION_ALGORITHM
    const response = {
      capabilities,
      maxPacketSize: 0x1000000,
      characterSet: 255,
      username: "app",
      authResponse: new Uint8Array(300).fill(1),
      database: "shop",
      authPluginName: "caching_sha2_password",
      connectAttributes: [["_client_name", "effect-mysql"]] as const,
      zstdCompressionLevel: 3
    }
    const bytes = ok(HandshakeResponse41.encode(response))
    expect(toHex(bytes.subarray(36, 39))).toBe("fc2c01")
    // clearing CLIENT_MYSQL (talking to MariaDB) needs the extended capabilities
    expect(err(HandshakeResponse41.encode({ ...response, capabilities: capabilities & ~1 })).field).toBe(
      "mariadbCapabilities"
    ) // 300 as int<lenenc> after "app\0"
    expect(bytes[bytes.length - 1]).toBe(3)
    expect(ok(HandshakeResponse41.decode(bytes))).toEqual(response)
    // without LENENC the auth response has a 1-byte length: more than 255 bytes is an error
    const e = err(
      HandshakeResponse41.encode({
        ...response,
        capabilities: capabilities & ~Capability.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
      })
    )
    expect(e.field).toBe("authResponse")
  })

  it("SSL Request: exactly 32 bytes, recognised by a server", () => {
    const bytes = ok(SslRequest.encode({ capabilities: 0x0003ae05, maxPacketSize: 16777216, characterSet: 8 }))
    expect(bytes).toHaveLength(32)
    expect(isSslRequest(bytes)).toBe(true)
    expect(isSslRequest(bytes.subarray(0, 31))).toBe(false)
  })

  it("auth switch: plugin and scramble; old-password switches decode, for the client to refuse by name", () => {
    const request = ok(
      AuthSwitchRequest.decode(
        fromHex(`fe${toHex(new TextEncoder().encode("mysql_native_password"))}00${toHex(scramble)}00`)
      )
    )
    expect(request.pluginName).toBe("mysql_native_password")
    expect(authSwitchScramble(request)).toEqual(scramble)
    expect(ok(AuthSwitchRequest.decode(fromHex("fe")))).toEqual({
      _tag: "AuthSwitchRequest",
      pluginName: "mysql_old_password",
      pluginData: new Uint8Array(0)
    })
    const old = toHex(new TextEncoder().encode("mysql_old_password"))
    expect(ok(AuthSwitchRequest.decode(fromHex(`fe${old}00${toHex(scramble)}00`)))).toEqual({
      _tag: "AuthSwitchRequest",
      pluginName: "mysql_old_password",
      pluginData: fromHex(`${toHex(scramble)}00`)
    })
    expect(ok(decodeAuthPhasePacket(fromHex("0103")))).toEqual({ _tag: "AuthMoreData", data: fromHex("03") })
    expect(ok(decodeAuthPhasePacket(fromHex("02610062")))).toEqual({
      _tag: "AuthNextFactor",
      pluginName: "a",
      pluginData: fromHex("62")
    })
    expect(err(decodeAuthPhasePacket(fromHex("07"))).packet).toBe("AuthPhase")
  })
})

describe("responses", () => {
  it("MariaDB progress reports are told apart from errors", () => {
    const bytes = fromHex("ffffff" + "01" + "02" + "03" + "a08601" + "05" + "616c746572")
    const report = ok(decodeCommandResponse(bytes))
    expect(report).toEqual({
      _tag: "ProgressReport",
      stringCount: 1,
      stage: 2,
      maxStage: 3,
      progress: 100000,
      info: "alter"
    })
    expect(toHex(ok(ProgressReport.encode(report as ProgressReportValue)))).toBe(toHex(bytes))
    expect(err(ErrPacket.decode(bytes)).message).toMatch(/progress report/)
  })

  it("LOCAL INFILE request and ERR without SQL state marker", () => {
    expect(ok(decodeCommandResponse(fromHex("fb2f746d702f78")))).toEqual({
      _tag: "LocalInfileRequest",
      filename: "/tmp/x"
    })
    expect(ok(ErrPacket.decode(fromHex("ff10044f6f7073")))).toEqual({
      _tag: "ErrPacket",
      errorCode: 1040,
      errorMessage: "Oops"
    })
  })

  it("status answers, prepare answers and greetings: each kind by its first byte, anything else refused", () => {
    expect(ok(decodeStatusResponse(fromHex("00000002000000")))._tag).toBe("OkPacket")
    expect(ok(decodeStatusResponse(fromHex("fe00000200")))._tag).toBe("EofPacket")
    // Under CLIENT_DEPRECATE_EOF, COM_SET_OPTION is answered by an OK with header 0xFE.
    const deprecate = makeCapabilitySet(Capability.CLIENT_DEPRECATE_EOF | Capability.CLIENT_PROTOCOL_41)
    expect(ok(decodeStatusResponse(fromHex("fe000002000000"), deprecate))).toMatchObject({
      _tag: "OkPacket",
      statusFlags: 2
    })
    expect(ok(decodeStatusResponse(fromHex("ff10044f6f7073")))._tag).toBe("ErrPacket")
    expect(err(decodeStatusResponse(fromHex("fe0000020000000000000000"))).message).toMatch(/unexpected packet 0xfe/)
    expect(err(decodeStatusResponse(fromHex("01"))).message).toMatch(/unexpected packet 0x01/)
    expect(err(decodeStatusResponse(new Uint8Array(0))).message).toMatch(/empty packet/)
    expect(ok(decodePrepareResponse(fromHex("000100000001000200000000")))).toMatchObject({
      _tag: "ComStmtPrepareOk",
      statementId: 1,
      numColumns: 1,
      numParams: 2
    })
    expect(ok(decodePrepareResponse(fromHex("ff10044f6f7073")))._tag).toBe("ErrPacket")
    expect(ok(decodeGreeting(fromHex("ff10044f6f7073")))).toMatchObject({ errorCode: 1040 })
    const greeting = makeHandshakeV10({
      serverVersion: "10.11.0-MariaDB",
      connectionId: 9,
      authPluginData: new Uint8Array(20),
      capabilities: Capability.CLIENT_MYSQL | Capability.CLIENT_PROTOCOL_41 | Capability.CLIENT_SECURE_CONNECTION,
      characterSet: 45,
      statusFlags: 2
    })
    expect(ok(decodeGreeting(ok(HandshakeV10.encode(greeting))))).toMatchObject({ connectionId: 9 })
  })

  it("an EOF and an OK-as-EOF are told apart from a row starting with 0xFE", () => {
    const deprecate = makeCapabilitySet(Capability.CLIENT_DEPRECATE_EOF)
    const classic = makeCapabilitySet(0)
    expect(classifyResultSetPacket(fromHex("fe00000200"), classic)).toBe("end")
    expect(classifyResultSetPacket(fromHex("fe000002000000"), deprecate)).toBe("end")
    expect(classifyResultSetPacket(fromHex("fe0000020000000000"), classic)).toBe("row")
    const bigRow = new Uint8Array(0xffffff + 9)
    bigRow[0] = 0xfe
    expect(classifyResultSetPacket(bigRow, deprecate)).toBe("row")
    expect(classifyResultSetPacket(fromHex("ff1004"), deprecate)).toBe("error")
    expect(classifyResultSetPacket(fromHex("00"), deprecate)).toBe("row")
  })

  it("session-state entries of an unexpected layout are kept raw", () => {
    const caps = makeCapabilitySet(Capability.CLIENT_SESSION_TRACK)
    // status 0x4000; state info: type 1 (schema) whose data has a trailing byte; type 9 unknown
    const bytes = fromHex("0000000040000000" + "08" + "01" + "03" + "016178" + "09" + "01" + "7a")
    const okPacket = ok(OkPacket.decode(bytes, caps))
    expect(okPacket.sessionStateChanges).toEqual([
      { _tag: "Unknown", type: 1, data: fromHex("016178") },
      { _tag: "Unknown", type: 9, data: fromHex("7a") }
    ])
    expect(toHex(ok(OkPacket.encode(okPacket, caps)))).toBe(toHex(bytes))
  })

  it("encoding validates against the schema", () => {
    const e = err(OkPacket.encode({ ...makeOkPacket(), affectedRows: -1 }))
    expect(e.packet).toBe("OkPacket")
    expect(e.message).toMatch(/invalid value/)
  })

  it("error messages name the packet, the field and who sent it malformed, or what could not be encoded", () => {
    // header 0x00, affectedRows: 0xfc announces a 2-byte integer, only one follows
    const truncated = err(OkPacket.decode(fromHex("00fc01")))
    expect(truncated.kind).toBe("decode")
    expect(truncated.packet).toBe("OkPacket")
    expect(truncated.field).toBe("affectedRows")
    expect(truncated.message).toMatch(/^the server sent a malformed OkPacket: affectedRows at byte 2: truncated: /)
    expect(truncated.message).toContain(truncated.detail)
    const command = err(decodeCommand(new Uint8Array(0)))
    expect(command.message).toMatch(/^the client sent a malformed Command: command at byte 0: empty command packet$/)
    const encoded = err(OkPacket.encode({ ...makeOkPacket(), affectedRows: -1 }))
    expect(encoded.kind).toBe("encode")
    expect(encoded.message).toMatch(/^cannot encode OkPacket: invalid value: /)
  })

  it("a truncated column definition names the field and offset", () => {
    const bytes = ok(ColumnDefinition41.encode(makeColumnDefinition({ name: "id", type: ColumnType.LONG })))
    const e = err(ColumnDefinition41.decode(bytes.subarray(0, bytes.length - 5)))
    expect(e.field).toBe("flags")
    expect(e.offset).toBe(bytes.length - 5)
  })
})

describe("commands", () => {
  it("encode to the documented bytes", () => {
    expect(toHex(ok(ComQuit.encode({})))).toBe("01")
    expect(toHex(ok(ComPing.encode({})))).toBe("0e")
    expect(toHex(ok(ComStmtClose.encode({ statementId: 1 })))).toBe("1901000000")
    expect(toHex(ok(ComStmtFetch.encode({ statementId: 2, numRows: 100 })))).toBe("1c0200000064000000")
    expect(toHex(ok(ComQuery.encode({ query: "SELECT 1" })))).toBe("0353454c4543542031")
  })

  it("COM_QUERY with query attributes", () => {
    const caps = makeCapabilitySet(Capability.CLIENT_QUERY_ATTRIBUTES)
    const value = {
      attributes: [
        { name: "a", type: ColumnType.LONG | 0x8000, value: fromHex("2a000000") },
        { name: "b", type: ColumnType.VAR_STRING, value: null }
      ],
      query: "DO 1"
    }
    const bytes = ok(ComQuery.encode(value, caps))
    // command, count 2, set count 1, null bitmap 0b10, bind flag, types+names, value of a, query
    expect(toHex(bytes)).toBe(
      "03" + "02" + "01" + "02" + "01" + "0380" + "0161" + "fd00" + "0162" + "2a000000" + "444f2031"
    )
    expect(ok(ComQuery.decode(bytes, caps))).toEqual({ _tag: "ComQuery", ...value })
    expect(toHex(ok(ComQuery.encode({ attributes: [], query: "DO 1" }, caps)))).toBe("030001444f2031")
  })

  it("frameQuery writes the bytes of the general encoder and framing, with and without attributes", () => {
    const long = `SELECT '${"€x".repeat(9000)}'`
    for (const caps of [makeCapabilitySet(0), makeCapabilitySet(Capability.CLIENT_QUERY_ATTRIBUTES)]) {
      fc.assert(
        fc.property(
          fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }), fc.constant(long)),
          (query) => {
            const general = encodePacket(ok(ComQuery.encode({ query }, caps)), 0)
            const framed = ok(frameQuery(query, caps))
            expect(toHex(framed.bytes)).toBe(toHex(general.bytes))
            expect(framed.nextSequenceId).toBe(1)
          }
        )
      )
    }
    // Past the 16 MiB split: the general path frames it as two packets.
    const huge = `SELECT '${"x".repeat(0xffffff)}'`
    const general = encodePacket(ok(ComQuery.encode({ query: huge })), 0)
    const framed = ok(frameQuery(huge, makeCapabilitySet(0)))
    expect(framed.nextSequenceId).toBe(2)
    expect(framed.bytes.length === general.bytes.length && framed.bytes.every((b, i) => b === general.bytes[i])).toBe(
      true
    )
  })

  it("a server tells commands apart by their first byte", () => {
    expect(ok(decodeCommand(fromHex("0e")))).toEqual({ _tag: "ComPing" })
    expect(ok(decodeCommand(fromHex("170100000000")))).toMatchObject({ _tag: "OtherCommand", command: 0x17 })
    expect(err(decodeCommand(new Uint8Array(0))).packet).toBe("Command")
  })
})

type ProgressReportValue = typeof ProgressReport.schema.Type
