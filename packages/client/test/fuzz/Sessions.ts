/**
 * The sessions whose bytes are recorded from MariaDB (record.ts) and replayed, mutated, to the
 * client (FuzzCase.ts). A session is a login and a fixed list of steps; replaying a transcript
 * means running the same steps against a server that plays the recorded answers, so the client
 * asks for exactly what the recording answers.
 *
 * Steps that provoke a server error catch it themselves: a faithful replay succeeds step by step.
 */
import type { TestAccountName } from "@effect-mysql/testing"
import { Effect, Stream } from "effect"
import type { ConnectionOptions } from "../../src/ConnectionOptions.ts"
import type { MysqlError } from "../../src/Errors.ts"
import type { MysqlConnection } from "../../src/MysqlConnection.ts"

export interface FuzzSession {
  readonly name: string
  readonly description: string
  readonly account: TestAccountName
  readonly options: Partial<ConnectionOptions>
  readonly steps: ReadonlyArray<(conn: MysqlConnection) => Effect.Effect<unknown, MysqlError>>
}

/** The table every type lives in; record.ts creates it before recording. */
export const typesTable = "fuzz_types"

export const setupSql: ReadonlyArray<string> = [
  `CREATE OR REPLACE TABLE ${typesTable} (
    id INT PRIMARY KEY,
    ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, i INT, bi BIGINT, ubi BIGINT UNSIGNED,
    f FLOAT, d DOUBLE, dec1 DECIMAL(30,10), b BIT(12), y YEAR,
    dt DATE, tm TIME(3), dtm DATETIME(6), ts TIMESTAMP(2) NULL,
    c CHAR(4), vc VARCHAR(100), tx TEXT, bl BLOB, vb VARBINARY(16),
    e ENUM('red','green','blue'), st SET('a','b','c'),
    j JSON, u UUID, ip INET6, g POINT
  )`,
  `INSERT INTO ${typesTable} VALUES
    (1, -128, 65535, -8388608, 2147483647, -9223372036854775808, 18446744073709551615,
     1.5, -2.25e300, '12345678901234567890.0123456789', b'101010101010', 2024,
     '2024-02-29', '-838:59:59.000', '2024-02-29 23:59:59.999999', '2038-01-19 03:14:07.99',
     'ab', 'välue ✓', REPEAT('long text ', 30), X'00FF10', X'DEADBEEF',
     'green', 'a,c', '{"k": [1, 2, {"n": null}]}', '123e4567-e89b-12d3-a456-426614174000', '2001:db8::1', POINT(1, 2)),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (3, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', 1901, '1000-01-01', '00:00:00', '1000-01-01 00:00:00', NULL,
     '', '', '', '', '', 'red', '', '[]', '00000000-0000-0000-0000-000000000000', '::', POINT(0, 0))`,
  "CREATE OR REPLACE TABLE fuzz_log (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))"
]

const ignoreServerError = <A>(effect: Effect.Effect<A, MysqlError>) =>
  Effect.catchTag(effect, "ServerError", () => Effect.void)

const series = (n: number) =>
  `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${n}) SELECT n, REPEAT('x', n % 40) AS pad, n * 1.5 AS half FROM s`

export const sessions: ReadonlyArray<FuzzSession> = [
  {
    name: "types-text",
    description: "mysql_native_password login; every column type as text rows, objects and arrays; a server error",
    account: "root",
    options: {},
    steps: [
      (conn) => conn.query(`SELECT * FROM ${typesTable} ORDER BY id`),
      (conn) => conn.query(`SELECT * FROM ${typesTable} ORDER BY id`, { rowShape: "array" }),
      (conn) => ignoreServerError(conn.query("SELECT * FROM no_such_table")),
      (conn) => conn.ping
    ]
  },
  {
    name: "types-binary",
    description: "prepared statements: every column type as binary rows, parameters of several types, explicit prepare",
    account: "root",
    options: {},
    steps: [
      (conn) => conn.execute(`SELECT * FROM ${typesTable} WHERE id >= ? ORDER BY id`, [1]),
      (conn) =>
        conn.execute("SELECT ? AS a, ? AS b, ? AS c, ? AS d, ? AS e, ? AS f", [
          42n,
          "text ✓",
          1.25,
          null,
          new Uint8Array([0, 1, 2, 255]),
          true
        ]),
      (conn) =>
        Effect.scoped(
          Effect.flatMap(conn.prepare(`SELECT id, vc, dtm FROM ${typesTable} WHERE id = ?`), (statement) =>
            Effect.zip(statement.execute([1]), statement.execute([3]))
          )
        ),
      (conn) => ignoreServerError(conn.execute("SELECT * FROM no_such_table WHERE id = ?", [1]))
    ]
  },
  {
    name: "ed25519",
    description: "client_ed25519 login (auth switch); CURRENT_USER, COM_RESET_CONNECTION, COM_INIT_DB",
    account: "ed25519",
    options: {},
    steps: [
      (conn) => conn.query("SELECT CURRENT_USER() AS who, CONNECTION_ID() AS id"),
      (conn) => conn.resetConnection,
      (conn) => conn.useDatabase("test"),
      (conn) => conn.execute("SELECT ? + 1 AS n", [41])
    ]
  },
  {
    name: "compressed",
    description: "zlib compression: a long result set, every type, a 4 KB parameter",
    account: "root",
    options: { compression: { algorithms: ["zlib"] } },
    steps: [
      (conn) => conn.query(series(300)),
      (conn) => conn.query(`SELECT * FROM ${typesTable} ORDER BY id`),
      (conn) => conn.execute("SELECT ? AS v, LENGTH(?) AS n", ["y".repeat(4000), "z".repeat(100)])
    ]
  },
  {
    name: "multi",
    description: "multi-statements, an INSERT's OK, a syntax error, COM_CHANGE_USER to another account",
    account: "root",
    options: { multipleStatements: true },
    steps: [
      (conn) => conn.queryAll("SELECT 1 AS one; SELECT 'two' AS two; DO 3"),
      (conn) => conn.query("INSERT INTO fuzz_log (v) VALUES ('a'), ('b')"),
      (conn) => ignoreServerError(conn.query("SELEC broken")),
      (conn) => conn.changeUser({ user: "plain", password: "plain-secret", database: "test" }),
      (conn) => conn.query("SELECT CURRENT_USER() AS who")
    ]
  },
  {
    name: "stream",
    description: "rows streamed as they arrive, text and binary",
    account: "plain",
    options: {},
    steps: [
      (conn) => Stream.runCount(conn.stream(series(400))),
      (conn) => Stream.runCount(conn.stream(`SELECT * FROM ${typesTable} WHERE id < ?`, [10]))
    ]
  },
  {
    name: "nopw",
    description: "an account without a password; a single SELECT",
    account: "nopw",
    options: {},
    steps: [(conn) => conn.query("SELECT 1 AS one, 'ok' AS s")]
  }
]
