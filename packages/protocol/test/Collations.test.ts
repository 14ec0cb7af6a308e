import { describe, expect, it } from "@effect/vitest"
import * as Collations from "../src/Collations.ts"

describe("collations", () => {
  it("knows the common ids of MariaDB and MySQL", () => {
    expect(Collations.collation(8)).toStrictEqual({ id: 8, charset: "latin1", name: "latin1_swedish_ci" })
    expect(Collations.collation(45)?.name).toBe("utf8mb4_general_ci")
    expect(Collations.collation(33)?.charset).toBe("utf8mb3")
    expect(Collations.collation(63)).toStrictEqual({ id: 63, charset: "binary", name: "binary" })
    expect(Collations.collation(224)?.name).toBe("utf8mb4_unicode_ci")
    expect(Collations.collation(255)?.name).toBe("utf8mb4_0900_ai_ci")
    expect(Collations.collation(309)?.name).toBe("utf8mb4_0900_bin")
    expect(Collations.collation(248)?.charset).toBe("gb18030")
    expect(Collations.collation(2304)?.name).toBe("utf8mb4_uca1400_ai_ci")
    expect(Collations.charsetOf(12345)).toBe(undefined)
    expect(Collations.collations.size).toBeGreaterThan(1300)
  })

  it("every character set of the table decodes, or is listed as unsupported", () => {
    const charsets = new Set(Array.from(Collations.collations.values(), (c) => c.charset))
    for (const charset of charsets) {
      const decoding = Collations.decodingForCharset(charset)
      if (decoding.kind === "bytes") {
        expect(charset === "binary" || Collations.UNSUPPORTED_CHARSETS.includes(charset)).toBe(true)
      }
    }
  })

  it("decodes legacy and wide character sets", () => {
    const decode = (id: number, bytes: Array<number>) => {
      const d = Collations.decodingFor(id)
      if (d.kind === "bytes") throw new Error(`no decoder for ${id}`)
      return d.decoder.decode(Uint8Array.from(bytes))
    }
    expect(decode(8, [0x80, 0xe9])).toBe("€é") // latin1 = cp1252
    expect(decode(51, [0xcf, 0xf0, 0xe8])).toBe("При") // cp1251
    expect(decode(28, [0xc4, 0xe3])).toBe("你") // gbk
    expect(decode(13, [0x82, 0xa0])).toBe("あ") // sjis
    expect(decode(35, [0x00, 0x41, 0x04, 0x1f])).toBe("AП") // ucs2 big-endian
    expect(decode(54, [0xd8, 0x3d, 0xde, 0x00])).toBe("😀") // utf16 big-endian
    expect(decode(56, [0x3d, 0xd8, 0x00, 0xde])).toBe("😀") // utf16le
    expect(decode(60, [0, 1, 0xf6, 0x00])).toBe("😀") // utf32
    expect(() => decode(60, [0, 0x11, 0, 0])).toThrow()
    expect(decode(45, [0xef, 0xbb, 0xbf, 0x61])).toBe("\uFEFFa") // a BOM is data
    expect(() => decode(45, [0xc3, 0x28])).toThrow() // fatal
  })

  it("unsupported and unknown character sets stay bytes", () => {
    expect(Collations.decodingForCharset("dec8").kind).toBe("bytes")
    expect(Collations.decodingFor(63)).toMatchObject({ kind: "bytes", reason: "binary" })
    expect(Collations.decodingFor(60000)).toMatchObject({ kind: "bytes", reason: "unknown" })
  })
})
