// Property tests over every packet codec: encode then decode is the identity, and any byte string
// fed to any decoder gives a value or a ProtocolError (never an exception, never a hang).
import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import { AuthMoreData } from "../src/AuthMoreData.ts"
import { AuthNextFactor } from "../src/AuthNextFactor.ts"
import { AuthSwitchRequest, AuthSwitchResponse } from "../src/AuthSwitchRequest.ts"
import { Capability, type CapabilitySet, MariaDbCapability } from "../src/Capabilities.ts"
import { ColumnCount, hasMetadataFollows } from "../src/ColumnCount.ts"
import { ColumnDefinition41 } from "../src/ColumnDefinition41.ts"
import { ColumnType } from "../src/ColumnType.ts"
import {
  ComBinlogDump,
  ComBinlogDumpGtid,
  ComChangeUser,
  ComInitDb,
  ComPing,
  ComProcessKill,
  ComQuit,
  ComRegisterSlave,
  ComResetConnection,
  ComSetOption,
  ComStatistics,
  ComStmtClose,
  ComStmtFetch,
  ComStmtPrepare,
  ComStmtReset,
  ComStmtSendLongData,
  decodeCommand
} from "../src/Commands.ts"
import { ComQuery } from "../src/ComQuery.ts"
import { ComStmtPrepareOk } from "../src/ComStmtPrepareOk.ts"
import { EofPacket } from "../src/EofPacket.ts"
import { ErrPacket, ProgressReport } from "../src/ErrPacket.ts"
import { HandshakeResponse41 } from "../src/HandshakeResponse41.ts"
import { HandshakeV10 } from "../src/HandshakeV10.ts"
import { LocalInfileRequest } from "../src/LocalInfileRequest.ts"
import { OkPacket, type SessionStateChange } from "../src/OkPacket.ts"
import type { PacketCodec } from "../src/Packet.ts"
import { decodeAuthPhasePacket, decodeCommandResponse, decodeResultSetEnd } from "../src/Response.ts"
import { SslRequest } from "../src/SslRequest.ts"

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const u = (bits: number) => fc.integer({ min: 0, max: 2 ** bits - 1 })
const u64 = fc.oneof(
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n })
)
const text = fc.string({ unit: "grapheme", maxLength: 40 })
const nulFree = text.map((s) => s.replaceAll("\u0000", ""))
const ascii = (maxLength: number) =>
  fc.string({ unit: "grapheme-ascii", maxLength }).map((s) => s.replaceAll("\u0000", ""))
const bytes = (maxLength = 40) => fc.uint8Array({ maxLength })
const nonZeroBytes = (minLength: number, maxLength: number) => fc.uint8Array({ minLength, maxLength, min: 1, max: 255 })
const caps: fc.Arbitrary<CapabilitySet> = fc.record({ capabilities: u(32), mariadbCapabilities: u(32) })
const attributes = fc.array(fc.tuple(text, text), { maxLength: 4 })

const has = (flags: number, flag: number) => (flags & flag) !== 0
const opt = <K extends string, V>(cond: boolean, key: K, value: V): { [k in K]?: V } =>
  (cond ? { [key]: value } : {}) as { [k in K]?: V }

const handshakeV10 = fc
  .record({
    capabilities: u(32).map((c) => (c | Capability.CLIENT_PROTOCOL_41) >>> 0),
    serverVersion: nulFree,
    connectionId: u(32),
    characterSet: u(8),
    statusFlags: u(16),
    authPluginDataLength: u(8),
    mariadbCapabilities: u(32),
    authPluginName: nulFree,
    rest: nonZeroBytes(0, 260),
    part1Fixed: fc.uint8Array({ minLength: 8, maxLength: 8 })
  })
  .map((r) => {
    const secure = has(r.capabilities, Capability.CLIENT_SECURE_CONNECTION)
    const room = Math.max(13, r.authPluginDataLength - 8)
    const rest = r.rest.length >= room - 1 ? r.rest.subarray(0, room) : new Uint8Array(room - 1).fill(7)
    const authPluginData = new Uint8Array([...r.part1Fixed, ...(secure ? rest : [])])
    return {
      protocolVersion: 10,
      serverVersion: r.serverVersion,
      connectionId: r.connectionId,
      authPluginData,
      capabilities: r.capabilities,
      characterSet: r.characterSet,
      statusFlags: r.statusFlags,
      authPluginDataLength: r.authPluginDataLength,
      ...opt(!has(r.capabilities, Capability.CLIENT_MYSQL), "mariadbCapabilities", r.mariadbCapabilities),
      ...opt(has(r.capabilities, Capability.CLIENT_PLUGIN_AUTH), "authPluginName", r.authPluginName)
    }
  })

const handshakeResponse = fc
  .record({
    capabilities: u(32),
    maxPacketSize: u(32),
    characterSet: u(8),
    mariadbCapabilities: u(32),
    username: nulFree,
    authResponse: bytes(300),
    database: nulFree,
    authPluginName: nulFree,
    connectAttributes: attributes,
    zstdCompressionLevel: u(8)
  })
  .map((r) => {
    const c = r.capabilities
    const lenenc = has(c, Capability.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA)
    const secure = has(c, Capability.CLIENT_SECURE_CONNECTION)
    const authResponse = lenenc
      ? r.authResponse
      : secure
        ? r.authResponse.subarray(0, 255)
        : r.authResponse.filter((b) => b !== 0)
    return {
      capabilities: c,
      maxPacketSize: r.maxPacketSize,
      characterSet: r.characterSet,
      ...opt(!has(c, Capability.CLIENT_MYSQL), "mariadbCapabilities", r.mariadbCapabilities),
      username: r.username,
      authResponse,
      ...opt(has(c, Capability.CLIENT_CONNECT_WITH_DB), "database", r.database),
      ...opt(has(c, Capability.CLIENT_PLUGIN_AUTH), "authPluginName", r.authPluginName),
      ...opt(has(c, Capability.CLIENT_CONNECT_ATTRS), "connectAttributes", r.connectAttributes),
      ...opt(has(c, Capability.CLIENT_ZSTD_COMPRESSION_ALGORITHM), "zstdCompressionLevel", r.zstdCompressionLevel)
    }
  })

const sslRequest = fc
  .record({ capabilities: u(32), maxPacketSize: u(32), characterSet: u(8), mariadbCapabilities: u(32) })
  .map((r) => ({
    capabilities: r.capabilities,
    maxPacketSize: r.maxPacketSize,
    characterSet: r.characterSet,
    ...opt(!has(r.capabilities, Capability.CLIENT_MYSQL), "mariadbCapabilities", r.mariadbCapabilities)
  }))

const sessionChange: fc.Arbitrary<SessionStateChange> = fc.oneof(
  fc.record({
    _tag: fc.constant("SystemVariables" as const),
    variables: fc.array(fc.tuple(text, text), { minLength: 1, maxLength: 3 })
  }),
  fc.record({ _tag: fc.constant("Schema" as const), schema: text }),
  fc.record({ _tag: fc.constant("StateChange" as const), value: text }),
  fc.record({ _tag: fc.constant("Gtids" as const), encoding: u(8), gtids: text }),
  fc.record({ _tag: fc.constant("TransactionCharacteristics" as const), characteristics: text }),
  fc.record({ _tag: fc.constant("TransactionState" as const), state: text }),
  fc.record({ _tag: fc.constant("Unknown" as const), type: fc.integer({ min: 6, max: 255 }), data: bytes() })
)

const okPacket = (c: CapabilitySet) =>
  fc
    .record({
      header: fc.constantFrom(0x00 as const, 0xfe as const),
      affectedRows: u64,
      lastInsertId: u64,
      statusFlags: u(16),
      warnings: u(16),
      info: text,
      sessionStateChanges: fc.array(sessionChange, { maxLength: 4 })
    })
    .map((r) => {
      const tracked = has(c.capabilities, Capability.CLIENT_SESSION_TRACK) && has(r.statusFlags, 0x4000)
      const { sessionStateChanges, ...rest } = r
      return { _tag: "OkPacket" as const, ...rest, ...opt(tracked, "sessionStateChanges", sessionStateChanges) }
    })

const errPacket = fc
  .record({
    errorCode: fc.integer({ min: 0, max: 0xfffe }),
    sqlState: fc.option(fc.string({ unit: "grapheme-ascii", minLength: 5, maxLength: 5 }), { nil: undefined }),
    errorMessage: text
  })
  .map((r) => ({
    _tag: "ErrPacket" as const,
    errorCode: r.errorCode,
    ...opt(r.sqlState !== undefined, "sqlState", r.sqlState!),
    errorMessage: r.sqlState === undefined ? r.errorMessage.replace(/^#+/, "") : r.errorMessage
  }))

const columnDefinition = (c: CapabilitySet) =>
  fc
    .record({
      catalog: text,
      schema: text,
      table: text,
      orgTable: text,
      name: text,
      orgName: text,
      collation: u(16),
      columnLength: u(32),
      type: u(8),
      flags: u(16),
      decimals: u(8),
      extendedType: fc.record({ dataTypeName: text, formatName: text }, { requiredKeys: [] })
    })
    .map(({ extendedType, ...rest }) => ({
      ...rest,
      ...opt(
        has(c.mariadbCapabilities, MariaDbCapability.MARIADB_CLIENT_EXTENDED_METADATA),
        "extendedType",
        extendedType
      )
    }))

const attributeValue = fc.oneof(
  fc.record({ type: fc.constant(ColumnType.TINY), value: fc.uint8Array({ minLength: 1, maxLength: 1 }) }),
  fc.record({ type: fc.constant(ColumnType.SHORT), value: fc.uint8Array({ minLength: 2, maxLength: 2 }) }),
  fc.record({ type: fc.constant(ColumnType.LONG), value: fc.uint8Array({ minLength: 4, maxLength: 4 }) }),
  fc.record({ type: fc.constant(ColumnType.LONGLONG), value: fc.uint8Array({ minLength: 8, maxLength: 8 }) }),
  fc.record({ type: fc.constant(ColumnType.DOUBLE), value: fc.uint8Array({ minLength: 8, maxLength: 8 }) }),
  fc.record({
    type: fc.constant(ColumnType.DATETIME),
    value: fc
      .constantFrom(0, 4, 7, 11)
      .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => new Uint8Array([n, ...b])))
  }),
  fc.record({
    type: fc.constant(ColumnType.VAR_STRING),
    value: bytes(300).map((b) => new Uint8Array([...lenenc(b.length), ...b]))
  })
)
const lenenc = (n: number) => (n < 251 ? [n] : [0xfc, n & 0xff, n >>> 8])

const comQuery = (c: CapabilitySet) =>
  fc
    .record({
      query: text,
      attributes: fc.array(fc.record({ name: text, unsigned: fc.boolean(), isNull: fc.boolean(), v: attributeValue }), {
        maxLength: 5
      })
    })
    .map((r) => ({
      _tag: "ComQuery" as const,
      ...opt(
        has(c.capabilities, Capability.CLIENT_QUERY_ATTRIBUTES),
        "attributes",
        r.attributes.map((a) => ({
          name: a.name,
          type: a.v.type | (a.unsigned ? 0x8000 : 0),
          value: a.isNull ? null : a.v.value
        }))
      ),
      query: r.query
    }))

const comChangeUser = (c: CapabilitySet) =>
  fc
    .record({
      username: nulFree,
      authResponse: bytes(255),
      database: nulFree,
      characterSet: fc.option(u(16), { nil: undefined }),
      authPluginName: nulFree,
      connectAttributes: attributes
    })
    .map((r) => {
      const charset = r.characterSet !== undefined
      return {
        _tag: "ComChangeUser" as const,
        username: r.username,
        authResponse: has(c.capabilities, Capability.CLIENT_SECURE_CONNECTION)
          ? r.authResponse
          : r.authResponse.filter((b) => b !== 0),
        database: r.database,
        ...opt(charset, "characterSet", r.characterSet!),
        ...opt(charset && has(c.capabilities, Capability.CLIENT_PLUGIN_AUTH), "authPluginName", r.authPluginName),
        ...opt(
          charset && has(c.capabilities, Capability.CLIENT_CONNECT_ATTRS),
          "connectAttributes",
          r.connectAttributes
        )
      }
    })

interface Case {
  readonly name: string
  // biome-ignore lint/suspicious/noExplicitAny: a table of codecs of different packet types
  readonly codec: PacketCodec<any>
  readonly value: (c: CapabilitySet) => fc.Arbitrary<unknown>
}

const always = (a: fc.Arbitrary<unknown>) => () => a
const tagged = <T extends string>(tag: T, fields: Record<string, fc.Arbitrary<unknown>>) =>
  always(fc.record(fields).map((r) => ({ _tag: tag, ...r })))

const cases: ReadonlyArray<Case> = [
  { name: "HandshakeV10", codec: HandshakeV10, value: always(handshakeV10) },
  { name: "HandshakeResponse41", codec: HandshakeResponse41, value: always(handshakeResponse) },
  { name: "SslRequest", codec: SslRequest, value: always(sslRequest) },
  {
    name: "AuthSwitchRequest",
    codec: AuthSwitchRequest,
    value: tagged("AuthSwitchRequest", {
      pluginName: nulFree,
      pluginData: bytes()
    })
  },
  { name: "AuthSwitchResponse", codec: AuthSwitchResponse, value: tagged("AuthSwitchResponse", { data: bytes() }) },
  { name: "AuthMoreData", codec: AuthMoreData, value: tagged("AuthMoreData", { data: bytes() }) },
  {
    name: "AuthNextFactor",
    codec: AuthNextFactor,
    value: tagged("AuthNextFactor", { pluginName: nulFree, pluginData: bytes() })
  },
  { name: "OkPacket", codec: OkPacket, value: okPacket },
  { name: "ErrPacket", codec: ErrPacket, value: always(errPacket) },
  {
    name: "ProgressReport",
    codec: ProgressReport,
    value: tagged("ProgressReport", { stringCount: u(8), stage: u(8), maxStage: u(8), progress: u(24), info: text })
  },
  { name: "EofPacket", codec: EofPacket, value: tagged("EofPacket", { warnings: u(16), statusFlags: u(16) }) },
  { name: "LocalInfileRequest", codec: LocalInfileRequest, value: tagged("LocalInfileRequest", { filename: text }) },
  {
    name: "ColumnCount",
    codec: ColumnCount,
    value: (c) =>
      fc
        .record({ columnCount: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), metadataFollows: u(8) })
        .map((r) => ({
          _tag: "ColumnCount",
          columnCount: r.columnCount,
          ...opt(hasMetadataFollows(c), "metadataFollows", r.metadataFollows)
        }))
  },
  { name: "ColumnDefinition41", codec: ColumnDefinition41, value: columnDefinition },
  {
    name: "ComStmtPrepareOk",
    codec: ComStmtPrepareOk,
    value: (c) =>
      fc
        .record({ statementId: u(32), numColumns: u(16), numParams: u(16), warningCount: u(16), metadataFollows: u(8) })
        .map(({ metadataFollows, ...r }) => ({
          _tag: "ComStmtPrepareOk",
          ...r,
          ...opt(has(c.capabilities, Capability.CLIENT_OPTIONAL_RESULTSET_METADATA), "metadataFollows", metadataFollows)
        }))
  },
  { name: "ComQuery", codec: ComQuery, value: comQuery },
  { name: "ComQuit", codec: ComQuit, value: tagged("ComQuit", {}) },
  { name: "ComPing", codec: ComPing, value: tagged("ComPing", {}) },
  { name: "ComStatistics", codec: ComStatistics, value: tagged("ComStatistics", {}) },
  { name: "ComResetConnection", codec: ComResetConnection, value: tagged("ComResetConnection", {}) },
  { name: "ComInitDb", codec: ComInitDb, value: tagged("ComInitDb", { schema: text }) },
  { name: "ComSetOption", codec: ComSetOption, value: tagged("ComSetOption", { option: u(16) }) },
  { name: "ComProcessKill", codec: ComProcessKill, value: tagged("ComProcessKill", { connectionId: u(32) }) },
  { name: "ComChangeUser", codec: ComChangeUser, value: comChangeUser },
  { name: "ComStmtPrepare", codec: ComStmtPrepare, value: tagged("ComStmtPrepare", { query: text }) },
  {
    name: "ComStmtSendLongData",
    codec: ComStmtSendLongData,
    value: tagged("ComStmtSendLongData", { statementId: u(32), paramId: u(16), data: bytes() })
  },
  { name: "ComStmtClose", codec: ComStmtClose, value: tagged("ComStmtClose", { statementId: u(32) }) },
  { name: "ComStmtReset", codec: ComStmtReset, value: tagged("ComStmtReset", { statementId: u(32) }) },
  { name: "ComStmtFetch", codec: ComStmtFetch, value: tagged("ComStmtFetch", { statementId: u(32), numRows: u(32) }) },
  {
    name: "ComRegisterSlave",
    codec: ComRegisterSlave,
    value: tagged("ComRegisterSlave", {
      serverId: u(32),
      hostname: ascii(60),
      user: ascii(60),
      password: ascii(60),
      port: u(16),
      replicationRank: u(32),
      masterId: u(32)
    })
  },
  {
    name: "ComBinlogDump",
    codec: ComBinlogDump,
    value: tagged("ComBinlogDump", { binlogPosition: u(32), flags: u(16), serverId: u(32), binlogFilename: text })
  },
  {
    name: "ComBinlogDumpGtid",
    codec: ComBinlogDumpGtid,
    value: always(
      fc
        .record({ flags: u(16), serverId: u(32), binlogFilename: text, binlogPosition: u64, gtidData: bytes() })
        .map(({ gtidData, ...r }) => ({
          _tag: "ComBinlogDumpGtid",
          ...r,
          ...opt(has(r.flags, 4), "gtidData", gtidData)
        }))
    )
  }
]

const decoders: ReadonlyArray<readonly [string, (b: Uint8Array, c: CapabilitySet) => Result.Result<unknown, unknown>]> =
  [
    ...cases.map((c) => [c.name, (b: Uint8Array, caps: CapabilitySet) => c.codec.decode(b, caps)] as const),
    ["decodeCommand", decodeCommand],
    ["decodeCommandResponse", decodeCommandResponse],
    ["decodeAuthPhasePacket", decodeAuthPhasePacket],
    ["decodeResultSetEnd", decodeResultSetEnd]
  ]

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe("encode then decode is the identity", () => {
  for (const c of cases) {
    it(c.name, () => {
      fc.assert(
        fc.property(
          caps.chain((k) => c.value(k).map((v) => [k, v] as const)),
          ([k, value]) => {
            const encoded = c.codec.encode(value as never, k)
            if (Result.isFailure(encoded)) throw new Error(`encode failed: ${encoded.failure.message}`)
            const decoded = c.codec.decode(encoded.success, k)
            if (Result.isFailure(decoded)) throw new Error(`decode failed: ${decoded.failure.message}`)
            expect(decoded.success).toEqual(value)
          }
        ),
        { numRuns: 200 }
      )
    })
  }
})

describe("any bytes give a value or a ProtocolError", () => {
  for (const [name, decode] of decoders) {
    it(name, () => {
      fc.assert(
        fc.property(caps, fc.uint8Array({ maxLength: 80 }), fc.nat(255), (k, tail, first) => {
          // Bias the first byte toward real headers so the decoders get past their first check.
          const input = new Uint8Array([first, ...tail])
          for (const bytes of [tail, input]) {
            const r = decode(bytes, k)
            if (Result.isFailure(r)) {
              expect((r.failure as { _tag: string })._tag).toBe("ProtocolError")
            }
          }
        }),
        { numRuns: 300 }
      )
    })
  }

  it("a decoded value re-encodes to bytes that decode to the same value", () => {
    fc.assert(
      fc.property(caps, fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: cases.length - 1 }), (k, b, i) => {
        const { codec } = cases[i]
        const first = codec.decode(b, k)
        if (Result.isFailure(first)) return
        const encoded = codec.encode(first.success, k)
        if (Result.isFailure(encoded)) return
        expect(codec.decode(encoded.success, k)).toEqual(Result.succeed(first.success))
      }),
      { numRuns: 2000 }
    )
  })

  for (const c of cases) {
    it(`${c.name}: mutated valid packets decode to a value or a ProtocolError, and decoded values are stable`, () => {
      fc.assert(
        fc.property(
          caps.chain((k) => c.value(k).map((v) => [k, v] as const)),
          fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }),
          fc.nat(),
          fc.uint8Array({ maxLength: 4 }),
          ([k, value], flips, cut, extra) => {
            const encoded = c.codec.encode(value as never, k)
            if (Result.isFailure(encoded)) throw new Error(encoded.failure.message)
            const b = encoded.success.slice()
            for (const [at, byte] of flips) if (b.length > 0) b[at % b.length] = byte
            const mutated = new Uint8Array([...b.subarray(0, cut % (b.length + 1)), ...extra])
            const decoded = c.codec.decode(mutated, k)
            if (Result.isFailure(decoded)) {
              expect(decoded.failure._tag).toBe("ProtocolError")
              return
            }
            const again = c.codec.encode(decoded.success, k)
            if (Result.isFailure(again)) {
              expect(again.failure._tag).toBe("ProtocolError")
              return
            }
            expect(c.codec.decode(again.success, k)).toEqual(Result.succeed(decoded.success))
          }
        ),
        { numRuns: 300 }
      )
    })
  }
})
