/**
 * The binlog dump: COM_BINLOG_DUMP or COM_BINLOG_DUMP_GTID, whose answer is the binlog itself, one
 * event per packet, for as long as the connection lives (or up to an EOF, for a dump asked not to
 * block). The events come as a `Stream` read from the socket only as fast as it is pulled, so a slow
 * reader holds the server back through TCP rather than filling memory.
 *
 * A connection serves one dump: a dump cannot be stopped short of closing the connection, and a
 * server that ends one (at the end of a non-blocking dump, or with an ERR) closes the connection
 * after it (MySQL's and MariaDB's `dispatch_command` end the session). So the stream holds the
 * connection for its whole life, and closes it when it ends.
 */
import {
  ComBinlogDump as BinlogDump,
  ComBinlogDumpGtid as BinlogDumpGtid,
  type ComBinlogDump,
  type ComBinlogDumpGtid,
  decodeBinlogDumpEnd,
  isBinlogEvent
} from "@effect-mysql/protocol"
import { TransportError } from "@effect-mysql/transport"
import { Channel, Effect, Scope, Stream } from "effect"
import * as Cause from "effect/Cause"
import type { MysqlError } from "../Errors.ts"
import type { BinlogDumpOptions } from "../MysqlConnection.ts"
import type { ConnectionCore } from "./ConnectionCore.ts"
import { serverError } from "./ServerErrors.ts"

/** The events of a binlog dump, each the bytes of one whole event (header, body, checksum), as views of the read buffers. */
export const dump = (
  core: ConnectionCore,
  command: ComBinlogDump | ComBinlogDumpGtid,
  options: BinlogDumpOptions | undefined
): Stream.Stream<Uint8Array, MysqlError> =>
  Stream.fromChannel(
    Channel.fromTransform((_, scope) =>
      Effect.gen(function* () {
        yield* core.holdFor(scope)
        const reading: Reading = { end: undefined }
        yield* Scope.addFinalizer(
          scope,
          Effect.suspend(() => core.breakWith(dumpOver))
        )
        const payload = yield* Effect.fromResult(
          command._tag === "ComBinlogDump" ? BinlogDump.encode(command) : BinlogDumpGtid.encode(command)
        )
        yield* core.guard(core.wire.sendCommand(payload))
        const fill =
          options?.idleTimeout === undefined
            ? core.wire.fill
            : core.wire.withReadTimeout(options.idleTimeout, core.wire.fill)
        return core.guard(pullEvents(core, reading, fill))
      })
    )
  )

const dumpOver = new TransportError({
  reason: "closed",
  message: "the connection served a binlog dump: it is closed once the dump's stream ends"
})

type Events = readonly [Uint8Array, ...Array<Uint8Array>]

/** How the stream ends, once the server ended the dump: at its EOF, or with the failure of its ERR. */
interface Reading {
  end: Effect.Effect<never, MysqlError | Cause.Done<void>> | undefined
}

/** The events of the packets read so far, or of the next read; ends the stream where the server ended the dump. */
const pullEvents = (
  core: ConnectionCore,
  reading: Reading,
  fill: Effect.Effect<void, MysqlError>
): Effect.Effect<Events, MysqlError | Cause.Done<void>> => {
  const wire = core.wire
  const packets = wire.packets
  const step = (): Effect.Effect<Events, MysqlError | Cause.Done<void>> => {
    if (reading.end !== undefined) return reading.end
    const events: Array<Uint8Array> = []
    while (wire.next()) {
      const { bytes, start, end } = packets
      if (isBinlogEvent(bytes, start, end)) {
        events.push(bytes.subarray(start + 1, end))
        continue
      }
      reading.end = endOf(core, bytes.subarray(start, end))
      break
    }
    if (events.length > 0) return Effect.succeed(events as unknown as Events)
    if (reading.end !== undefined) return reading.end
    const error = wire.error
    if (error !== undefined) return Effect.fail(error)
    return Effect.flatMap(fill, step)
  }
  return Effect.suspend(step)
}

/** The end of the stream at the packet that ended the dump: its EOF, or the failure of its ERR. */
const endOf = (core: ConnectionCore, payload: Uint8Array): Effect.Effect<never, MysqlError | Cause.Done<void>> => {
  const last = decodeBinlogDumpEnd(payload, core.session.capabilities)
  if (last._tag === "Failure") return Effect.fail(last.failure)
  if (last.success._tag === "ErrPacket") {
    return serverError(last.success, core.session.serverVersion.flavor, undefined, undefined)
  }
  return Cause.done()
}
