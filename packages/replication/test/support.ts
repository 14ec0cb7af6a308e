// What the replication tests share: a MariaDB of their own that writes a row-based binlog with
// full metadata and checksums, the replica accounts' options over verify-identity TLS with
// compression, and collecting a stream's events up to a condition.
import { type ConnectionOptions, MysqlConnection } from "@effect-mysql/client"
import { MariaDbServer, TestAccounts, TestPki, type TestTarget } from "@effect-mysql/testing"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Context, Effect, Exit, Layer, Stream } from "effect"
import * as Cause from "effect/Cause"
import { inject } from "vitest"
import * as Replication from "../src/Replication.ts"
import type { ReplicationEvent } from "../src/ReplicationEvent.ts"

export const target: TestTarget.TestTarget = inject("mysqlTarget")

export const TransportLive = RuntimeTransport.layer

export const binlogArgs = [
  "--log-bin=binlog",
  "--server-id=1",
  "--binlog-format=ROW",
  "--binlog-row-metadata=FULL",
  "--binlog-checksum=CRC32",
  "--gtid-domain-id=0"
]

/** A binlog-writing server for the test's scope, with root's options and the replica account's. */
export const binlogServer = Effect.gen(function* () {
  const pki = target.pki ?? (yield* TestPki.generate)
  const server = yield* MariaDbServer.start({ pki, args: binlogArgs })
  const ssl = { mode: "verify-identity", ca: pki.ca.pem } as const
  const root: ConnectionOptions.ConnectionOptions = {
    host: server.host,
    port: server.port,
    user: TestAccounts.root.user,
    password: TestAccounts.root.password,
    database: server.database,
    ssl
  }
  const replica: ConnectionOptions.ConnectionOptions = {
    host: server.host,
    port: server.port,
    user: TestAccounts.replicaTls.user,
    password: TestAccounts.replicaTls.password,
    ssl,
    compression: { algorithms: ["zlib"], required: true }
  }
  return { server, pki, root, replica }
})

export class BinlogServer extends Context.Service<BinlogServer, Effect.Success<typeof binlogServer>>()(
  "test/BinlogServer"
) {}

/** One binlog server for a test file's tests. */
export const BinlogServerLive = Layer.effect(BinlogServer, Effect.orDie(binlogServer))

export const connect = (options: ConnectionOptions.ConnectionOptions) =>
  MysqlConnection.connect(options).pipe(Effect.provide(TransportLive))

/** The stream's events until `done` says the last one arrived (the stream is then ended, its connection closed). */
export const collect = (
  options: Replication.ReplicationOptions,
  done: (events: ReadonlyArray<ReplicationEvent>) => boolean
) =>
  Effect.suspend(() => {
    const events: Array<ReplicationEvent> = []
    return Replication.stream(options).pipe(
      Stream.takeUntil((event) => {
        events.push(event)
        return done(events)
      }),
      Stream.runDrain,
      Effect.as(events),
      Effect.provide(TransportLive)
    )
  })

/** The events of `tag`. */
export const ofTag = <T extends ReplicationEvent["_tag"]>(events: ReadonlyArray<ReplicationEvent>, tag: T) =>
  events.filter((e): e is Extract<ReplicationEvent, { _tag: T }> => e._tag === tag)

export const commits = (events: ReadonlyArray<ReplicationEvent>) => ofTag(events, "Commit").length

/** The typed error an exit failed with; anything else fails the test. */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const error = Cause.findErrorOption(exit.cause)
  if (error._tag === "None") throw new Error(`no typed error: ${Cause.pretty(exit.cause)}`)
  return error.value
}

/** Runs statements as root on the binlog server. */
export const sql = (statements: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const { root } = yield* BinlogServer
    yield* Effect.scoped(
      Effect.gen(function* () {
        const conn = yield* connect(root)
        for (const statement of statements) yield* conn.query(statement)
      })
    )
  })

/** The position after which a stream sees only what the test writes next. */
export const now = Effect.gen(function* () {
  const { root } = yield* BinlogServer
  return yield* Effect.scoped(
    Effect.gen(function* () {
      const conn = yield* connect(root)
      const row = (yield* conn.query<{ File: string; Position: number }>("SHOW MASTER STATUS")).rows[0]!
      return { file: row.File, position: Number(row.Position) }
    })
  )
})
