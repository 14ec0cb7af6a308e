/**
 * The binlog the replication workloads read: a second throwaway MariaDB that logs row changes,
 * an account with what a binlog reader needs, and the row changes themselves, written once before
 * the workers start and read again by every run. The first server runs without a binlog: with one
 * (these options) the `insert` workload took 5–15% longer and the mariadb connector's
 * `batch-insert` 40% (December 2026, one run each way).
 *
 * Each workload's range holds `size` row changes on a table shaped like `bench_rows`: 40% inserts,
 * 40% updates (each a before and an after image), 20% deletes. `replication` writes them 1,000 rows
 * per statement, and the server splits a statement's rows into row events of at most
 * `binlog_row_event_max_size` (8 KiB); `replication-single` writes one row per statement, so one
 * row event per row change, each after a table map, in transactions of 1,000 statements.
 */
import { MysqlConnection } from "@effect-mysql/client"
import type { MariaDbServer } from "@effect-mysql/testing"
import { TestAccounts } from "@effect-mysql/testing"
import { Console, Effect } from "effect"
import { type BinlogStart, createTableOfRows, rowOf, rowsFrom, type WorkloadName } from "./Workload.ts"

/** What makes the server log every row change in full, with column names and checksums. */
export const binlogArgs = [
  "--log-bin=bench-binlog",
  "--server-id=1",
  "--binlog-format=ROW",
  "--binlog-row-metadata=FULL",
  "--binlog-checksum=CRC32"
]

/** The account the readers log in with: mysql_native_password, which every reader speaks. */
export const replicationAccount = { user: "bench_repl", password: "repl-secret" }

const table = "bench_changes"
const rowsPerStatement = 1_000

const accountSql = [
  `CREATE OR REPLACE USER '${replicationAccount.user}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('${replicationAccount.password}')`,
  // SHOW BINARY LOGS needs BINLOG MONITOR; SELECT lets a reader look a table's columns up when the
  // binlog's own metadata does not describe them.
  `GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT ON *.* TO '${replicationAccount.user}'@'%'`
]

/** How one variant writes the rows `from` to `to`: inserts, updates or deletes. */
interface Writer {
  readonly insert: (from: number, to: number) => string
  readonly update: (from: number, to: number) => string
  readonly delete: (from: number, to: number) => string
}

const renamed = "counter = IFNULL(counter, 0) + 1, name = CONCAT('renamed ', id)"

const multiRow: Writer = {
  insert: (from, to) => `INSERT INTO ${table} ${rowsFrom(from, to)}`,
  update: (from, to) => `UPDATE ${table} SET ${renamed} WHERE id BETWEEN ${from} AND ${to}`,
  delete: (from, to) => `DELETE FROM ${table} WHERE id BETWEEN ${from} AND ${to}`
}

/** A server-side loop of one-row statements, one transaction: no round trip per row. */
const loop = (from: number, to: number, statement: string) =>
  `BEGIN NOT ATOMIC START TRANSACTION; FOR i IN ${from}..${to} DO ${statement}; END FOR; COMMIT; END`

const singleRow: Writer = {
  insert: (from, to) => loop(from, to, `INSERT INTO ${table} SELECT ${rowOf("i")}`),
  update: (from, to) => loop(from, to, `UPDATE ${table} SET ${renamed} WHERE id = i`),
  delete: (from, to) => loop(from, to, `DELETE FROM ${table} WHERE id = i`)
}

/**
 * The ranges in the order they are written. A reader goes on receiving what follows its range
 * until it closes, so the one-row range, slow to decode, comes first.
 */
const writers: ReadonlyArray<readonly [WorkloadName, Writer]> = [
  ["replication-single", singleRow],
  ["replication", multiRow]
]

/** The statements that make `size` row changes, each touching at most `rowsPerStatement` rows. */
const statements = (writer: Writer, size: number): Array<string> => {
  const inserts = Math.round(size * 0.4)
  const deletes = size - 2 * inserts
  const out: Array<string> = []
  const each = (rows: number, write: (from: number, to: number) => string) => {
    for (let from = 1; from <= rows; from += rowsPerStatement) {
      out.push(write(from, Math.min(rows, from + rowsPerStatement - 1)))
    }
  }
  each(inserts, writer.insert)
  each(inserts, writer.update)
  each(deletes, writer.delete)
  return out
}

const binlogEnd = (conn: MysqlConnection.MysqlConnection) =>
  Effect.map(conn.query("SHOW MASTER STATUS"), (result): BinlogStart => {
    const row = result.rows[0]
    if (row === undefined) throw new Error("the server logs no binlog")
    return { file: String(row.File), position: Number(row.Position) }
  })

/**
 * Creates the account and the table, then writes each workload's row changes in turn (the table
 * emptied in between), telling on stderr how long each took; answers where each range begins.
 */
export const writeChanges = (
  server: MariaDbServer.MariaDbServer,
  workloads: ReadonlyArray<WorkloadName>,
  size: number
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const conn = yield* MysqlConnection.connect({
        host: server.host,
        port: server.port,
        ...TestAccounts.root,
        database: server.database,
        ssl: { mode: "disabled" }
      })
      for (const sql of accountSql) yield* conn.query(sql)
      yield* conn.query(createTableOfRows(table))
      const starts: Partial<Record<WorkloadName, BinlogStart>> = {}
      for (const [workload, writer] of writers) {
        if (!workloads.includes(workload)) continue
        yield* conn.query(`TRUNCATE TABLE ${table}`)
        starts[workload] = yield* binlogEnd(conn)
        const started = performance.now()
        for (const sql of statements(writer, size)) yield* conn.query(sql)
        const seconds = ((performance.now() - started) / 1000).toFixed(1)
        yield* Console.error(`  ${workload}: ${size.toLocaleString("en-US")} row changes written in ${seconds} s`)
      }
      return starts
    })
  )
