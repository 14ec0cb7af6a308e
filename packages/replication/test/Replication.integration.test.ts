// The change stream against a real MariaDB writing a row-based binlog with full metadata and
// CRC32 checksums, read by an account with REQUIRE SSL over verify-identity TLS and compression:
// every column type against a SELECT of the same rows, transactions and their commits, DDL,
// filters, resuming by GTID and by file position without loss or repetition, and the refusals.
import { assert, describe, layer } from "@effect/vitest"
import { TestAccounts } from "@effect-mysql/testing"
import { Effect } from "effect"
import type { Position, ReplicationEvent } from "../src/ReplicationEvent.ts"
import { BinlogServer, BinlogServerLive, collect, commits, connect, failureOf, now, ofTag, sql } from "./support.ts"

const typesTable = `CREATE TABLE types (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  f FLOAT, d DOUBLE, dec1 DECIMAL(10,2), dec2 DECIMAL(65,30), dec3 DECIMAL(5,0),
  dt DATE, tm TIME, tm6 TIME(6), dtm DATETIME, dtm3 DATETIME(3), dtm6 DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR,
  b1 BIT(1), b10 BIT(10), b64 BIT(64),
  e ENUM('a','b','c'), s SET('x','y','z'),
  c CHAR(10), vc VARCHAR(300), vcl VARCHAR(20) CHARACTER SET latin1, tx TEXT, lt LONGTEXT,
  bn BINARY(4), vb VARBINARY(10), bl BLOB, j JSON, g GEOMETRY, p POINT
)`

const typeRows = [
  `(1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
    3.40282e38, 1.7976931348623157e308, 12345678.91, '12345678901234567890123456789012345.123456789012345678901234567890', 99999,
    '9999-12-31', '838:59:59', '-838:59:59.999999', '9999-12-31 23:59:59', '2024-02-29 13:14:15.123', '2024-02-29 13:14:15.123456',
    '2038-01-19 03:14:07.999999', 2155,
    b'1', b'1010101010', b'1111111111111111111111111111111111111111111111111111111111111111',
    'c', 'x,z',
    'chars', REPEAT('v', 300), 'Grüße', 'text ✓', REPEAT('L', 70000),
    x'00ff10ab', x'0102', x'deadbeef', '{"a": [1, 2.5, "x", null, true], "b": {"c": "d"}}', ST_GeomFromText('LINESTRING(0 0, 1 1, 2 1)'), POINT(1.5, -2))`,
  `(2, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
    -1.5, -0.1, -12345678.91, '-0.000000000000000000000000000001', -99999,
    '1000-01-01', '-00:00:01', '00:00:00.000001', '1000-01-01 00:00:00', '1970-01-01 00:00:00.001', '2001-02-03 04:05:06.000007',
    '1970-01-01 00:00:01.000000', 1901,
    b'0', b'0', b'0',
    'a', '',
    '', '', '', '', '',
    x'00000000', x'', x'', '[]', ST_GeomFromText('POINT(0 0)'), POINT(0, 0))`,
  `(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL)`
]

const replicaOptions = Effect.gen(function* () {
  const { replica } = yield* BinlogServer
  return { ...replica, serverId: 4242 }
})

layer(BinlogServerLive, { timeout: 120_000, excludeTestServices: true })("replication from MariaDB", (it) => {
  it.effect("every column type reads as a SELECT of the same row reads, in inserts, updates and deletes", () =>
    Effect.gen(function* () {
      const { root } = yield* BinlogServer
      yield* sql(["DROP TABLE IF EXISTS types", typesTable])
      const from = yield* now
      yield* sql([
        `INSERT INTO types VALUES ${typeRows.join(", ")}`,
        "UPDATE types SET id = id + 10",
        "DELETE FROM types"
      ])
      const events = yield* collect({ ...(yield* replicaOptions), from }, (e) => commits(e) === 3)
      const selected = yield* Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* connect(root)
          yield* conn.query(`INSERT INTO types VALUES ${typeRows.join(", ")}`)
          const result = yield* conn.execute("SELECT * FROM types ORDER BY id")
          yield* conn.query("DELETE FROM types")
          return result.rows
        })
      )
      // MariaDB stores JSON as LONGTEXT, and its binlog does not mark it: it arrives as its text.
      const asSelected = (row: Record<string, unknown>): Record<string, unknown> => ({
        ...row,
        j: row.j === null ? null : JSON.parse(String(row.j))
      })
      const inserted = ofTag(events, "RowsInserted").flatMap((e) => e.rows)
      assert.deepStrictEqual(inserted.map(asSelected), selected)
      const updated = ofTag(events, "RowsUpdated").flatMap((e) => e.rows)
      assert.deepStrictEqual(
        updated.map((u) => asSelected(u.before)),
        selected
      )
      assert.deepStrictEqual(
        updated.map((u) => asSelected(u.after)),
        selected.map((row) => ({ ...row, id: (row.id as number) + 10 }))
      )
      const deleted = ofTag(events, "RowsDeleted").flatMap((e) => e.rows)
      assert.deepStrictEqual(
        deleted.map(asSelected),
        selected.map((row) => ({ ...row, id: (row.id as number) + 10 }))
      )
      for (const e of ofTag(events, "RowsInserted")) {
        assert.strictEqual(e.database, "test")
        assert.strictEqual(e.table, "types")
      }
    })
  )

  it.effect("a transaction's changes come in order, then its Commit with its XID and GTID", () =>
    Effect.gen(function* () {
      yield* sql(["CREATE OR REPLACE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), qty INT)"])
      const from = yield* now
      yield* sql([
        "BEGIN",
        "INSERT INTO items VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)",
        "UPDATE items SET qty = qty * 10 WHERE id >= 2",
        "DELETE FROM items WHERE id = 1",
        "COMMIT"
      ])
      const events = yield* collect({ ...(yield* replicaOptions), from }, (e) => commits(e) === 1)
      assert.deepStrictEqual(
        events.map((e) => e._tag),
        ["RowsInserted", "RowsUpdated", "RowsDeleted", "Commit"]
      )
      const [inserted, updated, deleted, commit] = events as [
        Extract<ReplicationEvent, { _tag: "RowsInserted" }>,
        Extract<ReplicationEvent, { _tag: "RowsUpdated" }>,
        Extract<ReplicationEvent, { _tag: "RowsDeleted" }>,
        Extract<ReplicationEvent, { _tag: "Commit" }>
      ]
      assert.deepStrictEqual(inserted.rows, [
        { id: 1, name: "a", qty: 1 },
        { id: 2, name: "b", qty: 2 },
        { id: 3, name: "c", qty: 3 }
      ])
      assert.deepStrictEqual(updated.rows, [
        { before: { id: 2, name: "b", qty: 2 }, after: { id: 2, name: "b", qty: 20 } },
        { before: { id: 3, name: "c", qty: 3 }, after: { id: 3, name: "c", qty: 30 } }
      ])
      assert.deepStrictEqual(deleted.rows, [{ id: 1, name: "a", qty: 1 }])
      assert.strictEqual(typeof commit.xid, "bigint")
      assert.match(commit.position.gtid!, /^0-1-\d+$/)
      assert.strictEqual(commit.position.gtidSet, commit.position.gtid)
      for (const e of [inserted, updated, deleted]) assert.strictEqual(e.position.gtid, commit.position.gtid)
      assert.strictEqual(commit.position.file, from.file)
      assert.isAbove(commit.position.position, from.position)
    })
  )

  it.effect("DDL is a SchemaChange followed by its Commit", () =>
    Effect.gen(function* () {
      const from = yield* now
      yield* sql(["CREATE TABLE ddl_demo (id INT)", "ALTER TABLE ddl_demo ADD COLUMN name TEXT", "DROP TABLE ddl_demo"])
      const events = yield* collect({ ...(yield* replicaOptions), from }, (e) => commits(e) === 3)
      const changes = ofTag(events, "SchemaChange")
      assert.deepStrictEqual(
        changes.map((c) => [c.database, c.query]),
        [
          ["test", "CREATE TABLE ddl_demo (id INT)"],
          ["test", "ALTER TABLE ddl_demo ADD COLUMN name TEXT"],
          ["test", "DROP TABLE `ddl_demo` /* generated by server */"]
        ]
      )
      assert.deepStrictEqual(
        events.map((e) => e._tag),
        ["SchemaChange", "Commit", "SchemaChange", "Commit", "SchemaChange", "Commit"]
      )
    })
  )

  it.effect("a switch of binlog file is a Rotate, and the positions after it name the new file", () =>
    Effect.gen(function* () {
      yield* sql(["CREATE OR REPLACE TABLE rotating (id INT)"])
      const from = yield* now
      yield* sql(["INSERT INTO rotating VALUES (1)", "FLUSH BINARY LOGS", "INSERT INTO rotating VALUES (2)"])
      const events = yield* collect({ ...(yield* replicaOptions), from }, (e) => commits(e) === 2)
      const next = `${from.file.slice(0, -6)}${String(Number(from.file.slice(-6)) + 1).padStart(6, "0")}`
      assert.deepStrictEqual(
        events.map((e) => e._tag),
        ["RowsInserted", "Commit", "Rotate", "RowsInserted", "Commit"]
      )
      const [first, second] = ofTag(events, "Commit")
      assert.strictEqual(first!.position.file, from.file)
      assert.deepStrictEqual(ofTag(events, "Rotate")[0]!.file, next)
      assert.strictEqual(second!.position.file, next)
    })
  )

  it.effect("tables: only the tables asked for are decoded", () =>
    Effect.gen(function* () {
      yield* sql(["CREATE OR REPLACE TABLE wanted (id INT)", "CREATE OR REPLACE TABLE unwanted (id INT)"])
      const from = yield* now
      yield* sql([
        "INSERT INTO unwanted VALUES (1)",
        "INSERT INTO wanted VALUES (2)",
        "INSERT INTO unwanted VALUES (3)"
      ])
      const events = yield* collect(
        { ...(yield* replicaOptions), from, tables: ["test.wanted"] },
        (e) => commits(e) === 3
      )
      assert.deepStrictEqual(
        ofTag(events, "RowsInserted").map((e) => [e.table, e.rows]),
        [["wanted", [{ id: 2 }]]]
      )
    })
  )

  it.effect("compressed row events and queries (log_bin_compress) read as the plain ones", () =>
    Effect.gen(function* () {
      yield* sql(["CREATE OR REPLACE TABLE squeezed (id INT PRIMARY KEY, body TEXT)"])
      const from = yield* now
      const body = "compressible ".repeat(100)
      // A comment makes the DDL longer than log_bin_compress_min_len (256 bytes), so it is compressed too.
      const ddl = `ALTER TABLE squeezed ADD COLUMN note TEXT /* ${"x".repeat(300)} */`
      yield* sql([
        "SET GLOBAL log_bin_compress = ON",
        `INSERT INTO squeezed VALUES (1, '${body}'), (2, '${body}')`,
        `UPDATE squeezed SET body = 'short' WHERE id = 2`,
        ddl,
        "SET GLOBAL log_bin_compress = OFF"
      ])
      const events = yield* collect({ ...(yield* replicaOptions), from }, (e) => commits(e) === 3)
      assert.deepStrictEqual(ofTag(events, "RowsInserted")[0]!.rows, [
        { id: 1, body },
        { id: 2, body }
      ])
      assert.deepStrictEqual(ofTag(events, "RowsUpdated")[0]!.rows, [
        { before: { id: 2, body }, after: { id: 2, body: "short" } }
      ])
      assert.strictEqual(ofTag(events, "SchemaChange")[0]!.query, ddl)
    })
  )

  describe("resuming", () => {
    const resumeCase = (name: string, resumeFrom: (position: Position) => Position) =>
      it.effect(`from a Commit's ${name}: nothing lost, nothing repeated`, () =>
        Effect.gen(function* () {
          yield* sql(["CREATE OR REPLACE TABLE journal (n INT PRIMARY KEY)"])
          const from = yield* now
          yield* sql(Array.from({ length: 6 }, (_, n) => `INSERT INTO journal VALUES (${n})`))
          const options = yield* replicaOptions
          // A reader stops after its third commit, as a process would at a restart.
          const first = yield* collect({ ...options, from }, (e) => commits(e) === 3)
          const last = ofTag(first, "Commit").at(-1)!
          yield* sql(Array.from({ length: 4 }, (_, n) => `INSERT INTO journal VALUES (${n + 6})`))
          const second = yield* collect({ ...options, from: resumeFrom(last.position) }, (e) => commits(e) === 7)
          const seen = [...first, ...second].flatMap((e) => (e._tag === "RowsInserted" ? e.rows.map((r) => r.n) : []))
          assert.deepStrictEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        })
      )
    resumeCase("GTID state", (position) => position)
    resumeCase("file position", ({ file, position }) => ({ file, position, gtid: undefined, gtidSet: undefined }))

    it.effect("from a GTID given as text", () =>
      Effect.gen(function* () {
        yield* sql(["CREATE OR REPLACE TABLE journal2 (n INT PRIMARY KEY)"])
        const from = yield* now
        yield* sql(["INSERT INTO journal2 VALUES (1)", "INSERT INTO journal2 VALUES (2)"])
        const options = yield* replicaOptions
        const first = yield* collect({ ...options, from }, (e) => commits(e) === 1)
        const gtid = ofTag(first, "Commit")[0]!.position.gtid!
        const rest = yield* collect({ ...options, from: { gtid } }, (e) => commits(e) === 1)
        assert.deepStrictEqual(ofTag(rest, "RowsInserted")[0]!.rows, [{ n: 2 }])
      })
    )
  })

  describe("secure connections", () => {
    it.effect("the REQUIRE SSL account is refused over plaintext, before any event", () =>
      Effect.gen(function* () {
        const { compression: _, ...options } = yield* replicaOptions
        const exit = yield* Effect.exit(collect({ ...options, ssl: { mode: "disabled" }, from: "now" }, () => true))
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "AuthenticationError")
      })
    )

    it.effect("the REQUIRE X509 account reads with its client certificate", () =>
      Effect.gen(function* () {
        const { replica, pki } = yield* BinlogServer
        yield* sql(["CREATE OR REPLACE TABLE x509_demo (id INT)"])
        const from = yield* now
        yield* sql(["INSERT INTO x509_demo VALUES (7)"])
        const options = {
          ...replica,
          user: TestAccounts.replicaX509.user,
          password: TestAccounts.replicaX509.password,
          ssl: { mode: "verify-identity", ca: pki.ca.pem, cert: pki.client.cert.pem, key: pki.client.key.pem } as const,
          serverId: 4243
        }
        const events = yield* collect({ ...options, from }, (e) => commits(e) === 1)
        assert.deepStrictEqual(ofTag(events, "RowsInserted")[0]!.rows, [{ id: 7 }])
        const refused = yield* Effect.exit(
          collect({ ...options, ssl: { mode: "verify-identity", ca: pki.ca.pem }, from }, () => true)
        )
        assert.strictEqual(failureOf(refused)._tag, "AuthenticationError")
      })
    )
  })

  describe("options", () => {
    it.effect("bad settings are a ConfigError naming the option, before connecting", () =>
      Effect.gen(function* () {
        const options = yield* replicaOptions
        const cases = [
          [{ serverId: 0 }, "serverId"],
          [{ serverId: 1.5 }, "serverId"],
          [{ from: { file: "", position: 4 } }, "from"],
          [{ from: { file: "binlog.000001", position: 1 } }, "from"],
          [{ from: "later" }, "from"],
          [{ heartbeat: "0 seconds" }, "heartbeat"],
          [{ tables: ["nodot"] }, "tables"],
          [{ from: { gtid: "not a gtid" } }, "from"]
        ] as const
        for (const [bad, option] of cases) {
          const exit = yield* Effect.exit(collect({ ...options, from: "now", ...(bad as object) }, () => true))
          const error = failureOf(exit) as { _tag: string; option?: string }
          assert.strictEqual(error._tag, "ConfigError", JSON.stringify(bad))
          assert.strictEqual(error.option, option, JSON.stringify(bad))
        }
      })
    )
  })
})
