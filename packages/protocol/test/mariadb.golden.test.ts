// Packets recorded from a real MariaDB 10.11 by scripts/record-fixtures.ts (see fixtures/README.md):
// each decodes with its codec under the capabilities of the session it was recorded in, and
// re-encodes byte-exactly.
import * as Fs from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { Capability, MariaDbCapability, parseServerVersion } from "../src/Capabilities.ts"
import { ColumnCount } from "../src/ColumnCount.ts"
import { type ColumnDefinition, ColumnDefinition41 } from "../src/ColumnDefinition41.ts"
import { ColumnType } from "../src/ColumnType.ts"
import { ComStmtPrepareOk, decodeStmtPrepareResponse, encodeStmtPrepareResponse } from "../src/ComStmtPrepareOk.ts"
import { EofPacket } from "../src/EofPacket.ts"
import { ErrPacket } from "../src/ErrPacket.ts"
import { HandshakeV10 } from "../src/HandshakeV10.ts"
import { OkPacket } from "../src/OkPacket.ts"
import type { PacketCodec } from "../src/Packet.ts"
import { classifyResultSetPacket, decodeCommandResponse } from "../src/Response.ts"
import { fromHex, ok, toHex } from "./support/bytes.ts"

interface Recorded {
  readonly label: string
  readonly kind: string
  readonly sequenceId: number
  readonly hex: string
}
interface Session {
  readonly name: string
  readonly capabilities: number
  readonly mariadbCapabilities: number
  readonly packets: ReadonlyArray<Recorded>
}
const fixture: { readonly recordedWith: string; readonly sessions: ReadonlyArray<Session> } = JSON.parse(
  Fs.readFileSync(new URL("./fixtures/mariadb-packets.json", import.meta.url), "utf8")
)

// biome-ignore lint/suspicious/noExplicitAny: a table of codecs of different packet types
const codecs: Record<string, PacketCodec<any>> = {
  greeting: HandshakeV10,
  ok: OkPacket,
  okAsEof: OkPacket,
  err: ErrPacket,
  eof: EofPacket,
  columnCount: ColumnCount,
  columnDefinition: ColumnDefinition41,
  prepareOk: ComStmtPrepareOk
}

const sessionNamed = (name: string) => fixture.sessions.find((s) => s.name === name)!
const capsOf = (s: Session) => ({ capabilities: s.capabilities, mariadbCapabilities: s.mariadbCapabilities })
const packet = (s: Session, label: string, kind: string, index = 0) => {
  const found = s.packets.filter((p) => p.label === label && p.kind === kind)[index]
  if (found === undefined) throw new Error(`no ${kind} packet labelled ${label} in ${s.name}`)
  return fromHex(found.hex)
}
const decode = <A>(codec: PacketCodec<A>, s: Session, label: string, kind: string, index = 0): A =>
  ok(codec.decode(packet(s, label, kind, index), capsOf(s)))

describe(`MariaDB fixtures (${fixture.recordedWith})`, () => {
  for (const session of fixture.sessions) {
    describe(`${session.name} session`, () => {
      const caps = capsOf(session)
      for (const [i, p] of session.packets.entries()) {
        const codec = codecs[p.kind]
        if (codec === undefined) continue
        it(`#${i} ${p.label}: ${p.kind} decodes and re-encodes byte-exactly`, () => {
          const bytes = fromHex(p.hex)
          const value = ok(codec.decode(bytes, caps))
          expect(toHex(ok(codec.encode(value, caps)))).toBe(p.hex)
        })
      }
      it("every result-set terminator is classified as the end, every row as a row", () => {
        for (const p of session.packets) {
          const bytes = fromHex(p.hex)
          if (p.kind === "textRow") expect(classifyResultSetPacket(bytes, caps)).toBe("row")
          if (p.kind === "okAsEof" || (p.kind === "eof" && p.label !== "greeting")) {
            expect(classifyResultSetPacket(bytes, caps)).toBe("end")
          }
        }
      })
    })
  }

  const modern = sessionNamed("modern")
  const classic = sessionNamed("classic")

  it("greeting: MariaDB with extended capabilities and mysql_native_password", () => {
    const greeting = decode(HandshakeV10, modern, "greeting", "greeting")
    expect(greeting.protocolVersion).toBe(10)
    expect(greeting.serverVersion.startsWith("5.5.5-10.11.")).toBe(true)
    expect(parseServerVersion(greeting.serverVersion)).toMatchObject({ flavor: "mariadb", major: 10, minor: 11 })
    expect(greeting.capabilities & Capability.CLIENT_MYSQL).toBe(0)
    expect(greeting.capabilities & Capability.CLIENT_PROTOCOL_41).not.toBe(0)
    expect(greeting.capabilities & Capability.CLIENT_SSL).toBe(0) // started without TLS
    expect(greeting.mariadbCapabilities! & MariaDbCapability.MARIADB_CLIENT_EXTENDED_METADATA).not.toBe(0)
    expect(greeting.authPluginName).toBe("mysql_native_password")
    expect(greeting.authPluginData).toHaveLength(20)
    expect(greeting.authPluginDataLength).toBe(21)
    expect(greeting.characterSet).toBe(45)
  })

  it("ERR packets carry errno, SQLSTATE and message", () => {
    expect(decode(ErrPacket, modern, "missing table", "err")).toEqual({
      _tag: "ErrPacket",
      errorCode: 1146,
      sqlState: "42S02",
      errorMessage: "Table 'fixtures_modern.no_such_table' doesn't exist"
    })
    const syntax = decode(ErrPacket, classic, "syntax error", "err")
    expect(syntax.errorCode).toBe(1064)
    expect(syntax.sqlState).toBe("42000")
    expect(decode(ErrPacket, modern, "duplicate key", "err")).toMatchObject({ errorCode: 1062, sqlState: "23000" })
  })

  it("OK packets: affected rows, last insert id, info", () => {
    const insert = decode(OkPacket, modern, "insert rows", "ok")
    expect(insert).toMatchObject({ header: 0, affectedRows: 3, lastInsertId: 1, warnings: 0 })
    expect(insert.info).toBe("Records: 3  Duplicates: 0  Warnings: 0")
    const update = decode(OkPacket, classic, "update rows", "ok")
    expect(update.affectedRows).toBe(3)
    expect(update.info).toBe("Rows matched: 3  Changed: 3  Warnings: 0")
  })

  it("OK packets under CLIENT_SESSION_TRACK carry the session-state changes", () => {
    expect(decode(OkPacket, modern, "init db", "ok").sessionStateChanges).toEqual([
      { _tag: "Schema", schema: "fixtures_modern" }
    ])
    expect(decode(OkPacket, modern, "set autocommit", "ok").sessionStateChanges).toEqual([
      { _tag: "SystemVariables", variables: [["autocommit", "OFF"]] }
    ])
    const start = decode(OkPacket, modern, "start transaction", "ok").sessionStateChanges ?? []
    expect(start).toContainEqual({
      _tag: "TransactionCharacteristics",
      characteristics: "START TRANSACTION READ ONLY;"
    })
    expect(start.some((c) => c._tag === "TransactionState")).toBe(true)
    // the classic session did not negotiate session tracking: the same statement has no changes
    expect(decode(OkPacket, classic, "init db", "ok").sessionStateChanges).toBeUndefined()
  })

  it("result-set terminators: OK-as-EOF and EOF with warnings", () => {
    const okEof = decode(OkPacket, modern, "select with warning", "okAsEof")
    expect(okEof.header).toBe(0xfe)
    expect(okEof.warnings).toBe(1)
    const eof = decode(EofPacket, classic, "select with warning", "eof", 1)
    expect(eof.warnings).toBe(1)
  })

  it("column definitions, with MariaDB extended type information when negotiated", () => {
    const defs: Array<ColumnDefinition> = modern.packets
      .filter((p) => p.label === "select table" && p.kind === "columnDefinition")
      .map((p) => ok(ColumnDefinition41.decode(fromHex(p.hex), capsOf(modern))))
    expect(defs.map((d) => d.name)).toEqual([
      "id",
      "name",
      "doc",
      "amount",
      "created",
      "data",
      "u",
      "ip",
      "p",
      "big",
      "e",
      "s",
      "y",
      "f",
      "t"
    ])
    const id = defs[0]
    expect(id).toMatchObject({ catalog: "def", schema: "fixtures_modern", table: "t", orgTable: "t", orgName: "id" })
    expect(id.type).toBe(ColumnType.LONG)
    expect(id.collation).toBe(63)
    expect(id.extendedType).toEqual({})
    expect(defs[2].extendedType).toEqual({ formatName: "json" })
    expect(defs[6].extendedType).toEqual({ dataTypeName: "uuid" })
    expect(defs[7].extendedType).toEqual({ dataTypeName: "inet6" })
    expect(defs[8].extendedType).toEqual({ dataTypeName: "point" })
    expect(defs[9].type).toBe(ColumnType.LONGLONG)
    const plain = ok(ColumnDefinition41.decode(packet(classic, "select table", "columnDefinition", 2), capsOf(classic)))
    expect(plain.extendedType).toBeUndefined()
    expect(plain.name).toBe("doc")
  })

  it("COM_STMT_PREPARE_OK with parameter and column definitions", () => {
    for (const s of [modern, classic]) {
      const payloads = s.packets.filter((p) => p.label === "prepare select").map((p) => fromHex(p.hex))
      const response = ok(decodeStmtPrepareResponse(payloads, capsOf(s)))
      expect(response.ok).toMatchObject({ numParams: 2, numColumns: 4, warningCount: 0 })
      expect(response.params).toHaveLength(2)
      expect(response.columns.map((c) => c.name)).toEqual(["id", "name", "doc", "u"])
      const again = ok(encodeStmtPrepareResponse(response, capsOf(s)))
      expect(again.map(toHex)).toEqual(payloads.map(toHex))
    }
    const insert = s0Prepare(classic, "prepare insert")
    expect(insert.ok).toMatchObject({ numParams: 2, numColumns: 0 })
    expect(insert.paramsEof).toBeDefined()
    expect(insert.columnsEof).toBeUndefined()
  })

  it("command responses are told apart by their first packet", () => {
    expect(ok(decodeCommandResponse(packet(modern, "ping", "ok"), capsOf(modern)))._tag).toBe("OkPacket")
    expect(ok(decodeCommandResponse(packet(modern, "syntax error", "err"), capsOf(modern)))._tag).toBe("ErrPacket")
    expect(ok(decodeCommandResponse(packet(modern, "select table", "columnCount"), capsOf(modern)))).toEqual({
      _tag: "ColumnCount",
      columnCount: 15
    })
  })
})

const s0Prepare = (s: Session, label: string) =>
  ok(
    decodeStmtPrepareResponse(
      s.packets.filter((p) => p.label === label).map((p) => fromHex(p.hex)),
      capsOf(s)
    )
  )
