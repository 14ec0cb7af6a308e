/**
 * Packet: how a packet is declared once and gets both its decoder and its encoder.
 *
 * A packet is an Effect Schema (its decoded shape: a type, a validator, readable errors) plus a
 * layout: the list of its wire fields in order, each a small bidirectional step built from the
 * field codecs below (`int<n>`, `string<lenenc>`, `string<NUL>`, …). Steps may be conditional on
 * capability flags or on fields read before (`when`), constant (`header`, `zeros`), or custom for the
 * rare field whose bytes are spread over several places (the greeting's capability flags and
 * scramble). The same list drives `decode` (bytes → value) and `encode` (value → bytes), so the
 * two directions cannot drift apart.
 *
 * Decoding never throws: it returns `Result.succeed(value)` or `Result.fail(ProtocolError)` with
 * the packet name, the field being read and the byte offset. Encoding validates the value against
 * the schema first and answers the same way. Internally the field codecs throw a `WireError` (see
 * `Wire.ts`), caught once here.
 *
 * The field codecs (`int1`, `lenencString`, …) and steps are building blocks for `define`: their
 * `read`/`write` throw `WireError` and are meant to run only inside `decode`/`encode` (or
 * `decodeWith`/`encodeWith`), which catch. Likewise `unsafeRead`/`unsafeWrite` of a packet codec, for
 * composing packets.
 *
 * Pure code: `Uint8Array` and plain data only; no IO, no Buffer, no Effect runtime.
 *
 * @module
 */
import { Result, Schema } from "effect"
import type { CapabilitySet } from "./Capabilities.ts"
import { emptyCapabilitySet } from "./Capabilities.ts"
import { encodePacket, type FramedPacket, MAX_PACKET_PAYLOAD, PACKET_HEADER_LENGTH } from "./Framing.ts"
import { encodeError, ProtocolError, protocolError } from "./ProtocolError.ts"
import { isWireError, Reader, WireError, Writer } from "./Wire.ts"

// ---------------------------------------------------------------------------------------------
// Field codecs
// ---------------------------------------------------------------------------------------------

/** Reads and writes one wire value. Both sides may throw `WireError`. */
export interface FieldCodec<T> {
  readonly read: (r: Reader) => T
  readonly write: (w: Writer, value: T) => void
}

const codec = <T>(read: (r: Reader) => T, write: (w: Writer, value: T) => void): FieldCodec<T> => ({ read, write })

/** `int<1>` */
export const int1: FieldCodec<number> = codec(
  (r) => r.int1(),
  (w, v) => w.int1(v)
)
/** `int<2>` */
export const int2: FieldCodec<number> = codec(
  (r) => r.int2(),
  (w, v) => w.int2(v)
)
/** `int<3>` */
export const int3: FieldCodec<number> = codec(
  (r) => r.int3(),
  (w, v) => w.int3(v)
)
/** `int<4>` */
export const int4: FieldCodec<number> = codec(
  (r) => r.int4(),
  (w, v) => w.int4(v)
)
/** `int<6>` */
export const int6: FieldCodec<number> = codec(
  (r) => r.int6(),
  (w, v) => w.int6(v)
)
/** `int<8>` as bigint. */
export const int8: FieldCodec<bigint> = codec(
  (r) => r.int8(),
  (w, v) => w.int8(v)
)
/** `int<8>` as number (up to 2^53 - 1) or bigint. */
export const uint64: FieldCodec<number | bigint> = codec(
  (r) => r.uint64(),
  (w, v) => w.int8(v)
)
/** `int<lenenc>`, number up to 2^53 - 1 or bigint; NULL is an error. */
export const lenencInt: FieldCodec<number | bigint> = codec(
  (r) => {
    const at = r.pos
    const v = r.lenencInt()
    if (v === null) throw new WireError("unexpected NULL length-encoded integer", at)
    return v
  },
  (w, v) => w.lenencInt(v)
)
/** `int<lenenc>` that must be a safe integer (counts and lengths). */
export const lenencNumber: FieldCodec<number> = codec(
  (r) => r.lenencNumber(),
  (w, v) => w.lenencInt(v)
)
/** `string<lenenc>` as UTF-8 text. */
export const lenencString: FieldCodec<string> = codec(
  (r) => r.lenencString(),
  (w, v) => w.lenencString(v)
)
/** `string<lenenc>` as bytes. */
export const lenencBytes: FieldCodec<Uint8Array> = codec(
  (r) => r.lenencBytes(),
  (w, v) => w.lenencBytes(v)
)
/** `string<NUL>` as UTF-8 text. */
export const nulString: FieldCodec<string> = codec(
  (r) => r.nulString(),
  (w, v) => w.nulString(v)
)
/** `string<NUL>` as bytes. */
export const nulBytes: FieldCodec<Uint8Array> = codec(
  (r) => r.nulBytes(),
  (w, v) => w.nulBytes(v)
)
/**
 * `string<NUL>` whose terminator may be missing at the very end of the packet (some servers leave
 * it out after the last field); written with the terminator.
 */
export const nulOrEndString: FieldCodec<string> = codec(
  (r) => {
    const b = r.buf
    for (let i = r.pos; i < r.end; i++) if (b[i] === 0) return r.nulString()
    return r.restString()
  },
  (w, v) => w.nulString(v)
)
/** `string<EOF>` as UTF-8 text. */
export const restString: FieldCodec<string> = codec(
  (r) => r.restString(),
  (w, v) => w.string(v)
)
/** `string<EOF>` as bytes (copied, so the value does not pin the packet buffer). */
export const restBytes: FieldCodec<Uint8Array> = codec<Uint8Array>(
  (r) => r.restBytes().slice(),
  (w, v) => w.bytes(v)
)
/** `string[n]` as bytes (copied). */
export const fixedBytes = (n: number): FieldCodec<Uint8Array> =>
  codec<Uint8Array>(
    (r) => r.fixedBytes(n).slice(),
    (w, v) => w.fixedBytes(v, n)
  )
/** `string[n]` as UTF-8 text; written text must encode to exactly n bytes. */
export const fixedString = (n: number): FieldCodec<string> =>
  codec(
    (r) => r.fixedString(n),
    (w, v) => {
      const at = w.pos
      w.string(v)
      if (w.pos - at !== n) throw new WireError(`expected ${n} byte(s) of text, got ${w.pos - at}`, at)
    }
  )
/** `string<lenenc>` holding UTF-8 text, as bytes copied out of the packet. */
export const lenencBytesCopy: FieldCodec<Uint8Array> = codec<Uint8Array>(
  (r) => r.lenencBytes().slice(),
  (w, v) => w.lenencBytes(v)
)

// ---------------------------------------------------------------------------------------------
// Steps and layouts
// ---------------------------------------------------------------------------------------------

/** The fields decoded so far, while a packet is being read. */
export type Accumulator = Record<string, unknown>

/** One bidirectional piece of a packet layout. */
export interface Step<A> {
  readonly read: (r: Reader, acc: Accumulator, caps: CapabilitySet) => void
  readonly write: (w: Writer, value: A, caps: CapabilitySet) => void
}

/** Condition of a `when` step: sees the fields decoded so far (or the value being encoded). */
export type Condition<A> = (value: Partial<A>, caps: CapabilitySet) => boolean

/** The name of the field being read or written, for error messages (decoding is synchronous). */
let currentField: string | undefined

const missing = (name: string, at: number): never => {
  throw new WireError(`missing value for field ${name}`, at)
}

/** The step constructors, typed against the packet's shape `A`. */
export interface LayoutBuilder<A> {
  /** A field of the shape, read and written with `codec`. */
  readonly field: <K extends keyof A & string>(name: K, codec: FieldCodec<Exclude<A[K], undefined>>) => Step<A>
  /** A constant byte (header, command byte); decoding checks it. */
  readonly header: (name: string, byte: number) => Step<A>
  /** `n` filler bytes: written as zeros, skipped when read. */
  readonly zeros: (name: string, n: number) => Step<A>
  /** Sets `_tag` on the decoded value; no bytes. */
  readonly tag: (tag: A extends { readonly _tag: infer T } ? T : never) => Step<A>
  /** Steps present only when `condition` holds (capability flags, fields read before). */
  readonly when: (condition: Condition<A>, ...steps: ReadonlyArray<Step<A>>) => Step<A>
  /** Steps chosen by `condition`: `then` when it holds, `otherwise` when not. */
  readonly choose: (condition: Condition<A>, then: ReadonlyArray<Step<A>>, otherwise: ReadonlyArray<Step<A>>) => Step<A>
  /** A field laid out by hand, for bytes spread over several places. */
  readonly custom: (
    name: string,
    read: (r: Reader, acc: Accumulator, caps: CapabilitySet) => void,
    write: (w: Writer, value: A, caps: CapabilitySet) => void
  ) => Step<A>
}

const builder: LayoutBuilder<Record<string, unknown>> = {
  field: (name, fc) => ({
    read: (r, acc) => {
      currentField = name
      acc[name] = fc.read(r)
    },
    write: (w, value) => {
      currentField = name
      const v = value[name]
      if (v === undefined) missing(name, w.pos)
      fc.write(w, v)
    }
  }),
  header: (name, byte) => ({
    read: (r) => {
      currentField = name
      const at = r.pos
      const b = r.int1()
      if (b !== byte) {
        throw new WireError(
          `expected 0x${byte.toString(16).padStart(2, "0")}, got 0x${b.toString(16).padStart(2, "0")}`,
          at
        )
      }
    },
    write: (w) => {
      w.int1(byte)
    }
  }),
  zeros: (name, n) => ({
    read: (r) => {
      currentField = name
      r.skip(n)
    },
    write: (w) => {
      w.zeros(n)
    }
  }),
  tag: (tag) => ({
    read: (_r, acc) => {
      acc._tag = tag
    },
    write: () => {}
  }),
  when: (condition, ...steps) => ({
    read: (r, acc, caps) => {
      if (condition(acc, caps)) for (const s of steps) s.read(r, acc, caps)
    },
    write: (w, value, caps) => {
      if (condition(value, caps)) for (const s of steps) s.write(w, value, caps)
    }
  }),
  choose: (condition, then, otherwise) => ({
    read: (r, acc, caps) => {
      for (const s of condition(acc, caps) ? then : otherwise) s.read(r, acc, caps)
    },
    write: (w, value, caps) => {
      for (const s of condition(value, caps) ? then : otherwise) s.write(w, value, caps)
    }
  }),
  custom: (name, read, write) => ({
    read: (r, acc, caps) => {
      currentField = name
      read(r, acc, caps)
    },
    write: (w, value, caps) => {
      currentField = name
      write(w, value, caps)
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Packet codecs
// ---------------------------------------------------------------------------------------------

/** What `encode` accepts: the shape, with `_tag` optional (the layout writes the bytes). */
export type EncodeInput<A> = A extends { readonly _tag: infer T } ? Omit<A, "_tag"> & { readonly _tag?: T } : A

/** A packet declared once: its schema, its layout, and the decoder and encoder they give. */
export interface PacketCodec<A> {
  readonly name: string
  readonly schema: Schema.ConstraintDecoder<A>
  /** Decodes one whole payload; trailing bytes are an error. */
  readonly decode: (payload: Uint8Array, caps?: CapabilitySet) => Result.Result<A, ProtocolError>
  /** Validates `value` against the schema and encodes it. */
  readonly encode: (value: EncodeInput<A>, caps?: CapabilitySet) => Result.Result<Uint8Array, ProtocolError>
  /** Validates a value against the schema. */
  readonly validate: (value: unknown) => Result.Result<A, ProtocolError>
  /** Reads the packet at the reader's position (throws `WireError`): for composing codecs. */
  readonly unsafeRead: (r: Reader, caps: CapabilitySet) => A
  /** Writes the packet (throws `WireError`): for composing codecs. */
  readonly unsafeWrite: (w: Writer, value: A, caps: CapabilitySet) => void
}

/** Options of `define`. */
export interface DefineOptions<A> {
  /** Checks a decoded value; a string is the error message (e.g. "unsupported"). */
  readonly check?: (value: A, caps: CapabilitySet) => string | undefined
  /** Tag added when encoding a value given without `_tag`. */
  readonly tag?: string
  /** Initial capacity of the encoder's buffer. */
  readonly capacity?: number
}

/**
 * Turns an internal failure into a `ProtocolError` for `packet`: a decode error (the peer sent it),
 * or an encode error when `encoding` (a value we were given).
 */
export const toProtocolError = (packet: string, e: unknown, encoding = false): ProtocolError => {
  if (e instanceof ProtocolError) return e
  const make = encoding ? encodeError : protocolError
  if (isWireError(e)) return make(packet, e.message, e.field ?? currentField, e.offset)
  return make(packet, `internal error: ${e instanceof Error ? e.message : String(e)}`, currentField)
}

/**
 * Runs `f` over a reader of `payload` and turns a thrown `WireError` into a `ProtocolError`.
 * The boundary for hand-written decoders.
 */
export const decodeWith = <A>(
  packet: string,
  payload: Uint8Array,
  f: (r: Reader) => A
): Result.Result<A, ProtocolError> => {
  currentField = undefined
  try {
    return Result.succeed(f(new Reader(payload)))
  } catch (e) {
    return Result.fail(toProtocolError(packet, e))
  }
}

/** Runs `f` over a fresh writer and turns a thrown `WireError` into a `ProtocolError`. */
export const encodeWith = (
  packet: string,
  f: (w: Writer) => void,
  capacity = 64
): Result.Result<Uint8Array, ProtocolError> => runWriter(packet, f, 0, capacity, (w) => w.finish())

/**
 * `encodeWith` for the first packet of a command: the payload is written after room for its
 * header, so the framed packet goes to the socket without the copy `encodePacket` makes.
 */
export const frameWith = (
  packet: string,
  f: (w: Writer) => void,
  capacity = 64
): Result.Result<FramedPacket, ProtocolError> =>
  runWriter(packet, f, PACKET_HEADER_LENGTH, capacity, (w) => {
    const length = w.pos - PACKET_HEADER_LENGTH
    if (length >= MAX_PACKET_PAYLOAD) return encodePacket(w.buf.subarray(PACKET_HEADER_LENGTH, w.pos), 0)
    w.buf[0] = length & 0xff
    w.buf[1] = (length >>> 8) & 0xff
    w.buf[2] = length >>> 16
    w.buf[3] = 0
    return { bytes: w.finish(), nextSequenceId: 1 }
  })

/** `f` over a fresh writer whose first `start` bytes are left for `finish` to fill in. */
const runWriter = <A>(
  packet: string,
  f: (w: Writer) => void,
  start: number,
  capacity: number,
  finish: (w: Writer) => A
): Result.Result<A, ProtocolError> => {
  currentField = undefined
  try {
    const w = new Writer(start + capacity)
    w.pos = start
    f(w)
    return Result.succeed(finish(w))
  } catch (e) {
    return Result.fail(toProtocolError(packet, e, true))
  }
}

const schemaMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * Declares a packet: `schema` is its decoded shape, `layout` its wire fields in order (built with
 * the typed step constructors it is given).
 */
export const define = <S extends Schema.ConstraintDecoder<unknown>>(
  name: string,
  schema: S,
  layout: (L: LayoutBuilder<S["Type"]>) => ReadonlyArray<Step<S["Type"]>>,
  options: DefineOptions<S["Type"]> = {}
): PacketCodec<S["Type"]> => {
  type A = S["Type"]
  const steps = layout(builder as unknown as LayoutBuilder<A>)
  const validateSchema = Schema.decodeUnknownResult(schema)
  const isValid = Schema.is(schema)
  const check = options.check
  const tag = options.tag

  const read = (r: Reader, caps: CapabilitySet): A => {
    const acc: Accumulator = {}
    for (const s of steps) s.read(r, acc, caps)
    const value = acc as A
    if (check !== undefined) {
      const problem = check(value, caps)
      if (problem !== undefined) throw new WireError(problem, r.pos)
    }
    return value
  }
  const write = (w: Writer, value: A, caps: CapabilitySet): void => {
    for (const s of steps) s.write(w, value, caps)
  }
  const validate = (value: unknown): Result.Result<A, ProtocolError> => {
    const withTag =
      tag !== undefined && typeof value === "object" && value !== null && !("_tag" in value)
        ? { _tag: tag, ...value }
        : value
    // The guard is several times faster than a full decode; the decode runs only to explain a failure.
    if (isValid(withTag)) return Result.succeed(withTag as A)
    return Result.mapError(validateSchema(withTag), (e) => encodeError(name, `invalid value: ${schemaMessage(e)}`))
  }
  return {
    name,
    schema: schema as Schema.ConstraintDecoder<A>,
    unsafeRead: read,
    unsafeWrite: write,
    validate,
    decode: (payload, caps = emptyCapabilitySet) =>
      decodeWith(name, payload, (r) => {
        const value = read(r, caps)
        currentField = undefined
        r.expectEnd()
        return value
      }),
    encode: (value, caps = emptyCapabilitySet) => {
      const valid = validate(value)
      if (Result.isFailure(valid)) return Result.fail(valid.failure)
      const v =
        tag !== undefined && !("_tag" in (value as object)) ? ({ _tag: tag, ...(value as object) } as A) : (value as A)
      return encodeWith(name, (w) => write(w, v, caps), options.capacity)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Schema helpers for packet shapes
// ---------------------------------------------------------------------------------------------

const uint = (bits: number): Schema.Number =>
  Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 2 ** bits - 1 }))

/** Unsigned 8-bit integer. */
export const UInt8: Schema.Number = uint(8)
/** Unsigned 16-bit integer. */
export const UInt16: Schema.Number = uint(16)
/** Unsigned 24-bit integer. */
export const UInt24: Schema.Number = uint(24)
/** Unsigned 32-bit integer. */
export const UInt32: Schema.Number = uint(32)
/** Unsigned 48-bit integer. */
export const UInt48: Schema.Number = uint(48)
/** Non-negative safe integer. */
export const SafeUInt: Schema.Number = Schema.Number.check(
  Schema.isInt(),
  Schema.isBetween({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
)
/** Unsigned 64-bit integer: a number up to 2^53 - 1, a bigint above. */
export const UInt64: Schema.Union<readonly [typeof SafeUInt, Schema.BigInt]> = Schema.Union([SafeUInt, Schema.BigInt])
