/**
 * Binary Protocol Resultset Row: the rows of a COM_STMT_EXECUTE result set.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_binary_resultset.html
 * MariaDB: https://mariadb.com/kb/en/resultset-row/#binary-resultset-row
 *
 *   packet header   0x00 [1 byte]
 *   null bitmap     [(column_count + 7 + 2) / 8 bytes], column i is NULL when bit (i + 2) is set
 *   values          the non-NULL values, each in its binary form (see `values/BinaryValue.ts`)
 *
 * `makeBinaryRowDecoder` builds, once per result set, a decoder whose per-row work is a loop over
 * numeric offsets into the row's payload (no closures, Effects, schema walks or per-value try);
 * `makeBinaryRowEncoder` is the server side. Value mapping: see `values/ValueOptions.ts`.
 *
 * Pure code over `Uint8Array`; no IO.
 */
import { Result } from "effect"
import { encodeError, type ProtocolError } from "./ProtocolError.ts"
import { readBinaryValue, writeBinaryValue } from "./values/BinaryValue.ts"
import { type ColumnInfo, type ColumnPlan, makeColumnPlan } from "./values/ColumnPlan.ts"
import {
  type FieldReader,
  makeRowDecoder,
  type RowDecoder,
  type RowEncoder,
  type RowObject,
  rowError,
  valueAt
} from "./values/RowCodec.ts"
import { resolveValueOptions, type ValueOptions } from "./values/ValueOptions.ts"
import { WireError, Writer } from "./Wire.ts"

const PACKET = "BinaryResultsetRow"

/** Bytes of the null bitmap of a binary row with `count` columns (offset 2). */
export const nullBitmapLength = (count: number): number => (count + 9) >> 3

/** The fields of a binary row: the header, the NULL bitmap, then each non-NULL value. */
class BinaryFieldReader implements FieldReader {
  readonly plan: ColumnPlan
  readonly bitmapLength: number
  /** The read position `readBinaryValue` advances; `pos` is it. */
  readonly cursor = { pos: 0 }
  column = 0

  constructor(plan: ColumnPlan) {
    this.plan = plan
    this.bitmapLength = nullBitmapLength(plan.count)
  }

  get pos(): number {
    return this.cursor.pos
  }

  read(buf: Uint8Array, start: number, end: number, out: Array<unknown>): void {
    const plan = this.plan
    const n = plan.count
    const cursor = this.cursor
    this.column = 0
    cursor.pos = start
    if (end - start < 1 || buf[start] !== 0x00) throw new WireError("binary row must start with 0x00", start, undefined)
    if (1 + this.bitmapLength > end - start)
      throw new WireError("null bitmap runs past the end of the row", start + 1, undefined)
    const bitmap = start + 1
    cursor.pos = bitmap + this.bitmapLength
    for (let i = 0; i < n; i++) {
      this.column = i
      const bit = i + 2
      out[i] = (buf[bitmap + (bit >> 3)] & (1 << (bit & 7))) !== 0 ? null : readBinaryValue(plan, i, buf, cursor, end)
    }
  }
}

/** Builds the binary-row decoder of a result set's columns. Fails only on invalid options. */
export const makeBinaryRowDecoder = (
  columns: ReadonlyArray<ColumnInfo>,
  options?: ValueOptions
): Result.Result<RowDecoder, ProtocolError> => {
  const resolved = resolveValueOptions(options)
  if (typeof resolved === "string") return Result.fail(encodeError(PACKET, resolved))
  const plan = makeColumnPlan(columns, resolved)
  return makeRowDecoder(PACKET, plan, new BinaryFieldReader(plan))
}

class BinaryRowEncoder implements RowEncoder {
  readonly plan: ColumnPlan
  readonly columns: ReadonlyArray<ColumnInfo>

  constructor(plan: ColumnPlan) {
    this.plan = plan
    this.columns = plan.columns
  }

  encode(values: ReadonlyArray<unknown> | RowObject): Result.Result<Uint8Array, ProtocolError> {
    const plan = this.plan
    const n = plan.count
    const w = new Writer(16 + 8 * n)
    let i = 0
    try {
      w.int1(0)
      const bitmapAt = w.pos
      w.zeros(nullBitmapLength(n))
      for (; i < n; i++) {
        const value = valueAt(values, plan.names, i)
        if (value === null || value === undefined) {
          const bit = i + 2
          w.buf[bitmapAt + (bit >> 3)] |= 1 << (bit & 7)
        } else {
          writeBinaryValue(w, plan, i, value)
        }
      }
      return Result.succeed(w.finish())
    } catch (e) {
      return Result.fail(rowError(PACKET, e, plan.names[i], w.pos, true))
    }
  }
}

/** Builds the binary-row encoder (server side) of a result set's columns. */
export const makeBinaryRowEncoder = (
  columns: ReadonlyArray<ColumnInfo>,
  options?: ValueOptions
): Result.Result<RowEncoder, ProtocolError> => {
  const resolved = resolveValueOptions(options)
  if (typeof resolved === "string") return Result.fail(encodeError(PACKET, resolved))
  return Result.succeed(new BinaryRowEncoder(makeColumnPlan(columns, resolved)))
}

/** Encodes one binary row; for many rows build the encoder once with `makeBinaryRowEncoder`. */
export const encodeBinaryRow = (
  columns: ReadonlyArray<ColumnInfo>,
  values: ReadonlyArray<unknown> | RowObject,
  options?: ValueOptions
): Result.Result<Uint8Array, ProtocolError> =>
  Result.flatMap(makeBinaryRowEncoder(columns, options), (e) => e.encode(values))
