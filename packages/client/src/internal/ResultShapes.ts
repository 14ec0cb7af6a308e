/**
 * What a statement's result sets looked like the last time it ran: the column definitions as the
 * server sent them, decoded, and the row decoder planned for them. When the server sends the same
 * definitions again — the usual case for a statement that runs again — the response reader takes
 * the remembered columns and decoder instead of decoding the definitions and planning a decoder
 * anew, which for a one-row result cost more than the row itself.
 *
 * A decoder is built for the type options it maps values with, so shapes are remembered per type
 * options: the connection's own, and any frozen `ValueOptions` a statement brings (the SqlClient
 * layer brings one of two, SafeIntegers on or off). They are told apart by identity, which is safe
 * only for an object that cannot change: a statement's own options that are not frozen get no
 * remembered shapes, and their decoders are built anew each time.
 */
import type { ColumnDefinition, RowDecoder, ValueOptions } from "@effect-mysql/protocol"

export interface ResultShape {
  /** The column definition packets, copied. */
  readonly definitions: ReadonlyArray<Uint8Array>
  readonly columns: ReadonlyArray<ColumnDefinition>
  readonly decoder: RowDecoder
}

/** The shapes of one statement's result sets, by position in its response. */
export class ResultShapes {
  readonly sql: string
  readonly byResult: Array<ResultShape | undefined> = []

  constructor(sql: string) {
    this.sql = sql
  }
}

/** Type options remembered per statement at most; a statement rarely sees more than its client's two. */
const maxVariants = 4

/** A statement's result shapes, one set per type options it ran with. */
export class StatementShapes {
  readonly sql: string
  private readonly types: Array<ValueOptions> = []
  private readonly shapes: Array<ResultShapes> = []

  constructor(sql: string) {
    this.sql = sql
  }

  /** The shapes for `types` (compared by identity), the oldest variant making room when full. */
  for(types: ValueOptions): ResultShapes {
    const index = this.types.indexOf(types)
    if (index !== -1) return this.shapes[index]!
    if (this.types.length === maxVariants) {
      this.types.shift()
      this.shapes.shift()
    }
    const shapes = new ResultShapes(this.sql)
    this.types.push(types)
    this.shapes.push(shapes)
    return shapes
  }
}

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
