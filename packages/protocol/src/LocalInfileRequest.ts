/**
 * LOCAL INFILE request: the server's answer to `LOAD DATA LOCAL INFILE`, asking the client to send
 * the content of a file (as packets, ended by an empty packet).
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_local_infile_request.html
 * MariaDB: https://mariadb.com/kb/en/local_infile-packet/
 *
 * ```
 * int<1>      header     // [1 byte] 0xFB
 * string<EOF> filename
 * ```
 *
 * Pure code: `Uint8Array` and plain data only; no IO.
 *
 * @module
 */
import { Schema } from "effect"
import { define, type PacketCodec, restString } from "./Packet.ts"

/** The decoded LOCAL INFILE request. */
export const LocalInfileRequestSchema: Schema.Struct<{
  readonly _tag: Schema.tag<"LocalInfileRequest">
  readonly filename: Schema.String
}> = Schema.Struct({
  _tag: Schema.tag("LocalInfileRequest"),
  filename: Schema.String
})

export type LocalInfileRequest = typeof LocalInfileRequestSchema.Type

/** The LOCAL INFILE request codec. */
export const LocalInfileRequest: PacketCodec<LocalInfileRequest> = define(
  "LocalInfileRequest",
  LocalInfileRequestSchema,
  (L) => [L.tag("LocalInfileRequest"), L.header("header", 0xfb), L.field("filename", restString)],
  { tag: "LocalInfileRequest" }
)
