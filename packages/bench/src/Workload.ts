/**
 * What the benchmark runs: the workloads, their sizes, the server the drivers talk to, and the
 * messages between the coordinator (`main.ts`) and the worker processes (`worker.ts`).
 */

/** How a driver reaches the server. */
export interface Target {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly database: string
  /** The CA that signed the server's certificate (PEM), for verify-identity TLS. */
  readonly ca: string
  /** For `select1-ssh`: the SSH server the drivers tunnel through to reach `host:port`. */
  readonly ssh?: SshTarget
}

export interface SshTarget {
  readonly host: string
  readonly port: number
  readonly user: string
  /** OpenSSH text of an unencrypted Ed25519 key the server accepts. */
  readonly privateKey: string
  /** The server's host key, `SHA256:…`. */
  readonly fingerprint: string
}

/** The link between a driver and the server. */
export type Link = "plain" | "tls" | "zlib"

export type WorkloadName =
  | "text"
  | "binary"
  | "text-tls"
  | "text-zlib"
  | "select1"
  | "select1-ssh"
  | "connect"
  | "connect-tls"
  | "connect-tls-full"
  | "insert"
  | "stream"
  | "replay"
  | "concurrent"
  | "batch-insert"
  | "replication"
  | "replication-single"

/** The workloads that read row changes from the binlog instead of sending statements. */
export type ReplicationWorkload = "replication" | "replication-single"

export const isReplication = (workload: WorkloadName): workload is ReplicationWorkload =>
  workload === "replication" || workload === "replication-single"

/**
 * The worker kinds: our driver called directly (`MysqlConnection`) and through effect/sql's
 * `SqlClient` as applications call it, the two peers, the plain-JS reference decoder, which only
 * reads the replay server's recorded result, and zongji, the peer of the replication workloads.
 */
export type DriverName = "connection" | "sqlclient" | "mysql2" | "mariadb" | "plain-js" | "zongji" | "replication"

const sqlClientWorkloads: ReadonlySet<WorkloadName> = new Set([
  "text",
  "binary",
  "select1",
  "insert",
  "concurrent",
  "batch-insert"
])

/** Whether a driver takes part in a workload. */
export const supports = (driver: DriverName, workload: WorkloadName): boolean => {
  if (isReplication(workload)) return driver === "zongji" || driver === "replication"
  // The peers never resume a TLS session: their connect-tls is already a full handshake each time.
  if (workload === "connect-tls-full") return driver === "connection"
  switch (driver) {
    case "connection":
      return workload !== "batch-insert"
    case "sqlclient":
      return sqlClientWorkloads.has(workload)
    case "plain-js":
      return workload === "replay"
    case "zongji":
    case "replication":
      return false
    default:
      return true
  }
}

/** Where a replication workload's row changes begin in the binlog. */
export interface BinlogStart {
  readonly file: string
  readonly position: number
}

/** One timed run of one workload, as a worker is asked for it. */
export interface Job {
  readonly workload: WorkloadName
  readonly target: Target
  /** Rows of a fetch, stream or batch insert, statements of the statement loops, connections of the connect loop. */
  readonly size: number
  /** The statement of a fetch or stream. */
  readonly sql: string
  /** For a replication workload: where its `size` row changes begin. */
  readonly binlog?: BinlogStart
  /**
   * Count the bytes the heap took while the timed part ran (V8's `GCProfiler`: the growth of the
   * used heap plus what each collection freed) instead of timing it.
   */
  readonly allocation?: boolean
}

/** What a worker answers for a job: wall time and its own CPU time while the job ran. */
export interface Measurement {
  readonly wallMs: number
  readonly cpuUserMs: number
  readonly cpuSystemMs: number
  /** Rows the driver handed over (checked against the size); row changes, for a replication workload. */
  readonly rows: number
  /** For a replication workload: the row events those row changes came in. */
  readonly rowEvents?: number
  /** For `stream`: the largest resident-set growth seen while the rows went by. */
  readonly peakRssGrowthMb?: number
  /** For an `allocation` job: the bytes allocated on the JavaScript heap. */
  readonly allocatedBytes?: number
}

export type WorkerReply = { readonly ready: true } | { readonly ok: Measurement } | { readonly error: string }

export interface Sizes {
  readonly fetchRows: number
  readonly select1: number
  readonly connects: number
  readonly inserts: number
  readonly streamRows: number
  readonly concurrent: number
  readonly batchRows: number
  /** Row changes each replication workload reads from the binlog. */
  readonly rowChanges: number
}

export const fullSizes: Sizes = {
  fetchRows: 100_000,
  select1: 5_000,
  connects: 100,
  inserts: 10_000,
  streamRows: 1_000_000,
  concurrent: 1_000,
  batchRows: 100_000,
  rowChanges: 1_000_000
}

/** `--quick`: small enough that a whole run, server start included, takes about a minute. */
export const quickSizes: Sizes = {
  fetchRows: 10_000,
  select1: 1_000,
  connects: 20,
  inserts: 1_000,
  streamRows: 100_000,
  concurrent: 1_000,
  batchRows: 10_000,
  rowChanges: 100_000
}

/**
 * The table every fetch reads: 8 mixed columns, about 10% NULLs in each nullable one. The
 * replication workloads log their row changes on a table of the same shape.
 */
export const createTableOfRows = (name: string) => `CREATE TABLE ${name} (
  id INT NOT NULL PRIMARY KEY,
  counter BIGINT NULL,
  name VARCHAR(64) NULL,
  price DECIMAL(12,2) NULL,
  created_at DATETIME NULL,
  score DOUBLE NULL,
  body TEXT NULL,
  flag TINYINT NULL
)`

export const createRowsTable = createTableOfRows("bench_rows")

/**
 * The deterministic row numbered `n` (an SQL expression), as a select list: each nullable column is
 * NULL in a different tenth of the rows; `body` is 90–109 bytes of text.
 */
export const rowOf = (n: string) => `${n},
  IF(${n} % 10 = 1, NULL, FLOOR(RAND(${n}) * 1e12)),
  IF(${n} % 10 = 2, NULL, CONCAT('user ', LEFT(SHA2(${n}, 256), 3 + ${n} % 40))),
  IF(${n} % 10 = 3, NULL, ROUND(RAND(${n} + 1) * 1e6, 2)),
  IF(${n} % 10 = 4, NULL, TIMESTAMPADD(SECOND, ${n} * 613, '2020-01-01 00:00:00')),
  IF(${n} % 10 = 5, NULL, RAND(${n} + 2) * 1000),
  IF(${n} % 10 = 6, NULL, LEFT(CONCAT(MD5(${n}), ' ', MD5(${n} + 1), ' ', MD5(${n} + 2), ' ', MD5(${n} + 3)), 90 + ${n} % 20)),
  IF(${n} % 10 = 7, NULL, ${n} % 100)`

/** Rows `from` to `to` from MariaDB's sequence engine. */
export const rowsFrom = (from: number, to: number) => `SELECT ${rowOf("seq")} FROM seq_${from}_to_${to}`

export const fillRowsTable = (rows: number) => `INSERT INTO bench_rows ${rowsFrom(1, rows)}`

export const createInsertTable =
  "CREATE TABLE bench_insert (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, a INT, b VARCHAR(64), c DOUBLE)"

export const insertSql = "INSERT INTO bench_insert (a, b, c) VALUES (?, ?, ?)"

export const insertValues = (i: number): [number, string, number] => [i, `row ${i} of the insert batch`, i / 7]

/** `concurrent`: this statement with a different number each time, all issued at once on one connection. */
export const concurrentSql = "SELECT ?"

/** `batch-insert`: rows go to `bench_insert` in statements (or the peer's batches) of this many rows. */
export const batchChunk = 1_000

/** The rows of `batch-insert`, as objects for `sql.insert` and as arrays for the peers. */
export const batchRow = (i: number) => {
  const [a, b, c] = insertValues(i)
  return { a, b, c }
}

/** `rows` split into runs of `batchChunk`. */
export const chunks = <A>(rows: ReadonlyArray<A>): Array<Array<A>> => {
  const out: Array<Array<A>> = []
  for (let i = 0; i < rows.length; i += batchChunk) out.push(rows.slice(i, i + batchChunk))
  return out
}

/** The text fetch: every row of the table. */
export const textSql = "SELECT * FROM bench_rows"

/** The binary fetch: the same rows through a prepared statement. */
export const binarySql = "SELECT * FROM bench_rows WHERE id > ?"

/** `rows` rows (a multiple of the table's size) from a cross join with a sequence. */
export const streamSql = (rows: number, tableRows: number) =>
  `SELECT r.* FROM bench_rows r, seq_1_to_${Math.max(1, Math.round(rows / tableRows))} s`

/** The slow consumer of `stream`: it waits this long after every `slowEvery` rows. */
export const slowEvery = 2_000
export const slowPauseMs = 5
