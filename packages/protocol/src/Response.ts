/**
 * Response: which packet the server sent, told apart by its first byte and the phase.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_response_packets.html
 *        https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response.html
 *        https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html
 * MariaDB: https://mariadb.com/kb/en/result-set-packets/
 *
 * - The greeting: 0x0A HandshakeV10, or 0xFF ERR from a server that refuses the connection.
 * - Authentication phase: 0x00 OK, 0xFF ERR, 0xFE AuthSwitchRequest, 0x01 AuthMoreData,
 *   0x02 AuthNextFactor.
 * - A command answered by one status packet (COM_PING, COM_INIT_DB, COM_RESET_CONNECTION,
 *   COM_SET_OPTION): 0x00 OK, 0xFF ERR, 0xFE EOF or OK-as-EOF (COM_SET_OPTION's answer).
 * - COM_STMT_PREPARE: 0x00 its OK (the statement's id and counts), 0xFF ERR.
 * - After a command: 0x00 OK, 0xFF ERR (or a MariaDB progress report), 0xFB LOCAL INFILE request,
 *   anything else a column count (a result set follows).
 * - In the rows of a result set: 0xFF ERR; 0xFE with fewer than 9 bytes an EOF, or under
 *   CLIENT_DEPRECATE_EOF with fewer than 0xFFFFFF bytes an OK-as-EOF; anything else a row.
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Result } from "effect"
import { AuthMoreData } from "./AuthMoreData.ts"
import { AuthNextFactor } from "./AuthNextFactor.ts"
import { AuthSwitchRequest } from "./AuthSwitchRequest.ts"
import { Capability, type CapabilitySet, emptyCapabilitySet } from "./Capabilities.ts"
import { ColumnCount } from "./ColumnCount.ts"
import { ComStmtPrepareOk } from "./ComStmtPrepareOk.ts"
import { EofPacket, isEofPacket, isOkAsEof } from "./EofPacket.ts"
import { ErrPacket, isProgressReport, ProgressReport } from "./ErrPacket.ts"
import { HandshakeV10 } from "./HandshakeV10.ts"
import { LocalInfileRequest } from "./LocalInfileRequest.ts"
import { OkPacket } from "./OkPacket.ts"
import type { ProtocolError } from "./ProtocolError.ts"
import { protocolError } from "./ProtocolError.ts"

/** The failure for a packet whose first byte names nothing expected at this point of the exchange. */
const unexpectedPacket = (packet: string, payload: Uint8Array, where: string): Result.Result<never, ProtocolError> =>
  Result.fail(
    protocolError(
      packet,
      payload.length === 0
        ? `empty packet ${where}`
        : `unexpected packet 0x${payload[0].toString(16).padStart(2, "0")} ${where}`,
      "header",
      0
    )
  )

/** The server's first packet: its greeting, or the ERR of a server that refuses the connection. */
export const decodeGreeting = (payload: Uint8Array): Result.Result<HandshakeV10 | ErrPacket, ProtocolError> =>
  payload[0] === 0xff ? ErrPacket.decode(payload) : HandshakeV10.decode(payload)

/** The answer to a command whose whole response is one status packet. */
export type StatusResponse = OkPacket | ErrPacket | EofPacket

/** Decodes the answer to COM_PING, COM_INIT_DB, COM_RESET_CONNECTION or COM_SET_OPTION. */
export const decodeStatusResponse = (
  payload: Uint8Array,
  caps: CapabilitySet = emptyCapabilitySet
): Result.Result<StatusResponse, ProtocolError> => {
  switch (payload[0]) {
    case 0x00:
      return OkPacket.decode(payload, caps)
    case 0xff:
      return ErrPacket.decode(payload, caps)
    case 0xfe:
      // COM_SET_OPTION's answer: an EOF, or under CLIENT_DEPRECATE_EOF an OK with header 0xFE.
      if (classifyResultSetPacket(payload, caps) === "end") return decodeResultSetEnd(payload, caps)
  }
  return unexpectedPacket("StatusResponse", payload, "in answer to a command")
}

/**
 * Whether a packet of a binlog dump's answer (COM_BINLOG_DUMP, COM_BINLOG_DUMP_GTID) carries an
 * event: 0x00, then the event (`bytes[start + 1, end)`). Any other packet ends the dump, and
 * `decodeBinlogDumpEnd` tells which way.
 */
export const isBinlogEvent = (bytes: Uint8Array, start: number, end: number): boolean =>
  end > start && bytes[start] === 0x00

/**
 * The packet that ends a binlog dump: the server's ERR, or an EOF, which a dump asked not to block
 * gets at the end of the binlog and any dump gets when the server stops it (a shutdown). MariaDB
 * sends the classic 5-byte EOF even to a client that negotiated CLIENT_DEPRECATE_EOF.
 */
export const decodeBinlogDumpEnd = (
  payload: Uint8Array,
  caps: CapabilitySet = emptyCapabilitySet
): Result.Result<EofPacket | OkPacket | ErrPacket, ProtocolError> => {
  if (payload[0] === 0xff) return ErrPacket.decode(payload, caps)
  if (payload.length === 5 && isEofPacket(payload)) return EofPacket.decode(payload, caps)
  if (payload[0] === 0xfe && classifyResultSetPacket(payload, caps) === "end") return decodeResultSetEnd(payload, caps)
  return unexpectedPacket("BinlogDump", payload, "in a binlog dump")
}

/** Decodes the first packet of the answer to COM_STMT_PREPARE: the statement's OK, or an ERR. */
export const decodePrepareResponse = (
  payload: Uint8Array,
  caps: CapabilitySet = emptyCapabilitySet
): Result.Result<ComStmtPrepareOk | ErrPacket, ProtocolError> =>
  payload[0] === 0xff ? ErrPacket.decode(payload, caps) : ComStmtPrepareOk.decode(payload, caps)

/** What the server sends while authenticating. */
export type AuthPhasePacket = OkPacket | ErrPacket | AuthSwitchRequest | AuthMoreData | AuthNextFactor

/** Decodes a packet of the authentication exchange (after the handshake response). */
export const decodeAuthPhasePacket = (
  payload: Uint8Array,
  caps: CapabilitySet = emptyCapabilitySet
): Result.Result<AuthPhasePacket, ProtocolError> => {
  switch (payload[0]) {
    case 0x00:
      return OkPacket.decode(payload, caps)
    case 0xff:
      return ErrPacket.decode(payload, caps)
    case 0xfe:
      return AuthSwitchRequest.decode(payload, caps)
    case 0x01:
      return AuthMoreData.decode(payload, caps)
    case 0x02:
      return AuthNextFactor.decode(payload, caps)
    default:
      return unexpectedPacket("AuthPhase", payload, "during authentication")
  }
}

/** What the server answers to a command (COM_QUERY, COM_STMT_EXECUTE, COM_PING, …). */
export type CommandResponse = OkPacket | ErrPacket | ProgressReport | LocalInfileRequest | ColumnCount

/** Decodes the first packet of a command's response. */
export const decodeCommandResponse = (
  payload: Uint8Array,
  caps: CapabilitySet = emptyCapabilitySet
): Result.Result<CommandResponse, ProtocolError> => {
  if (payload.length === 0) return Result.fail(protocolError("CommandResponse", "empty packet", "header", 0))
  switch (payload[0]) {
    case 0x00:
      return OkPacket.decode(payload, caps)
    case 0xff:
      return isProgressReport(payload) ? ProgressReport.decode(payload, caps) : ErrPacket.decode(payload, caps)
    case 0xfb:
      return LocalInfileRequest.decode(payload, caps)
    default:
      return ColumnCount.decode(payload, caps)
  }
}

/** The kind of a packet in the rows (or column definitions) of a result set. */
export type ResultSetPacketKind = "row" | "end" | "error"

/**
 * Tells a row from the end of a result set (EOF, or OK-as-EOF under CLIENT_DEPRECATE_EOF) and from
 * an ERR, without decoding. A row starting with 0xFE is recognised by its length.
 */
export const classifyResultSetPacket = (
  payload: Uint8Array,
  caps: CapabilitySet = emptyCapabilitySet
): ResultSetPacketKind => {
  if (payload.length === 0) return "row"
  const first = payload[0]
  if (first === 0xff) return "error"
  if (first !== 0xfe) return "row"
  if ((caps.capabilities & Capability.CLIENT_DEPRECATE_EOF) !== 0) return isOkAsEof(payload) ? "end" : "row"
  return isEofPacket(payload) ? "end" : "row"
}

/** Decodes the end of a result set: an OK-as-EOF under CLIENT_DEPRECATE_EOF, else an EOF. */
export const decodeResultSetEnd = (
  payload: Uint8Array,
  caps: CapabilitySet = emptyCapabilitySet
): Result.Result<OkPacket | EofPacket, ProtocolError> =>
  (caps.capabilities & Capability.CLIENT_DEPRECATE_EOF) !== 0
    ? OkPacket.decode(payload, caps)
    : EofPacket.decode(payload, caps)
