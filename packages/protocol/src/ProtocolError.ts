/**
 * ProtocolError — the one error this package returns.
 *
 * Every decoder in `@effect-mysql/protocol` answers with a value or a `ProtocolError` saying which
 * packet was being read, which field (when known) and at which byte offset of the payload. Nothing
 * exported from this package throws.
 *
 * The message is built here, from those fields, so that every error reads the same way: a decode
 * error says that the peer sent something malformed ("the server sent a malformed OkPacket:
 * affectedRows at byte 3: length-encoded integer runs past the end"), an encode error that a value
 * of ours could not be written ("cannot encode COM_STMT_EXECUTE: ?0: …").
 *
 * Pure data: no IO, no Effect runtime, safe on Node, Deno, Bun and in a browser.
 *
 * @module
 */
import { type Cause, Schema } from "effect"

const ProtocolErrorBase: Schema.Class<
  ProtocolError,
  Schema.TaggedStruct<
    "ProtocolError",
    {
      /** The packet (or layer, e.g. "Framing") being decoded or encoded. */
      readonly packet: Schema.String
      /** The field being read when the error happened, when known. */
      readonly field: Schema.optional<Schema.String>
      /** Byte offset into the payload where the error happened, when known. */
      readonly offset: Schema.optional<Schema.Number>
      /** `decode`: the peer sent something malformed; `encode`: we could not write a value of ours. */
      readonly kind: Schema.Literals<readonly ["decode", "encode"]>
      /** What was wrong, without the packet and field (the message has both). */
      readonly detail: Schema.String
      readonly message: Schema.String
    }
  >,
  Cause.YieldableError
> = Schema.TaggedError<ProtocolError>()("ProtocolError", {
  packet: Schema.String,
  field: Schema.optional(Schema.String),
  offset: Schema.optional(Schema.Number),
  kind: Schema.Literals(["decode", "encode"]),
  detail: Schema.String,
  message: Schema.String
})

export class ProtocolError extends ProtocolErrorBase {}

/**
 * Packets a client writes (commands, the handshake response): when one is malformed, it is the
 * client that sent it, to the server or proxy decoding it. Every other packet comes from a server.
 */
const sentByClient = (packet: string): boolean =>
  (/^com/i.test(packet) && packet !== "ComStmtPrepareOk") ||
  packet === "HandshakeResponse41" ||
  packet === "SslRequest" ||
  packet === "AuthSwitchResponse" ||
  packet === "Command"

/** " field at byte n", " field", " at byte n" or "". */
const where = (field: string | undefined, offset: number | undefined): string =>
  `${field === undefined ? "" : ` ${field}`}${offset === undefined ? "" : ` at byte ${offset}`}`

const make = (
  kind: "decode" | "encode",
  packet: string,
  detail: string,
  field: string | undefined,
  offset: number | undefined
): ProtocolError => {
  const at = where(field, offset)
  const subject =
    kind === "encode"
      ? `cannot encode ${packet}`
      : `the ${sentByClient(packet) ? "client" : "server"} sent a malformed ${packet}`
  return new ProtocolError({
    packet,
    kind,
    detail,
    message: `${subject}:${at === "" ? "" : `${at}:`} ${detail}`,
    ...(field === undefined ? {} : { field }),
    ...(offset === undefined ? {} : { offset })
  })
}

/** A packet that arrived malformed: the peer that sent it is named in the message. */
export const protocolError = (
  packet: string,
  detail: string,
  field?: string | undefined,
  offset?: number | undefined
): ProtocolError => make("decode", packet, detail, field, offset)

/** A packet we could not write, because of a value we were given. */
export const encodeError = (
  packet: string,
  detail: string,
  field?: string | undefined,
  offset?: number | undefined
): ProtocolError => make("encode", packet, detail, field, offset)
