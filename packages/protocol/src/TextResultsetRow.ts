/**
 * Text Resultset Row: the rows of a COM_QUERY result set. Each column value is a
 * `string<lenenc>` holding the value's text, or 0xFB for NULL.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_row.html
 * MariaDB: https://mariadb.com/kb/en/resultset-row/#text-resultset-row
 *
 *   for each column:
 *     NULL        0xFB [1 byte]
 *     or value    string<lenenc>
 *
 * `makeTextRowDecoder` builds, once per result set, a decoder whose per-row work is a loop over
 * numeric offsets into the row's payload (no closures, Effects, schema walks or per-value try);
 * `makeTextRowEncoder` is the server side. Value mapping: see `values/ValueOptions.ts`.
 *
 * Pure code over `Uint8Array`; no IO.
 */
import { Result } from "effect"
import { encodeError, type ProtocolError } from "./ProtocolError.ts"
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
import { readTextValue, writeTextValue } from "./values/TextValue.ts"
import { resolveValueOptions, type ValueOptions } from "./values/ValueOptions.ts"
import { WireError, Writer } from "./Wire.ts"

const PACKET = "TextResultsetRow"

/** The fields of a text row: a `string<lenenc>` or 0xFB (NULL) per column. */
class TextFieldReader implements FieldReader {
  readonly plan: ColumnPlan
  column = 0
  pos = 0

  constructor(plan: ColumnPlan) {
    this.plan = plan
  }

  read(buf: Uint8Array, start: number, end: number, out: Array<unknown>): void {
    const plan = this.plan
    const n = plan.count
    let p = start
    for (let i = 0; i < n; i++) {
      this.column = i
      this.pos = p
      if (p >= end) throw new WireError("row ends before its last column", p, plan.names[i])
      const first = buf[p]
      let from: number
      let length: number
      if (first < 0xfb) {
        from = p + 1
        length = first
      } else if (first === 0xfb) {
        out[i] = null
        p++
        continue
      } else if (first === 0xfc) {
        from = p + 3
        length = buf[p + 1] | (buf[p + 2] << 8)
      } else if (first === 0xfd) {
        from = p + 4
        length = buf[p + 1] | (buf[p + 2] << 8) | (buf[p + 3] << 16)
      } else if (first === 0xfe) {
        from = p + 9
        length = (buf[p + 1] | (buf[p + 2] << 8) | (buf[p + 3] << 16) | (buf[p + 4] << 24)) >>> 0
        if ((buf[p + 5] | buf[p + 6] | buf[p + 7] | buf[p + 8]) !== 0) length = Number.MAX_SAFE_INTEGER
      } else {
        throw new WireError("invalid length-encoded string prefix 0xFF", p, plan.names[i])
      }
      const stop = from + length
      if (stop > end) {
        throw new WireError(`value of ${length} byte(s) runs past the end of the row`, p, plan.names[i])
      }
      this.pos = stop
      out[i] = readTextValue(plan, i, buf, from, stop)
      p = stop
    }
    this.pos = p
  }
}

/** Builds the text-row decoder of a result set's columns. Fails only on invalid options. */
export const makeTextRowDecoder = (
  columns: ReadonlyArray<ColumnInfo>,
  options?: ValueOptions
): Result.Result<RowDecoder, ProtocolError> => {
  const resolved = resolveValueOptions(options)
  if (typeof resolved === "string") return Result.fail(encodeError(PACKET, resolved))
  const plan = makeColumnPlan(columns, resolved)
  return makeRowDecoder(PACKET, plan, new TextFieldReader(plan))
}

class TextRowEncoder implements RowEncoder {
  readonly plan: ColumnPlan
  readonly columns: ReadonlyArray<ColumnInfo>

  constructor(plan: ColumnPlan) {
    this.plan = plan
    this.columns = plan.columns
  }

  encode(values: ReadonlyArray<unknown> | RowObject): Result.Result<Uint8Array, ProtocolError> {
    const plan = this.plan
    const w = new Writer(16 * plan.count)
    let i = 0
    try {
      for (; i < plan.count; i++) writeTextValue(w, plan, i, valueAt(values, plan.names, i))
      return Result.succeed(w.finish())
    } catch (e) {
      return Result.fail(rowError(PACKET, e, plan.names[i], w.pos, true))
    }
  }
}

/** Builds the text-row encoder (server side) of a result set's columns. */
export const makeTextRowEncoder = (
  columns: ReadonlyArray<ColumnInfo>,
  options?: ValueOptions
): Result.Result<RowEncoder, ProtocolError> => {
  const resolved = resolveValueOptions(options)
  if (typeof resolved === "string") return Result.fail(encodeError(PACKET, resolved))
  return Result.succeed(new TextRowEncoder(makeColumnPlan(columns, resolved)))
}

/** Encodes one text row; for many rows build the encoder once with `makeTextRowEncoder`. */
export const encodeTextRow = (
  columns: ReadonlyArray<ColumnInfo>,
  values: ReadonlyArray<unknown> | RowObject,
  options?: ValueOptions
): Result.Result<Uint8Array, ProtocolError> =>
  Result.flatMap(makeTextRowEncoder(columns, options), (e) => e.encode(values))
