/**
 * Records a binary log of row events from a real MariaDB server into
 * test/fixtures/mariadb-binlog.json (used by test/binlog/RowImage.golden.test.ts).
 *
 * Starts a throwaway `mariadbd` with `--log-bin --binlog-format=ROW --binlog-row-metadata=FULL`,
 * creates the table of `goldenRowsScript.ts` (the one `record-rows.ts` reads back through the text
 * and binary protocols), inserts the same rows in the same session settings (`time_zone` UTC,
 * `sql_mode` ''), then updates and deletes rows, updates one with `binlog_row_image=MINIMAL`, and
 * finally inserts into a second table after switching to `binlog_row_metadata=MINIMAL` (signedness
 * and character sets, no names) and then `NO_LOG` (no optional metadata at all). The whole first
 * binlog file is stored as hex.
 *
 * Run from the repository root (Node 24 on the PATH):
 *   PATH=$PWD/node_modules/.bin:$PATH node packages/protocol/scripts/record-binlog.ts
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { GOLDEN_TABLE_DDL, GOLDEN_TABLE_ROWS } from "../test/fixtures/goldenRowsScript.ts"
import { hex, withScratchServer } from "./ScratchServer.ts"

const here = Path.dirname(new URL(import.meta.url).pathname)
const output = Path.join(here, "..", "test", "fixtures", "mariadb-binlog.json")

/** Statements after the golden rows: what each later row event of the fixture comes from. */
export const BINLOG_STATEMENTS = [
  "UPDATE v SET i = i + 1, vc = 'changed', dtm6 = '2025-01-02 03:04:05.000006' WHERE id = 4",
  "DELETE FROM v WHERE id = 3",
  "SET SESSION binlog_row_image = 'MINIMAL'",
  "UPDATE v SET tiny = 5 WHERE id = 1",
  "SET SESSION binlog_row_image = 'FULL'",
  "SET GLOBAL binlog_row_metadata = 'MINIMAL'",
  "CREATE TABLE m (id INT UNSIGNED PRIMARY KEY, name VARCHAR(10), e ENUM('x','y'), s SET('p','q'))",
  "INSERT INTO m VALUES (4294967295, 'héllo', 'y', 'p,q')",
  "SET GLOBAL binlog_row_metadata = 'NO_LOG'",
  "INSERT INTO m VALUES (1, 'héllo', 'x', 'q')"
]

const sql = (socket: string, script: string): string =>
  execFileSync(
    "mariadb",
    ["--no-defaults", "--skip-ssl", "--default-character-set=utf8mb4", "-S", socket, "-uroot", "-N", "-e", script],
    {
      encoding: "utf8"
    }
  )

await withScratchServer(
  async (socket) => {
    const version = sql(socket, "SELECT VERSION()").trim()
    const script = [
      "SET time_zone = '+00:00', sql_mode = ''",
      "CREATE DATABASE golden",
      "USE golden",
      GOLDEN_TABLE_DDL,
      ...GOLDEN_TABLE_ROWS.map((row) => `INSERT INTO v VALUES (${row})`),
      ...BINLOG_STATEMENTS,
      "FLUSH BINARY LOGS"
    ]
    sql(socket, `${script.join(";\n")};`)
    const file = Path.join(Path.dirname(socket), "data", "binlog.000001")
    const binlog = Fs.readFileSync(file)
    Fs.writeFileSync(
      output,
      `${JSON.stringify({ recordedWith: version, recordedAt: new Date().toISOString().slice(0, 10), binlog: hex(binlog) }, null, 2)}\n`
    )
    console.log(`wrote ${output}: ${binlog.length} bytes of binlog`)
  },
  ["--log-bin=binlog", "--binlog-format=ROW", "--binlog-row-metadata=FULL", "--server-id=1"]
)
