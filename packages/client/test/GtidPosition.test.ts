// The client-wide replication position of read-your-writes: what MariaDB's last_gtid and MySQL's
// session_track_gtids report, folded into the text a replica is asked to wait for.
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { GtidPosition } from "../src/internal/GtidPosition.ts"

const source = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
const other = "4f22ab58-82db-22f2-af44-d91bb0530673"

const mariadb = (...reported: ReadonlyArray<string>) => {
  const position = new GtidPosition("mariadb")
  for (const text of reported) position.add(text)
  return position
}

const mysql = (...reported: ReadonlyArray<string>) => {
  const position = new GtidPosition("mysql")
  for (const text of reported) position.add(text)
  return position
}

describe("GtidPosition, MariaDB", () => {
  it("keeps one GTID as reported", () => {
    const position = new GtidPosition("mariadb")
    expect(position.isEmpty).toBe(true)
    expect(position.add("0-1-5")).toBe(true)
    expect(position.isEmpty).toBe(false)
    expect(position.toString()).toBe("0-1-5")
  })

  it("keeps the highest sequence of each domain", () => {
    expect(mariadb("0-1-5", "1-1-7", "0-1-6", "1-1-8").toString()).toBe("0-1-6,1-1-8")
  })

  it("follows a new server id in the same domain when its sequence is higher", () => {
    expect(mariadb("0-1-5", "0-2-6").toString()).toBe("0-2-6")
  })

  it("ignores a lower or equal sequence, whatever its server id", () => {
    const position = mariadb("0-1-9")
    expect(position.add("0-1-4")).toBe(false)
    expect(position.add("0-2-9")).toBe(false)
    expect(position.toString()).toBe("0-1-9")
  })

  it("ignores what is no GTID, keeping the rest of the text", () => {
    const position = new GtidPosition("mariadb")
    for (const garbage of ["", "0-1", "a-b-c", "0-1-5-6", "-1-2-3", "uuid:5", " , "]) {
      expect(position.add(garbage)).toBe(false)
    }
    expect(position.isEmpty).toBe(true)
    expect(position.add("garbage, 2-3-4")).toBe(true)
    expect(position.toString()).toBe("2-3-4")
  })
})

describe("GtidPosition, MySQL", () => {
  it("keeps one GTID (`uuid:5`)", () => {
    expect(mysql(`${source}:5`).toString()).toBe(`${source}:5`)
  })

  it("takes the end of a range (`uuid:3-5`)", () => {
    expect(mysql(`${source}:3-5`).toString()).toBe(`${source}:5`)
  })

  it("takes the highest of several intervals (`uuid:1-3:7-9`)", () => {
    expect(mysql(`${source}:1-3:7-9`).toString()).toBe(`${source}:9`)
  })

  it("keeps a tagged stream apart from the untagged one (`uuid:tag:1-5`, MySQL 8.4)", () => {
    expect(mysql(`${source}:tag_1:1-5`, `${source}:3`).toString()).toBe(`${source}:tag_1:5,${source}:3`)
  })

  it("gives each tag in one set its own intervals (`uuid:1-5:a:1-3:b:7`)", () => {
    expect(mysql(`${source}:1-5:a:1-3:9:b:7`).toString()).toBe(`${source}:5,${source}:a:9,${source}:b:7`)
  })

  it("reads tags and UUIDs regardless of case, as MySQL does", () => {
    const position = mysql(`${source}:Tag:4`)
    expect(position.add(`${source.toUpperCase()}:TAG:3`)).toBe(false)
    expect(position.add(`${source.toUpperCase()}:tag:6`)).toBe(true)
    expect(position.toString()).toBe(`${source.toUpperCase()}:tag:6`)
  })

  it("reads several sources, comma-separated (with the newline MySQL puts after each comma)", () => {
    expect(mysql(`${source}:1-3,\n${other}:7`).toString()).toBe(`${source}:3,${other}:7`)
  })

  it("ignores a lower number of a known source", () => {
    const position = mysql(`${source}:9`)
    expect(position.add(`${source}:1-8`)).toBe(false)
    expect(position.toString()).toBe(`${source}:9`)
  })

  it("ignores what is no GTID set, keeping the rest of the text", () => {
    const position = new GtidPosition("mysql")
    for (const garbage of [
      "",
      "0-1-5",
      "5",
      "not-a-uuid:5",
      `${source}`,
      `${source}:`,
      `${source}:x-y`,
      `${source}:1:-`
    ]) {
      expect(position.add(garbage)).toBe(false)
    }
    expect(position.add(`${source}:9tag:5`)).toBe(false)
    expect(position.isEmpty).toBe(true)
    expect(position.add(`nonsense,${other}:2`)).toBe(true)
    expect(position.toString()).toBe(`${other}:2`)
  })
})

describe("GtidPosition comparisons", () => {
  it("coveredBy: every stream at or behind the other's", () => {
    const written = mariadb("0-1-5", "1-1-3")
    expect(written.coveredBy(mariadb("0-1-5", "1-1-3"))).toBe(true)
    expect(written.coveredBy(mariadb("0-1-6", "1-1-4", "2-1-1"))).toBe(true)
    expect(written.coveredBy(mariadb("0-1-6"))).toBe(false)
    expect(written.coveredBy(mariadb("0-1-4", "1-1-9"))).toBe(false)
    expect(new GtidPosition("mariadb").coveredBy(new GtidPosition("mariadb"))).toBe(true)
    expect(mysql(`${source}:tag:5`).coveredBy(mysql(`${source}:9`))).toBe(false)
  })

  it("snapshot: a copy that later additions to either side do not change", () => {
    const position = mariadb("0-1-5")
    const copy = position.snapshot()
    position.add("0-1-6")
    copy.add("1-1-1")
    expect(position.toString()).toBe("0-1-6")
    expect(copy.toString()).toBe("0-1-5,1-1-1")
    expect(copy.flavor).toBe("mariadb")
  })

  it("add never throws, whatever the text", () => {
    const gtidish = fc.stringMatching(/^[0-9a-fA-F:,\-\s_tag]{0,80}$/)
    fc.assert(
      fc.property(
        fc.constantFrom("mysql" as const, "mariadb" as const),
        fc.oneof(fc.string(), gtidish),
        (flavor, text) => {
          const position = new GtidPosition(flavor)
          position.add(text)
          position.add(`${source}:${text}`)
          expect(typeof position.toString()).toBe("string")
        }
      )
    )
  })
})
