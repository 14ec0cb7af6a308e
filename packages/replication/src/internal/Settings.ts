/**
 * A replication stream's own settings, checked before anything connects, and the options of its
 * connection: the client's, without the replication settings, and no stall check (the heartbeat
 * does its work).
 */
import { ConfigError, type ConnectionOptions, type MysqlError } from "@effect-mysql/client"
import { Duration, Effect, Result, type Schedule } from "effect"
import type { ReplicationOptions, StartFrom } from "../Replication.ts"
import type { ReplicationError } from "../ReplicationError.ts"
import type { TableFilter } from "./ChangeDecoder.ts"

/** The replication settings, checked. */
export interface Settings {
  readonly serverId: number
  readonly from: StartFrom
  readonly heartbeat: Duration.Duration
  readonly filter: TableFilter
  readonly reconnect: Schedule.Schedule<unknown, MysqlError | ReplicationError> | undefined
}

export const checkSettings = (options: ReplicationOptions): Effect.Effect<Settings, ConfigError> => {
  const { serverId, from, heartbeat = "5 seconds", tables } = options
  if (!Number.isInteger(serverId) || serverId < 1 || serverId > 0xffffffff) {
    return Effect.fail(
      new ConfigError({ option: "serverId", message: "serverId: must be an integer from 1 to 4294967295" })
    )
  }
  const start = checkFrom(from)
  if (start !== undefined) return Effect.fail(new ConfigError({ option: "from", message: `from: ${start}` }))
  const interval = Duration.fromInput(heartbeat)
  if (interval._tag === "None" || Duration.toMillis(interval.value) < 1 || !Duration.isFinite(interval.value)) {
    return Effect.fail(
      new ConfigError({ option: "heartbeat", message: "heartbeat: must be a positive, finite duration" })
    )
  }
  const filter = tableFilter(tables)
  if (Result.isFailure(filter)) return Effect.fail(filter.failure)
  return Effect.succeed({
    serverId,
    from,
    heartbeat: interval.value,
    filter: filter.success,
    reconnect: options.reconnect
  })
}

const checkFrom = (from: StartFrom): string | undefined => {
  if (from === "now" || from === "start") return undefined
  if (typeof from !== "object" || from === null) return `expected "now", "start", { gtid } or { file, position }`
  if (!("file" in from)) {
    return typeof from.gtid === "string" && from.gtid !== "" ? undefined : "gtid: expected GTID text"
  }
  if (typeof from.file !== "string" || from.file === "") return "file: expected a binlog file name"
  if (!Number.isInteger(from.position) || from.position < 4) return "position: expected an offset of at least 4"
  return undefined
}

const tableFilter = (tables: ReadonlyArray<string> | undefined): Result.Result<TableFilter, ConfigError> => {
  if (tables === undefined) return Result.succeed(undefined)
  const wanted = new Set<string>()
  for (const name of tables) {
    const dot = name.indexOf(".")
    if (dot <= 0 || dot === name.length - 1) {
      return Result.fail(
        new ConfigError({
          option: "tables",
          message: `tables: ${JSON.stringify(name)} is not "database.table" or "database.*"`
        })
      )
    }
    wanted.add(name)
  }
  // A DDL statement is asked about with table "": it is kept when any table of its database is.
  const databases = new Set(tables.map((name) => name.slice(0, name.indexOf("."))))
  return Result.succeed((database: string, table: string) =>
    table === "" ? databases.has(database) : wanted.has(`${database}.${table}`) || wanted.has(`${database}.*`)
  )
}

/** The connection's own options: the replication settings taken out, and the heartbeat in place of the stall check. */
export const connectionOptions = ({
  serverId: _serverId,
  from: _from,
  heartbeat: _heartbeat,
  tables: _tables,
  reconnect: _reconnect,
  ...connection
}: ReplicationOptions): ConnectionOptions.ConnectionOptions => ({ ...connection, stallCheckAfter: false })
