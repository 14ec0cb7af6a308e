/**
 * effect-mysql's binlog reader (`@effect-mysql/replication`) in the replication workloads, as an
 * Effect user would call it: one `Replication.stream` from the start of the job's range, its row
 * changes counted until the range's size. Connecting is not timed: `prepare` pulls the stream's
 * first chunk, which comes once the connection is up and the dump has begun; its changes (those of
 * the first socket read, a few hundred rows) are counted but not timed.
 */
import { Replication } from "@effect-mysql/replication"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Effect, Exit, ManagedRuntime, Scope, Stream } from "effect"
import type { Job } from "../Workload.ts"
import type { Driver, Prepared } from "./Driver.ts"

const runtime = ManagedRuntime.make(RuntimeTransport.layer)

/** The replica id it registers with: not the server's own (1), and not zongji's (2). */
const serverId = 3

type ReplicationEvent = Stream.Success<ReturnType<typeof Replication.stream>>

/** The row changes an event carries: an insert's or a delete's rows, an update's before/after pairs. */
const changesIn = (event: ReplicationEvent): number => {
  switch (event._tag) {
    case "RowsInserted":
    case "RowsUpdated":
    case "RowsDeleted":
      return event.rows.length
    default:
      return 0
  }
}

const prepare = async (job: Job): Promise<Prepared> => {
  const start = job.binlog
  if (start === undefined) throw new Error(`the binlog reader reads the binlog only, not ${job.workload}`)
  const { host, port, user, password } = job.target
  const events = Replication.stream({
    host,
    port,
    user,
    password,
    ssl: { mode: "disabled" },
    serverId,
    from: { file: start.file, position: start.position }
  })
  let rows = 0
  let rowEvents = 0
  const count = (chunk: ReadonlyArray<ReplicationEvent>) => {
    for (const event of chunk) {
      // The range ends where the next one (or nothing) begins: stop counting at its size.
      if (rows >= job.size) return
      const changes = changesIn(event)
      if (changes === 0) continue
      rows += changes
      rowEvents++
    }
  }
  const scope = await runtime.runPromise(Scope.make())
  const close = () => runtime.runPromise(Scope.close(scope, Exit.void))
  try {
    const pull = await runtime.runPromise(Scope.provide(Stream.toPull(events), scope))
    count(await runtime.runPromise(pull))
    const drain = Effect.gen(function* () {
      while (rows < job.size) count(yield* pull)
      return rows
    })
    return { run: () => runtime.runPromise(drain), rowEvents: () => rowEvents, close }
  } catch (error) {
    await close()
    throw error
  }
}

export const driver: Driver = { prepare }
