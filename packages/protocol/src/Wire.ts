/**
 * Wire primitives: the basic data types of the MySQL/MariaDB client/server protocol, read from and
 * written to `Uint8Array`s.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_data_types.html
 *        (page_protocol_basic_dt_integers, page_protocol_basic_dt_strings)
 * MariaDB: https://mariadb.com/kb/en/protocol-data-types/
 *
 * - fixed-length integers `int<1|2|3|4|6|8>`, little-endian;
 * - length-encoded integers `int<lenenc>`: < 0xFB in one byte, 0xFB is NULL (in rows), 0xFC + 2
 *   bytes, 0xFD + 3 bytes, 0xFE + 8 bytes; 0xFF is not a valid prefix. Values above 2^53 - 1 come
 *   back as `bigint`, all others as `number`;
 * - strings: fixed-length `string[n]`, NUL-terminated `string<NUL>`, length-encoded
 *   `string<lenenc>`, rest-of-packet `string<EOF>`; each also as raw bytes.
 *
 * Every read is bounds checked. The readers and the `Writer` throw a `WireError` when the bytes do
 * not fit: that is the one internal failure of a codec, caught at the exported boundary of the
 * packet codecs (see `Packet.ts`), which answer with a `Result` carrying a `ProtocolError`. Code
 * outside this package should reach these readers through `Packet.decodeWith`, which catches.
 *
 * Hot paths (row decoders) use the free functions over `(Uint8Array, offset)` for fixed-width
 * integers and one reusable `Reader` (a cursor with a public numeric `pos`) for the variable-length
 * ones: nothing is allocated per call except the values themselves (strings, byte views).
 *
 * Pure code: `Uint8Array` and plain data only; no IO, no Buffer, no Effect runtime.
 *
 * @module
 */

/**
 * The internal failure of a wire read or write. Thrown inside codecs only; the packet codecs turn
 * it into a `ProtocolError` naming the packet, the field and the offset.
 */
export class WireError extends Error {
  readonly _tag = "WireError"
  readonly offset: number
  readonly field: string | undefined
  constructor(message: string, offset: number, field?: string) {
    super(message)
    this.offset = offset
    this.field = field
  }
}

/** `true` for the internal failure thrown by readers and writers. */
export const isWireError = (u: unknown): u is WireError => u instanceof WireError

const fail = (message: string, offset: number): never => {
  throw new WireError(message, offset)
}

const truncated = (need: number, offset: number, end: number): never =>
  fail(`truncated: need ${need} byte(s) at offset ${offset}, ${Math.max(0, end - offset)} left`, offset)

// ---------------------------------------------------------------------------------------------
// Length-encoded integer prefixes
// ---------------------------------------------------------------------------------------------

/** Prefix of a NULL in a text row or of a LOCAL INFILE request. */
export const LENENC_NULL = 0xfb
/** Prefix of a 2-byte length-encoded integer. */
export const LENENC_2 = 0xfc
/** Prefix of a 3-byte length-encoded integer. */
export const LENENC_3 = 0xfd
/** Prefix of an 8-byte length-encoded integer (also the EOF header). */
export const LENENC_8 = 0xfe

/**
 * Size in bytes of a length-encoded integer (prefix included) given its first byte: 1 for values
 * below 0xFB and for NULL, 3, 4 or 9 for the prefixed forms, 0 for the invalid prefix 0xFF.
 */
export const lenencSize = (first: number): number =>
  first < 0xfb ? 1 : first === 0xfb ? 1 : first === 0xfc ? 3 : first === 0xfd ? 4 : first === 0xfe ? 9 : 0

/** Number of bytes `lenencInt` writes for `value`. */
export const lenencIntLength = (value: number | bigint): number =>
  value < 0xfb ? 1 : value < 0x10000 ? 3 : value < 0x1000000 ? 4 : 9

// ---------------------------------------------------------------------------------------------
// Free functions over (buffer, offset): fixed-width little-endian integers
// ---------------------------------------------------------------------------------------------

const check = (buf: Uint8Array, pos: number, n: number): void => {
  if (pos < 0 || pos + n > buf.length) truncated(n, pos, buf.length)
}

/** `int<1>` at `pos`. */
export const readInt1 = (buf: Uint8Array, pos: number): number => {
  check(buf, pos, 1)
  return buf[pos]
}

/** `int<2>` little-endian at `pos`. */
export const readInt2 = (buf: Uint8Array, pos: number): number => {
  check(buf, pos, 2)
  return buf[pos] | (buf[pos + 1] << 8)
}

/** `int<3>` little-endian at `pos`. */
export const readInt3 = (buf: Uint8Array, pos: number): number => {
  check(buf, pos, 3)
  return buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16)
}

/** `int<4>` little-endian (unsigned) at `pos`. */
export const readInt4 = (buf: Uint8Array, pos: number): number => {
  check(buf, pos, 4)
  return (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16)) + buf[pos + 3] * 0x1000000
}

/** `int<6>` little-endian (unsigned) at `pos`. */
export const readInt6 = (buf: Uint8Array, pos: number): number => {
  check(buf, pos, 6)
  const lo = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16)) + buf[pos + 3] * 0x1000000
  return lo + (buf[pos + 4] | (buf[pos + 5] << 8)) * 0x100000000
}

/** `int<8>` little-endian, unsigned, as a `bigint`. */
export const readInt8 = (buf: Uint8Array, pos: number): bigint => {
  check(buf, pos, 8)
  const lo = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16)) + buf[pos + 3] * 0x1000000
  const hi = (buf[pos + 4] | (buf[pos + 5] << 8) | (buf[pos + 6] << 16)) + buf[pos + 7] * 0x1000000
  return (BigInt(hi) << 32n) | BigInt(lo)
}

/** `int<8>` little-endian, unsigned: a `number` when it is at most 2^53 - 1, else a `bigint`. */
export const readUint64 = (buf: Uint8Array, pos: number): number | bigint => {
  check(buf, pos, 8)
  const lo = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16)) + buf[pos + 3] * 0x1000000
  const hi = (buf[pos + 4] | (buf[pos + 5] << 8) | (buf[pos + 6] << 16)) + buf[pos + 7] * 0x1000000
  return hi < 0x200000 ? hi * 0x100000000 + lo : (BigInt(hi) << 32n) | BigInt(lo)
}

/** Signed `int<1>`. */
export const readSint1 = (buf: Uint8Array, pos: number): number => (readInt1(buf, pos) << 24) >> 24

/** Signed `int<2>` little-endian. */
export const readSint2 = (buf: Uint8Array, pos: number): number => (readInt2(buf, pos) << 16) >> 16

/** Signed `int<3>` little-endian. */
export const readSint3 = (buf: Uint8Array, pos: number): number => (readInt3(buf, pos) << 8) >> 8

/** Signed `int<4>` little-endian. */
export const readSint4 = (buf: Uint8Array, pos: number): number => {
  check(buf, pos, 4)
  return buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)
}

/** Signed `int<8>` little-endian, as a `bigint`. */
export const readSint8 = (buf: Uint8Array, pos: number): bigint => BigInt.asIntN(64, readInt8(buf, pos))

const scratch = new Uint8Array(8)
const scratchF32 = new Float32Array(scratch.buffer, 0, 1)
const scratchF64 = new Float64Array(scratch.buffer, 0, 1)
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

const loadScratch = (buf: Uint8Array, pos: number, n: number): void => {
  check(buf, pos, n)
  if (littleEndianHost) for (let i = 0; i < n; i++) scratch[i] = buf[pos + i]
  else for (let i = 0; i < n; i++) scratch[n - 1 - i] = buf[pos + i]
}

/** IEEE 754 single precision, little-endian. */
export const readFloat4 = (buf: Uint8Array, pos: number): number => {
  loadScratch(buf, pos, 4)
  return scratchF32[0]
}

/** IEEE 754 double precision, little-endian. */
export const readFloat8 = (buf: Uint8Array, pos: number): number => {
  loadScratch(buf, pos, 8)
  return scratchF64[0]
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

const utf8Decoder = new TextDecoder("utf-8")
const utf8Encoder = new TextEncoder()

/** Decodes UTF-8 bytes `[start, end)` of `buf`. Short ASCII runs skip the TextDecoder call. */
export const decodeUtf8 = (buf: Uint8Array, start: number, end: number): string => {
  if (end - start <= 16) {
    let s = ""
    for (let i = start; i < end; i++) {
      const c = buf[i]
      if (c >= 0x80) return utf8Decoder.decode(buf.subarray(start, end))
      s += String.fromCharCode(c)
    }
    return s
  }
  return utf8Decoder.decode(buf.subarray(start, end))
}

/** UTF-8 bytes of `s`. */
export const encodeUtf8 = (s: string): Uint8Array => utf8Encoder.encode(s)

// ---------------------------------------------------------------------------------------------
// Reader: a bounds-checked cursor
// ---------------------------------------------------------------------------------------------

/**
 * A cursor over `buf[pos, end)`. `pos` is public and numeric: hot loops may read it, advance it or
 * reset the reader onto the next packet with `reset` instead of allocating a new one.
 *
 * Every method throws a `WireError` when the bytes are missing or malformed.
 */
export class Reader {
  buf: Uint8Array
  pos: number
  end: number

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf
    this.pos = pos
    this.end = end
  }

  /** Points the reader at another buffer (or range) without allocating. */
  reset(buf: Uint8Array, pos = 0, end = buf.length): this {
    this.buf = buf
    this.pos = pos
    this.end = end
    return this
  }

  /** Bytes left before `end`. */
  remaining(): number {
    return this.end - this.pos
  }

  /** `true` when no byte is left. */
  atEnd(): boolean {
    return this.pos >= this.end
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) truncated(n, this.pos, this.end)
  }

  /** The next byte without consuming it. */
  peek(): number {
    this.need(1)
    return this.buf[this.pos]
  }

  /** Skips `n` bytes. */
  skip(n: number): void {
    this.need(n)
    this.pos += n
  }

  /** `int<1>` */
  int1(): number {
    this.need(1)
    return this.buf[this.pos++]
  }

  /** `int<2>` little-endian. */
  int2(): number {
    this.need(2)
    const b = this.buf
    const p = this.pos
    this.pos = p + 2
    return b[p] | (b[p + 1] << 8)
  }

  /** `int<3>` little-endian. */
  int3(): number {
    this.need(3)
    const b = this.buf
    const p = this.pos
    this.pos = p + 3
    return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)
  }

  /** `int<4>` little-endian, unsigned. */
  int4(): number {
    this.need(4)
    const b = this.buf
    const p = this.pos
    this.pos = p + 4
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000
  }

  /** `int<6>` little-endian, unsigned. */
  int6(): number {
    this.need(6)
    const v = readInt6(this.buf, this.pos)
    this.pos += 6
    return v
  }

  /** `int<8>` little-endian, unsigned, as a `bigint`. */
  int8(): bigint {
    this.need(8)
    const v = readInt8(this.buf, this.pos)
    this.pos += 8
    return v
  }

  /** `int<8>` little-endian, unsigned: `number` up to 2^53 - 1, else `bigint`. */
  uint64(): number | bigint {
    this.need(8)
    const v = readUint64(this.buf, this.pos)
    this.pos += 8
    return v
  }

  /**
   * `int<lenenc>`: `null` for the 0xFB prefix, a `number` up to 2^53 - 1, a `bigint` above.
   * The prefix 0xFF is an error.
   */
  lenencInt(): number | bigint | null {
    const first = this.int1()
    if (first < 0xfb) return first
    switch (first) {
      case 0xfb:
        return null
      case 0xfc:
        return this.int2()
      case 0xfd:
        return this.int3()
      case 0xfe:
        return this.uint64()
      default:
        return fail("invalid length-encoded integer prefix 0xFF", this.pos - 1)
    }
  }

  /**
   * `int<lenenc>` used as a length or count: NULL and values above 2^53 - 1 are errors. The
   * result is not checked against the bytes left; `lenencLength` is.
   */
  lenencNumber(): number {
    const start = this.pos
    const v = this.lenencInt()
    if (v === null) return fail("unexpected NULL length-encoded integer", start)
    if (typeof v === "bigint") return fail(`length-encoded integer too large: ${v}`, start)
    return v
  }

  /** `int<lenenc>` giving the length of what follows; it must fit in the bytes left. */
  lenencLength(): number {
    const n = this.lenencNumber()
    if (n > this.end - this.pos) truncated(n, this.pos, this.end)
    return n
  }

  /** `string<lenenc>` as bytes (a view into the buffer, not a copy). */
  lenencBytes(): Uint8Array {
    const n = this.lenencLength()
    const p = this.pos
    this.pos = p + n
    return this.buf.subarray(p, p + n)
  }

  /** `string<lenenc>` as UTF-8 text. */
  lenencString(): string {
    const n = this.lenencLength()
    const p = this.pos
    this.pos = p + n
    return decodeUtf8(this.buf, p, p + n)
  }

  /** `string<lenenc>` or NULL (0xFB), as in text rows. */
  lenencStringOrNull(): string | null {
    if (this.peek() === 0xfb) {
      this.pos++
      return null
    }
    return this.lenencString()
  }

  /** `string[n]` as bytes (a view). */
  fixedBytes(n: number): Uint8Array {
    this.need(n)
    const p = this.pos
    this.pos = p + n
    return this.buf.subarray(p, p + n)
  }

  /** `string[n]` as UTF-8 text. */
  fixedString(n: number): string {
    this.need(n)
    const p = this.pos
    this.pos = p + n
    return decodeUtf8(this.buf, p, p + n)
  }

  /** Index of the next NUL byte, or -1. */
  private nulIndex(): number {
    const b = this.buf
    for (let i = this.pos; i < this.end; i++) if (b[i] === 0) return i
    return -1
  }

  /** `string<NUL>` as bytes (a view, terminator excluded and consumed). */
  nulBytes(): Uint8Array {
    const i = this.nulIndex()
    if (i < 0) return fail("missing NUL terminator", this.pos)
    const p = this.pos
    this.pos = i + 1
    return this.buf.subarray(p, i)
  }

  /** `string<NUL>` as UTF-8 text. */
  nulString(): string {
    const i = this.nulIndex()
    if (i < 0) return fail("missing NUL terminator", this.pos)
    const p = this.pos
    this.pos = i + 1
    return decodeUtf8(this.buf, p, i)
  }

  /** `string<EOF>` as bytes (a view of everything left). */
  restBytes(): Uint8Array {
    const p = this.pos
    this.pos = this.end
    return this.buf.subarray(p, this.end)
  }

  /** `string<EOF>` as UTF-8 text. */
  restString(): string {
    const p = this.pos
    this.pos = this.end
    return decodeUtf8(this.buf, p, this.end)
  }

  /** IEEE 754 single, little-endian. */
  float4(): number {
    this.need(4)
    const v = readFloat4(this.buf, this.pos)
    this.pos += 4
    return v
  }

  /** IEEE 754 double, little-endian. */
  float8(): number {
    this.need(8)
    const v = readFloat8(this.buf, this.pos)
    this.pos += 8
    return v
  }

  /** Throws unless every byte has been consumed. */
  expectEnd(): void {
    if (this.pos < this.end) fail(`${this.end - this.pos} unexpected trailing byte(s)`, this.pos)
  }
}

// ---------------------------------------------------------------------------------------------
// Writer: a growable byte buffer
// ---------------------------------------------------------------------------------------------

const TWO_64 = 1n << 64n
const TWO_32 = 2 ** 32

const checkInt = (value: number, bytes: number, pos: number): void => {
  // Accepts the unsigned range and the signed range of the width (two's complement on the wire).
  const max = 2 ** (8 * bytes)
  if (!Number.isInteger(value) || value < -max / 2 || value >= max) {
    fail(`${value} does not fit in int<${bytes}>`, pos)
  }
}

/**
 * A growable little-endian writer. `finish` returns the bytes written. Out-of-range values throw a
 * `WireError`, like the readers.
 */
export class Writer {
  buf: Uint8Array
  pos: number

  constructor(capacity = 64) {
    this.buf = new Uint8Array(Math.max(16, capacity))
    this.pos = 0
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n
    if (need <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < need) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }

  /** The bytes written so far (a view; the writer must not be used afterwards). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos)
  }

  /** `int<1>` (0..255, or -128..-1 as two's complement). */
  int1(v: number): this {
    checkInt(v, 1, this.pos)
    this.ensure(1)
    this.buf[this.pos++] = v & 0xff
    return this
  }

  /** `int<2>` little-endian. */
  int2(v: number): this {
    checkInt(v, 2, this.pos)
    this.ensure(2)
    const b = this.buf
    const p = this.pos
    b[p] = v & 0xff
    b[p + 1] = (v >>> 8) & 0xff
    this.pos = p + 2
    return this
  }

  /** `int<3>` little-endian. */
  int3(v: number): this {
    checkInt(v, 3, this.pos)
    this.ensure(3)
    const b = this.buf
    const p = this.pos
    b[p] = v & 0xff
    b[p + 1] = (v >>> 8) & 0xff
    b[p + 2] = (v >>> 16) & 0xff
    this.pos = p + 3
    return this
  }

  /** `int<4>` little-endian. */
  int4(v: number): this {
    checkInt(v, 4, this.pos)
    this.ensure(4)
    const b = this.buf
    const p = this.pos
    b[p] = v & 0xff
    b[p + 1] = (v >>> 8) & 0xff
    b[p + 2] = (v >>> 16) & 0xff
    b[p + 3] = (v >>> 24) & 0xff
    this.pos = p + 4
    return this
  }

  /** `int<6>` little-endian (unsigned). */
  int6(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** 48) fail(`${v} does not fit in int<6>`, this.pos)
    this.ensure(6)
    const lo = v % 0x100000000
    const hi = Math.floor(v / 0x100000000)
    const b = this.buf
    const p = this.pos
    b[p] = lo & 0xff
    b[p + 1] = (lo >>> 8) & 0xff
    b[p + 2] = (lo >>> 16) & 0xff
    b[p + 3] = (lo >>> 24) & 0xff
    b[p + 4] = hi & 0xff
    b[p + 5] = (hi >>> 8) & 0xff
    this.pos = p + 6
    return this
  }

  /** `int<8>` little-endian; negative values are written as two's complement. */
  int8(v: number | bigint): this {
    let lo: number
    let hi: number
    if (typeof v === "number") {
      // A safe integer splits into two 32-bit halves without a bigint (|v| < 2^53: hi fits in 22 bits).
      if (!Number.isSafeInteger(v)) fail(`${v} is not a safe integer for int<8>`, this.pos)
      hi = Math.floor(v / TWO_32)
      lo = v - hi * TWO_32
    } else {
      if (v < -(TWO_64 >> 1n) || v >= TWO_64) fail(`${v} does not fit in int<8>`, this.pos)
      const u = BigInt.asUintN(64, v)
      lo = Number(u & 0xffffffffn)
      hi = Number(u >> 32n)
    }
    this.ensure(8)
    const b = this.buf
    const p = this.pos
    b[p] = lo & 0xff
    b[p + 1] = (lo >>> 8) & 0xff
    b[p + 2] = (lo >>> 16) & 0xff
    b[p + 3] = (lo >>> 24) & 0xff
    b[p + 4] = hi & 0xff
    b[p + 5] = (hi >>> 8) & 0xff
    b[p + 6] = (hi >>> 16) & 0xff
    b[p + 7] = (hi >>> 24) & 0xff
    this.pos = p + 8
    return this
  }

  /** `int<lenenc>`; `null` writes the NULL prefix 0xFB. */
  lenencInt(v: number | bigint | null): this {
    if (v === null) return this.int1(0xfb)
    if (typeof v === "number" && (!Number.isSafeInteger(v) || v < 0)) {
      fail(`${v} is not a valid length-encoded integer`, this.pos)
    }
    if (typeof v === "bigint" && (v < 0n || v >= TWO_64)) fail(`${v} does not fit in int<lenenc>`, this.pos)
    if (v < 0xfb) return this.int1(Number(v))
    if (v < 0x10000) return this.int1(0xfc).int2(Number(v))
    if (v < 0x1000000) return this.int1(0xfd).int3(Number(v))
    return this.int1(0xfe).int8(v)
  }

  /** `string[n]` / `string<EOF>`: the bytes as they are. */
  bytes(v: Uint8Array): this {
    this.ensure(v.length)
    this.buf.set(v, this.pos)
    this.pos += v.length
    return this
  }

  /** `n` zero bytes (fillers, reserved fields). */
  zeros(n: number): this {
    this.ensure(n)
    this.buf.fill(0, this.pos, this.pos + n)
    this.pos += n
    return this
  }

  /** UTF-8 text without any length or terminator. */
  string(s: string): this {
    this.ensure(s.length * 3)
    const { written } = utf8Encoder.encodeInto(s, this.buf.subarray(this.pos))
    this.pos += written
    return this
  }

  /** `string<lenenc>` from bytes. */
  lenencBytes(v: Uint8Array): this {
    return this.lenencInt(v.length).bytes(v)
  }

  /** `string<lenenc>` from UTF-8 text. */
  lenencString(s: string): this {
    if (s.length * 3 < 0xfb) {
      // One length byte is enough whatever the encoding: write the text, then backfill its length.
      const at = this.pos
      this.ensure(1 + s.length * 3)
      this.pos++
      this.string(s)
      this.buf[at] = this.pos - at - 1
      return this
    }
    return this.lenencBytes(utf8Encoder.encode(s))
  }

  /** `string<NUL>` from bytes; the bytes must not contain NUL. */
  nulBytes(v: Uint8Array): this {
    if (v.indexOf(0) >= 0) fail("NUL byte inside a NUL-terminated string", this.pos)
    return this.bytes(v).int1(0)
  }

  /** `string<NUL>` from UTF-8 text; the text must not contain U+0000. */
  nulString(s: string): this {
    if (s.indexOf("\u0000") >= 0) fail("NUL character inside a NUL-terminated string", this.pos)
    return this.string(s).int1(0)
  }

  /** `string[n]`: exactly `n` bytes. */
  fixedBytes(v: Uint8Array, n: number): this {
    if (v.length !== n) fail(`expected ${n} byte(s), got ${v.length}`, this.pos)
    return this.bytes(v)
  }

  /** IEEE 754 single, little-endian. */
  float4(v: number): this {
    scratchF32[0] = v
    this.ensure(4)
    if (littleEndianHost) for (let i = 0; i < 4; i++) this.buf[this.pos + i] = scratch[i]
    else for (let i = 0; i < 4; i++) this.buf[this.pos + i] = scratch[3 - i]
    this.pos += 4
    return this
  }

  /** IEEE 754 double, little-endian. */
  float8(v: number): this {
    scratchF64[0] = v
    this.ensure(8)
    if (littleEndianHost) for (let i = 0; i < 8; i++) this.buf[this.pos + i] = scratch[i]
    else for (let i = 0; i < 8; i++) this.buf[this.pos + i] = scratch[7 - i]
    this.pos += 8
    return this
  }
}
