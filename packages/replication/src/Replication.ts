/**
 * The binlog as a change stream: a connection registers as a replica, asks for the binlog from a
 * start position, and the events it receives become `ReplicationEvent`s (rows inserted, updated
 * and deleted, commits, DDL, file switches), read from the socket only as fast as the stream is
 * pulled. The connection is an ordinary client connection, so every ssl-mode, client certificates
 * and compression apply to it unchanged.
 *
 * The server is asked for a heartbeat every `heartbeat`; a stream that hears nothing for twice that
 * long fails with a `TimeoutError`, so a connection a firewall dropped in silence does not leave the
 * stream waiting forever.
 */
import { ConfigError, ConnectionOptions, MysqlConnection, type MysqlError } from "@effect-mysql/client"
import { resolveValueOptions } from "@effect-mysql/protocol"
import { type Transport, TransportError } from "@effect-mysql/transport"
import { type Duration, Effect, Schedule, Stream } from "effect"
import * as Cause from "effect/Cause"
import { ChangeDecoder } from "./internal/ChangeDecoder.ts"
import { openDump } from "./internal/Dump.ts"
import { checkSettings, connectionOptions } from "./internal/Settings.ts"
import type { ReplicationError } from "./ReplicationError.ts"
import type { ReplicationEvent } from "./ReplicationEvent.ts"

/** Where a stream starts. */
export type StartFrom =
  /** After the last event written so far: only changes from now on. */
  | "now"
  /** At the start of the oldest binlog file the server still has. */
  | "start"
  /** After the transactions of a GTID position (MariaDB "0-1-42,1-2-7") or GTID set (MySQL "uuid:1-42"). */
  | { readonly gtid: string }
  /**
   * At a file position; a `Position` taken from a `Commit` resumes from its `gtidSet` when it has
   * one (which survives the server's binlog files being purged or renumbered), else from its file
   * position.
   */
  | { readonly file: string; readonly position: number; readonly gtidSet?: string | undefined }

export interface ReplicationOptions extends ConnectionOptions.ConnectionOptions {
  /** This replica's id, unique among the server's replicas and different from the server's own `server_id`. */
  readonly serverId: number
  readonly from: StartFrom
  /** How often the server sends a heartbeat while it has no events (default 5 seconds). */
  readonly heartbeat?: Duration.Input
  /**
   * Reconnects after a network failure, a read deadline or a server shutdown, as often and as soon
   * as the schedule says (e.g. `Schedule.spaced("1 second")`), and goes on from the last `Commit`
   * emitted, with no change lost or repeated. Default: the stream fails with the error.
   */
  readonly reconnect?: Schedule.Schedule<unknown, MysqlError | ReplicationError>
  /** Reads only these tables: `"database.table"`, or `"database.*"` for all of a database's. Default every table. */
  readonly tables?: ReadonlyArray<string>
}

/** The changes of the binlog from `options.from` on. */
export const stream = (
  options: ReplicationOptions
): Stream.Stream<ReplicationEvent, MysqlError | ReplicationError, Transport> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const settings = yield* checkSettings(options)
      const values = resolveValueOptions(ConnectionOptions.valueDefaults(options.types))
      if (typeof values === "string") return yield* new ConfigError({ option: "types.timeZone", message: values })
      const resume = new Resume(settings.from)
      const once = (): Stream.Stream<ReplicationEvent, MysqlError | ReplicationError, Transport> =>
        Stream.unwrap(
          Effect.gen(function* () {
            const connection = yield* MysqlConnection.connect(connectionOptions(options))
            const dump = yield* openDump(connection, { ...settings, from: resume.from })
            resume.started(dump.from)
            const decoder = new ChangeDecoder(dump.file, dump.checksum, dump.state, settings.filter, values)
            return changes(dump.events, decoder, resume)
          })
        )
      if (settings.reconnect === undefined) return once()
      return reconnecting(once, settings.reconnect, resume)
    })
  )

type Changes = readonly [ReplicationEvent, ...Array<ReplicationEvent>]

/** The changes of a dump's events; a batch of events that holds no change (heartbeats, table maps) is not emitted. */
const changes = (
  events: Stream.Stream<Uint8Array, MysqlError>,
  decoder: ChangeDecoder,
  resume: Resume
): Stream.Stream<ReplicationEvent, MysqlError | ReplicationError> =>
  Stream.transformPull(events, (pull) => {
    // The dump never ends on its own: an end is the server stopping it (shutdown, or another replica
    // registered with the same serverId), to be treated like a lost connection.
    const events = Effect.catchIf(pull, Cause.isDone, () => Effect.fail(dumpEnded))
    return Effect.succeed(
      Effect.suspend(function next(): Effect.Effect<Changes, MysqlError | ReplicationError> {
        return Effect.flatMap(events, (batch) => {
          const out: Array<ReplicationEvent> = []
          for (const event of batch) {
            const failed = decoder.push(event, out)
            if (failed !== undefined) return Effect.fail(failed)
          }
          const fresh = resume.passed(out)
          return fresh.length > 0 ? Effect.succeed(fresh as unknown as Changes) : Effect.suspend(next)
        })
      })
    )
  })

const dumpEnded = new TransportError({
  reason: "closed",
  message: "the server ended the binlog dump: it is shutting down, or another replica registered with the same serverId"
})

/**
 * Where a reconnected stream goes on: from the last `Commit` it emitted, dropping the events of the
 * unfinished transaction that were emitted before the connection was lost (the binlog sends them
 * again, in the same order).
 */
class Resume {
  from: StartFrom
  /** Events emitted since the last `Commit`, over every connection. */
  private sinceCommit = 0
  /** Events still to drop after a reconnect. */
  private repeated = 0
  /** Events emitted in all, to tell whether a connection got anywhere before it failed. */
  emitted = 0

  constructor(from: StartFrom) {
    this.from = from
  }

  /** Before the first commit, a reconnect starts where the first dump did ("now" is later by then). */
  started(from: StartFrom): void {
    if (this.from === "now" || this.from === "start") this.from = from
  }

  /** The events of a batch that were not emitted before; follows the last commit. */
  passed(events: Array<ReplicationEvent>): Array<ReplicationEvent> {
    let fresh = events
    if (this.repeated > 0) {
      const dropped = Math.min(this.repeated, events.length)
      this.repeated -= dropped
      fresh = events.slice(dropped)
    }
    this.emitted += fresh.length
    for (const event of fresh) {
      if (event._tag === "Commit") {
        this.from = event.position
        this.sinceCommit = 0
      } else this.sinceCommit++
    }
    return fresh
  }

  /** Before a reconnect: the events since the last commit will come again, however many connections they took. */
  reconnecting(): void {
    this.repeated = this.sinceCommit
  }
}

/** Failures after which a new connection may succeed: the network, a deadline, a server going away. */
const retryable = (error: MysqlError | ReplicationError): boolean =>
  error._tag === "TransportError" ||
  error._tag === "TimeoutError" ||
  (error._tag === "ServerError" && (error.errno === 1053 || error.errno === 1927))

const reconnecting = (
  once: () => Stream.Stream<ReplicationEvent, MysqlError | ReplicationError, Transport>,
  schedule: Schedule.Schedule<unknown, MysqlError | ReplicationError>,
  resume: Resume
): Stream.Stream<ReplicationEvent, MysqlError | ReplicationError, Transport> =>
  Stream.unwrap(
    Effect.map(Schedule.toStepWithSleep(schedule), (first) => {
      // The schedule starts again once a connection has emitted something, as `Stream.retry`'s does.
      const attempt = (
        step: typeof first
      ): Stream.Stream<ReplicationEvent, MysqlError | ReplicationError, Transport> => {
        const emitted = resume.emitted
        return Stream.catchIf(once(), retryable, (error) =>
          Stream.unwrap(
            Effect.flatMap(
              resume.emitted === emitted ? Effect.succeed(step) : Schedule.toStepWithSleep(schedule),
              (next) =>
                next(error).pipe(
                  Effect.matchEffect({
                    onFailure: () => Effect.fail(error),
                    onSuccess: () =>
                      Effect.sync(() => {
                        resume.reconnecting()
                        return attempt(next)
                      })
                  })
                )
            )
          )
        )
      }
      return attempt(first)
    })
  )
