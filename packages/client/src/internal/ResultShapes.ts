/**
 * What a statement's result sets looked like the last time it ran: the column definitions as the
 * server sent them, decoded, and the row decoder planned for them. When the server sends the same
 * definitions again — the usual case for a statement that runs again — the response reader takes
 * the remembered columns and decoder instead of decoding the definitions and planning a decoder
 * anew, which for a one-row result cost more than the row itself.
 */
import type { ColumnDefinition, RowDecoder } from "@effect-mysql/protocol"

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

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
