/**
 * Collations: collation id → character set → how to turn the bytes of a text value into a string.
 *
 * The id travels in ColumnDefinition41 (`collation` [2 bytes]), in the greeting and handshake
 * response (`character_set` [1 byte], the low byte of the connection's collation), and in
 * session-state tracking. The table (`internal/collationTable.ts`) covers every collation of
 * MariaDB 10.11 (including the UCA 14.0 ids 2048+) and of MySQL 8.4 (gb18030, utf8mb4_*_0900_*);
 * `scripts/collations.py` regenerates it from a running server.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_character_set.html
 *        https://dev.mysql.com/doc/refman/8.4/en/charset-charsets.html
 * MariaDB: https://mariadb.com/kb/en/supported-character-sets-and-collations/
 *
 * Decoding uses the WHATWG `TextDecoder` (Node, Deno and Bun all ship the legacy encodings) with
 * `fatal: true`, so invalid bytes are an error rather than U+FFFD, and `ignoreBOM: true`, so a
 * leading U+FEFF is data. The character sets map as follows:
 *
 *   utf8mb4, utf8mb3          utf-8
 *   latin1                    windows-1252 (MySQL's latin1 is cp1252, 0x80 is €)
 *   ascii                     windows-1252 (7-bit data decodes identically)
 *   latin2 / latin5 / latin7  iso-8859-2 / windows-1254 / iso-8859-13
 *   greek / hebrew            iso-8859-7 / iso-8859-8
 *   cp1250 cp1251 cp1256 cp1257   windows-125x
 *   cp866 koi8r koi8u macroman    ibm866 / koi8-r / koi8-u / macintosh
 *   tis620                    windows-874 (a superset of TIS-620)
 *   big5 gbk gb2312 gb18030   big5 / gbk / gbk (a superset) / gb18030
 *   sjis cp932                shift_jis (the WHATWG decoder is Windows-31J, i.e. cp932)
 *   ujis eucjpms              euc-jp (eucjpms' extra IBM/NEC rows are approximated)
 *   euckr                     euc-kr
 *   ucs2 utf16 / utf16le      utf-16be / utf-16le
 *   utf32                     UTF-32BE, decoded here (not a WHATWG encoding)
 *   binary                    no decoding: bytes
 *
 * Unsupported (no WHATWG decoder): dec8, cp850, cp852, hp8, swe7, armscii8, keybcs2, macce,
 * geostd8. Their values are returned as bytes (`Uint8Array`), as are values of unknown ids.
 *
 * Pure data and functions; no IO.
 */
import { BINARY_COLLATION_ID } from "./ColumnType.ts"
import { CHARSETS, COLLATIONS } from "./internal/collationTable.ts"

export interface Collation {
  readonly id: number
  /** Character set name as the server spells it ("utf8mb4", "latin1", "binary"). */
  readonly charset: string
  /** Collation name ("utf8mb4_general_ci"). */
  readonly name: string
}

const byId = new Map<number, Collation>()
for (const [id, charsetIndex, suffix] of COLLATIONS) {
  const charset = CHARSETS[charsetIndex]
  byId.set(id, { id, charset, name: suffix.startsWith("=") ? suffix.slice(1) : charset + suffix })
}

/** Every known collation, by id. */
export const collations: ReadonlyMap<number, Collation> = byId

/** The collation with this id, or `undefined`. */
export const collation = (id: number): Collation | undefined => byId.get(id)

/** The character set of a collation id ("utf8mb4"), or `undefined` for an unknown id. */
export const charsetOf = (id: number): string | undefined => byId.get(id)?.charset

/** Well-known ids. */
export const CollationId = {
  latin1_swedish_ci: 8,
  utf8mb3_general_ci: 33,
  utf8mb4_general_ci: 45,
  utf8mb4_bin: 46,
  binary: BINARY_COLLATION_ID,
  utf8mb4_unicode_ci: 224,
  /** MySQL 8's default. */
  utf8mb4_0900_ai_ci: 255,
  /** MariaDB 11.x's default. */
  utf8mb4_uca1400_ai_ci: 2304
} as const

/**
 * How text in a character set is decoded.
 *  - `utf8`: UTF-8 (utf8mb4, utf8mb3), the fast path of the row decoders.
 *  - `single`: a single-byte charset (latin1, ascii, cp1251…) through `decoder`.
 *  - `multi`: another charset through `decoder`.
 *  - `bytes`: no text: the binary charset, unknown ids and unsupported charsets.
 */
export type CharsetDecoding =
  | { readonly kind: "utf8"; readonly charset: string; readonly decoder: TextDecoderLike }
  | { readonly kind: "single"; readonly charset: string; readonly decoder: TextDecoderLike }
  | { readonly kind: "multi"; readonly charset: string; readonly decoder: TextDecoderLike }
  | { readonly kind: "bytes"; readonly charset: string; readonly reason: "binary" | "unknown" | "unsupported" }

/** The part of `TextDecoder` used here; `decode` throws a TypeError on invalid input. */
export interface TextDecoderLike {
  decode(input: Uint8Array): string
}

/** WHATWG encoding label and whether the charset is single-byte. */
const WHATWG: Record<string, readonly [label: string, single: boolean]> = {
  utf8mb4: ["utf-8", false],
  utf8mb3: ["utf-8", false],
  latin1: ["windows-1252", true],
  ascii: ["windows-1252", true],
  latin2: ["iso-8859-2", true],
  latin5: ["windows-1254", true],
  latin7: ["iso-8859-13", true],
  greek: ["iso-8859-7", true],
  hebrew: ["iso-8859-8", true],
  cp1250: ["windows-1250", true],
  cp1251: ["windows-1251", true],
  cp1256: ["windows-1256", true],
  cp1257: ["windows-1257", true],
  cp866: ["ibm866", true],
  koi8r: ["koi8-r", true],
  koi8u: ["koi8-u", true],
  macroman: ["macintosh", true],
  tis620: ["windows-874", true],
  big5: ["big5", false],
  gbk: ["gbk", false],
  gb2312: ["gbk", false],
  gb18030: ["gb18030", false],
  sjis: ["shift_jis", false],
  cp932: ["shift_jis", false],
  ujis: ["euc-jp", false],
  eucjpms: ["euc-jp", false],
  euckr: ["euc-kr", false],
  ucs2: ["utf-16be", false],
  utf16: ["utf-16be", false],
  utf16le: ["utf-16le", false]
}

/** Character sets the server has and this package cannot decode (their values stay bytes). */
export const UNSUPPORTED_CHARSETS: ReadonlyArray<string> = [
  "dec8",
  "cp850",
  "cp852",
  "hp8",
  "swe7",
  "armscii8",
  "keybcs2",
  "macce",
  "geostd8"
]

/** UTF-32BE, which WHATWG does not define. Throws a TypeError on an invalid code point or length. */
const utf32Decoder: TextDecoderLike = {
  decode(input) {
    if (input.length % 4 !== 0) throw new TypeError("UTF-32 value length is not a multiple of 4")
    let out = ""
    for (let i = 0; i < input.length; i += 4) {
      const cp = ((input[i] << 24) | (input[i + 1] << 16) | (input[i + 2] << 8) | input[i + 3]) >>> 0
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new TypeError(`invalid UTF-32 code point ${cp}`)
      out += String.fromCodePoint(cp)
    }
    return out
  }
}

const decodings = new Map<string, CharsetDecoding>()

const makeDecoding = (charset: string): CharsetDecoding => {
  if (charset === "binary") return { kind: "bytes", charset, reason: "binary" }
  if (charset === "utf32") return { kind: "multi", charset, decoder: utf32Decoder }
  const whatwg = WHATWG[charset]
  if (whatwg === undefined) return { kind: "bytes", charset, reason: "unsupported" }
  let decoder: TextDecoderLike
  try {
    decoder = new TextDecoder(whatwg[0], { fatal: true, ignoreBOM: true })
  } catch {
    // A runtime without this legacy encoding (none of Node, Deno, Bun as measured).
    return { kind: "bytes", charset, reason: "unsupported" }
  }
  if (whatwg[0] === "utf-8") return { kind: "utf8", charset, decoder }
  return { kind: whatwg[1] ? "single" : "multi", charset, decoder }
}

/** How to decode text in a character set (by name); built once per charset and cached. */
export const decodingForCharset = (charset: string): CharsetDecoding => {
  let decoding = decodings.get(charset)
  if (decoding === undefined) {
    decoding = makeDecoding(charset)
    decodings.set(charset, decoding)
  }
  return decoding
}

const unknown: CharsetDecoding = { kind: "bytes", charset: "unknown", reason: "unknown" }

/** How to decode text of a collation id; unknown ids decode as bytes. */
export const decodingFor = (collationId: number): CharsetDecoding => {
  const c = byId.get(collationId)
  return c === undefined ? unknown : decodingForCharset(c.charset)
}
