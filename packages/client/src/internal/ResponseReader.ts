/**
 * The answer to COM_QUERY and COM_STMT_EXECUTE as a state machine over packets
 * (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response.html,
 * https://mariadb.com/kb/en/result-set-packets/):
 *
 *   OK | ERR | LOCAL INFILE request | column count → column definitions → [EOF] → rows → EOF/OK
 *
 * and again while the status says SERVER_MORE_RESULTS_EXISTS (multi-statements, CALL). Rows are
 * decoded by the row decoder the protocol package builds once per column list, or taken from the
 * statement's remembered result shape when the definitions are the same bytes; the machine is
 * plain code driven packet by packet, so a result set costs no Effect per row. A packet that does
 * not fit the phase is a ProtocolError: the connection is not to be trusted after it.
 *
 * A response is bounded as a packet is: by the number of results it may hold (`maxResults`), and,
 * when it is buffered rather than streamed, by the bytes of its packets (`maxResponseSize`). Past
 * either the answer is a ProtocolError that closes the connection, since a server that keeps
 * sending valid packets (an endless run of OKs saying "more results exist") would otherwise grow
 * the client's memory without end.
 */
import {
  Capability,
  type CapabilitySet,
  type ColumnCount,
  type ColumnDefinition,
  ColumnDefinition41,
  classifyResultSetPacket,
  decodeCommandResponse,
  decodeResultSetEnd,
  ErrPacket,
  makeBinaryRowDecoder,
  makeTextRowDecoder,
  type OkPacket,
  type ProtocolError,
  protocolError,
  type RowDecoder,
  type ServerFlavor,
  StatusFlag,
  type ValueOptions
} from "@effect-mysql/protocol"
import { Result as R } from "effect"
import type { ServerError } from "../Errors.ts"
import type { Result, RowShape } from "../Result.ts"
import { type ResultShape, type ResultShapes, sameBytes } from "./ResultShapes.ts"
import { toServerError } from "./ServerErrors.ts"

/** What the machine needs from its driver after a packet. */
export type Outcome =
  | { readonly _tag: "Done" }
  | { readonly _tag: "LocalInfile"; readonly fileName: string }
  | { readonly _tag: "Failed"; readonly error: ServerError | ProtocolError }

const done: Outcome = { _tag: "Done" }

const changedRowsOf = (info: string): number => {
  const match = /Changed: (\d+)/.exec(info)
  return match === null ? 0 : Number(match[1])
}

export const okResult = (ok: OkPacket): Result<never> => ({
  columns: [],
  rows: [],
  affectedRows: ok.affectedRows,
  insertId: ok.lastInsertId,
  changedRows: changedRowsOf(ok.info),
  warningCount: ok.warnings,
  statusFlags: ok.statusFlags,
  info: ok.info,
  sessionStateChanges: ok.sessionStateChanges ?? []
})

type Phase = "header" | "columns" | "columnsEnd" | "rows" | "infile" | "done"

export interface ReaderOptions {
  readonly capabilities: CapabilitySet
  readonly flavor: ServerFlavor
  /** Binary rows (COM_STMT_EXECUTE) or text rows (COM_QUERY). */
  readonly binary: boolean
  readonly rowShape: RowShape
  readonly types: ValueOptions
  readonly sql: string
  /** Rows stay in `rows` for a stream to take, instead of going into each result. */
  readonly streaming: boolean
  /** The statement's result shapes from last time, updated as this response goes; none when `types` are its own. */
  readonly shapes: ResultShapes | undefined
  /** Most results (statements' answers) one response may hold. */
  readonly maxResults: number
  /** Most bytes of packets a buffered response may hold; a stream's rows do not count. */
  readonly maxResponseSize: number
}

export class ResponseReader {
  /** Results completed so far, in statement order. */
  readonly results: Array<Result<unknown>> = []
  /** Rows of the result set being read; a stream takes them out as they come. */
  rows: Array<unknown> = []

  private phase: Phase = "header"
  private columns: Array<ColumnDefinition> = []
  private columnCount = 0
  /** The shape this result set had last time, while its definitions keep matching it. */
  private remembered: ResultShape | undefined
  /** Copies of this result set's definitions, kept to remember its shape. */
  private definitions: Array<Uint8Array> = []
  private decoder: RowDecoder | undefined
  private readonly deprecateEof: boolean
  private readonly options: ReaderOptions
  /** Bytes the response may still hold before it is refused. */
  private budget: number

  constructor(options: ReaderOptions) {
    this.options = options
    this.deprecateEof = (options.capabilities.capabilities & Capability.CLIENT_DEPRECATE_EOF) !== 0
    this.budget = options.streaming ? Number.POSITIVE_INFINITY : options.maxResponseSize
  }

  get finished(): boolean {
    return this.phase === "done"
  }

  /**
   * Feeds the next packet, the payload `bytes[start, end)`; `undefined` means "more packets,
   * please". A row is decoded in place; only the rarer packets are cut out as views.
   */
  onPacket(bytes: Uint8Array, start: number, end: number): Outcome | undefined {
    this.budget -= end - start
    if (this.budget < 0) {
      return this.fail(
        protocolError(
          "Response",
          `the response holds more than maxResponseSize (${this.options.maxResponseSize} bytes): stream the statement, or raise maxResponseSize`,
          "maxResponseSize"
        )
      )
    }
    if (this.phase === "rows") {
      // A row starts with neither 0xFE (an end, unless a long row begins with it) nor 0xFF (an ERR).
      const first = bytes[start]
      if (first < 0xfe && end > start) return this.onRow(bytes, start, end)
      return this.onRowsEnd(bytes.subarray(start, end))
    }
    const payload = bytes.subarray(start, end)
    switch (this.phase) {
      case "header":
      case "infile":
        return this.onHeader(payload)
      case "columns":
        return this.onColumn(payload)
      case "columnsEnd":
        return this.onColumnsEnd(payload)
      case "done":
        return this.fail(protocolError("Response", "a packet after the end of the response", "header", 0))
    }
  }

  private fail(error: ServerError | ProtocolError): Outcome {
    this.phase = "done"
    return { _tag: "Failed", error }
  }

  private onHeader(payload: Uint8Array): Outcome | undefined {
    const caps = this.options.capabilities
    const decoded = decodeCommandResponse(payload, caps)
    if (R.isFailure(decoded)) return this.fail(decoded.failure)
    const response = decoded.success
    switch (response._tag) {
      case "OkPacket":
        this.results.push(okResult(response))
        return this.next(response.statusFlags)
      case "ErrPacket":
        return this.fail(toServerError(response, this.options.flavor, this.options.sql))
      case "ProgressReport":
        return undefined
      case "LocalInfileRequest":
        if (this.phase === "infile") {
          return this.fail(protocolError("Response", "a second LOCAL INFILE request for one statement", "header", 0))
        }
        this.phase = "infile"
        return { _tag: "LocalInfile", fileName: response.filename }
      case "ColumnCount":
        return this.onColumnCount(response)
    }
  }

  private onColumnCount(count: ColumnCount): Outcome | undefined {
    if (count.metadataFollows === 0) {
      return this.fail(
        protocolError(
          "ColumnCount",
          "the server skipped metadata this client did not ask to skip",
          "metadataFollows",
          0
        )
      )
    }
    // Column counts beyond what a table can have (4096) are lies; refuse before allocating.
    if (count.columnCount === 0 || count.columnCount > 4096) {
      return this.fail(protocolError("ColumnCount", `implausible column count ${count.columnCount}`, "columnCount", 0))
    }
    this.columnCount = count.columnCount
    this.columns = []
    this.definitions = []
    const remembered = this.options.shapes?.byResult[this.results.length]
    this.remembered = remembered?.columns.length === count.columnCount ? remembered : undefined
    this.phase = "columns"
    return undefined
  }

  private onColumn(payload: Uint8Array): Outcome | undefined {
    const index = this.columns.length
    const remembered = this.remembered
    if (remembered !== undefined && sameBytes(payload, remembered.definitions[index]!)) {
      this.columns.push(remembered.columns[index]!)
      this.definitions.push(remembered.definitions[index]!)
    } else {
      this.remembered = undefined
      const column = ColumnDefinition41.decode(payload, this.options.capabilities)
      if (R.isFailure(column)) return this.fail(column.failure)
      this.columns.push(column.success)
      if (this.options.shapes !== undefined) this.definitions.push(payload.slice())
    }
    if (this.columns.length < this.columnCount) return undefined
    if (this.remembered !== undefined) {
      this.decoder = this.remembered.decoder
      this.columns = this.remembered.columns as Array<ColumnDefinition>
    } else {
      const make = this.options.binary ? makeBinaryRowDecoder : makeTextRowDecoder
      const decoder = make(this.columns, this.options.types)
      if (R.isFailure(decoder)) return this.fail(decoder.failure)
      this.decoder = decoder.success
      const shapes = this.options.shapes
      if (shapes !== undefined) {
        shapes.byResult[this.results.length] = {
          definitions: this.definitions,
          columns: this.columns,
          decoder: decoder.success
        }
      }
    }
    this.phase = this.deprecateEof ? "rows" : "columnsEnd"
    return undefined
  }

  private onColumnsEnd(payload: Uint8Array): Outcome | undefined {
    if (classifyResultSetPacket(payload, this.options.capabilities) !== "end") {
      return this.fail(protocolError("Response", "expected the EOF after the column definitions", "header", 0))
    }
    this.phase = "rows"
    return undefined
  }

  private onRow(bytes: Uint8Array, start: number, end: number): Outcome | undefined {
    const decoder = this.decoder!
    const row =
      this.options.rowShape === "object" ? decoder.readObject(bytes, start, end) : decoder.readArray(bytes, start, end)
    if (row === undefined) return this.fail(decoder.failure!)
    this.rows.push(row)
    return undefined
  }

  /** A packet of the rows phase that starts with 0xFE or 0xFF, or is empty: the end, an ERR, or an unusual row. */
  private onRowsEnd(payload: Uint8Array): Outcome | undefined {
    const caps = this.options.capabilities
    switch (classifyResultSetPacket(payload, caps)) {
      case "row":
        return this.onRow(payload, 0, payload.length)
      case "error": {
        const err = ErrPacket.decode(payload, caps)
        return this.fail(
          R.isFailure(err) ? err.failure : toServerError(err.success, this.options.flavor, this.options.sql)
        )
      }
      case "end": {
        const end = decodeResultSetEnd(payload, caps)
        if (R.isFailure(end)) return this.fail(end.failure)
        this.results.push({
          columns: this.columns,
          rows: this.options.streaming ? [] : this.rows,
          affectedRows: 0,
          insertId: 0,
          changedRows: 0,
          warningCount: end.success.warnings,
          statusFlags: end.success.statusFlags,
          info: "",
          sessionStateChanges: []
        })
        if (!this.options.streaming) this.rows = []
        return this.next(end.success.statusFlags)
      }
    }
  }

  private next(statusFlags: number): Outcome | undefined {
    if ((statusFlags & StatusFlag.SERVER_MORE_RESULTS_EXISTS) !== 0) {
      if (this.results.length >= this.options.maxResults) {
        return this.fail(
          protocolError(
            "Response",
            `the server announced more results after ${this.results.length}, past maxResults (${this.options.maxResults})`,
            "maxResults"
          )
        )
      }
      this.phase = "header"
      return undefined
    }
    this.phase = "done"
    return done
  }
}
