/**
 * zongji (`@vlasky/zongji`), the peer of the replication workloads: it reads the binlog over
 * mysql2 connections (one for the dump, one for its queries), from the start of the job's range,
 * and decodes every row event into objects with mysql2's default type mapping. The server logs
 * full row metadata, so zongji asks the server nothing per table. Connecting, which zongji does
 * before it emits `ready` and sends the dump request, is not timed.
 */
import ZongJi, { type AnyBinlogEvent } from "@vlasky/zongji"
import type { Job } from "../Workload.ts"
import type { Driver, Prepared } from "./Driver.ts"

/** The replica id zongji registers with: not the server's own (1), and not another reader's. */
const serverId = 2

/** The row changes an event carries: its rows (an update's are before/after pairs), or none. */
const changesIn = (event: AnyBinlogEvent) => ("rows" in event ? event.rows.length : 0)

const prepare = async (job: Job): Promise<Prepared> => {
  const start = job.binlog
  if (start === undefined) throw new Error(`zongji reads the binlog only, not ${job.workload}`)
  const { host, port, user, password } = job.target
  const zongji = new ZongJi({ host, port, user, password })
  const failed = new Promise<never>((_, reject) => zongji.on("error", reject))
  failed.catch(() => {})
  let rows = 0
  let rowEvents = 0
  let finish: () => void = () => {}
  const finished = new Promise<void>((resolve) => {
    finish = resolve
  })
  zongji.on("binlog", (event: AnyBinlogEvent) => {
    // The range ends where the next one (or nothing) begins: stop counting at its size.
    if (rows >= job.size) return
    const changes = changesIn(event)
    if (changes === 0) return
    rows += changes
    rowEvents++
    if (rows >= job.size) finish()
  })
  const ready = new Promise<void>((resolve) => zongji.once("ready", () => resolve()))
  zongji.start({
    serverId,
    startAtEnd: false,
    filename: start.file,
    position: start.position,
    includeEvents: ["tablemap", "writerows", "updaterows", "deleterows"]
  })
  await Promise.race([ready, failed])
  return {
    run: async () => {
      await Promise.race([finished, failed])
      return rows
    },
    rowEvents: () => rowEvents,
    close: () =>
      new Promise<void>((resolve) => {
        zongji.once("stopped", () => resolve())
        zongji.stop()
      })
  }
}

export const driver: Driver = { prepare }
