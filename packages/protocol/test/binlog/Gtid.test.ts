import { describe, expect, it } from "@effect/vitest"
import {
  decodeMysqlGtidSet,
  encodeMysqlGtidSet,
  formatMariadbGtid,
  formatMariadbGtidList,
  formatMysqlGtidSet,
  parseMariadbGtid,
  parseMariadbGtidList,
  parseMysqlGtidSet
} from "../../src/binlog/Gtid.ts"
import { ComBinlogDumpGtid } from "../../src/Commands.ts"
import { err, fromHex, ok, toHex } from "../support/bytes.ts"

describe("MariaDB GTIDs", () => {
  it("parse and format domain-server-sequence", () => {
    expect(ok(parseMariadbGtid("0-1-42"))).toEqual({ domainId: 0, serverId: 1, sequence: 42n })
    expect(formatMariadbGtid(ok(parseMariadbGtid(" 4294967295-2-18446744073709551615 ")))).toBe(
      "4294967295-2-18446744073709551615"
    )
  })

  it("parse and format lists", () => {
    const list = ok(parseMariadbGtidList("0-1-42,1-2-7"))
    expect(list).toEqual([
      { domainId: 0, serverId: 1, sequence: 42n },
      { domainId: 1, serverId: 2, sequence: 7n }
    ])
    expect(formatMariadbGtidList(list)).toBe("0-1-42,1-2-7")
    expect(ok(parseMariadbGtidList(""))).toEqual([])
  })

  it("refuse malformed text with a clear message", () => {
    expect(err(parseMariadbGtid("0-1")).message).toMatch(/"0-1" is not domain-server-sequence/)
    expect(err(parseMariadbGtid("4294967296-1-1")).message).toMatch(/out of range/)
    expect(err(parseMariadbGtid("0-1-18446744073709551616")).message).toMatch(/out of range/)
    expect(err(parseMariadbGtidList("0-1-2,,3-4-5")).message).toMatch(/not domain-server-sequence/)
    expect(err(parseMariadbGtid("-1-1-1")).kind).toBe("encode")
  })
})

describe("MySQL GTID sets", () => {
  const a = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
  const b = "00000000-0000-0000-0000-000000000001"

  it("parse and format, intervals inclusive in text and exclusive in data", () => {
    const set = ok(parseMysqlGtidSet(`${a}:1-42:50,${b}:1-3`))
    expect(set).toEqual([
      {
        uuid: a,
        intervals: [
          { start: 1n, end: 43n },
          { start: 50n, end: 51n }
        ]
      },
      { uuid: b, intervals: [{ start: 1n, end: 4n }] }
    ])
    expect(formatMysqlGtidSet(set)).toBe(`${a}:1-42:50,${b}:1-3`)
  })

  it("normalize: upper case, no dashes, repeated sources, overlapping and adjacent intervals", () => {
    const set = ok(parseMysqlGtidSet(`${a.toUpperCase()}:5-9:1-3, ${a.replaceAll("-", "")}:4:20-21:8-12`))
    expect(formatMysqlGtidSet(set)).toBe(`${a}:1-12:20-21`)
    expect(ok(parseMysqlGtidSet(""))).toEqual([])
  })

  it("refuse malformed text", () => {
    expect(err(parseMysqlGtidSet("not-a-uuid:1")).message).toMatch(/is not a UUID/)
    expect(err(parseMysqlGtidSet(a)).message).toMatch(/has no interval/)
    expect(err(parseMysqlGtidSet(`${a}:0-3`)).message).toMatch(/from 1 up/)
    expect(err(parseMysqlGtidSet(`${a}:5-3`)).message).toMatch(/first before last/)
    expect(err(parseMysqlGtidSet(`${a}:tag:1-3`)).message).toMatch(/is not n or first-last/)
  })

  it("encode the binary form of COM_BINLOG_DUMP_GTID", () => {
    const data = ok(encodeMysqlGtidSet(ok(parseMysqlGtidSet(`${a}:1-42:50`))))
    expect(toHex(data)).toBe(
      toHex(
        fromHex(
          "0100000000000000 3e11fa4771ca11e19e33c80aa9429562 0200000000000000" +
            "0100000000000000 2b00000000000000 3200000000000000 3300000000000000"
        )
      )
    )
    expect(ok(decodeMysqlGtidSet(data))).toEqual(ok(parseMysqlGtidSet(`${a}:1-42:50`)))
    const packet = ok(
      ComBinlogDumpGtid.encode({
        _tag: "ComBinlogDumpGtid",
        flags: 4,
        serverId: 2,
        binlogFilename: "",
        binlogPosition: 4n,
        gtidData: data
      })
    )
    expect(toHex(packet)).toContain(toHex(data))
  })

  it("decode refuses counts that cannot fit", () => {
    expect(err(decodeMysqlGtidSet(fromHex("ffffffffffffff7f"))).detail).toMatch(/sources do not fit/)
    expect(err(decodeMysqlGtidSet(fromHex(`0100000000000000 ${"00".repeat(16)} ffffffff00000000`))).detail).toMatch(
      /intervals do not fit/
    )
    expect(err(encodeMysqlGtidSet([{ uuid: "nope", intervals: [] }])).kind).toBe("encode")
  })
})
