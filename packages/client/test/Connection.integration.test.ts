// The connection against the real MariaDB of the run: every account, ssl-mode, transport path and
// compression setting, and the commands.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted, Stream } from "effect"
import { LocalInfile, type MysqlConnection } from "../src/index.ts"
import { connect, optionsFor, target, verifyIdentity } from "./support.ts"

const statusOf = (conn: MysqlConnection.MysqlConnection, names: ReadonlyArray<string>) =>
  Effect.map(
    conn.query(`SHOW SESSION STATUS WHERE Variable_name IN (${names.map((n) => `'${n}'`).join(", ")})`),
    (result) => Object.fromEntries(result.rows.map((row) => [row.Variable_name, row.Value]))
  )

const currentUser = (conn: MysqlConnection.MysqlConnection) =>
  Effect.map(conn.query<{ user: string }>("SELECT CURRENT_USER() AS user"), (result) => result.rows[0]!.user)

describe("accounts and TLS", () => {
  const clientCertificate = { cert: target.tls.cert.pem, key: target.tls.key.pem }

  for (const account of ["plain", "nopw", "ed25519"] as const) {
    it.effect(`${account} logs in over plaintext and over verify-identity TLS`, () =>
      Effect.gen(function* () {
        const plain = yield* connect(optionsFor(account, { ssl: { mode: "disabled" } }))
        assert.match(yield* currentUser(plain), /@%$/)
        assert.isUndefined(plain.info.tls)
        const tls = yield* connect(optionsFor(account, { ssl: verifyIdentity }))
        const status = yield* statusOf(tls, ["Ssl_cipher", "Ssl_version"])
        assert.isAbove(String(status.Ssl_cipher).length, 0)
        // Deno's native TLS does not reveal the version and cipher; where a runtime does, they agree.
        if (tls.info.tls?.cipher !== undefined) assert.strictEqual(status.Ssl_cipher, tls.info.tls.cipher)
        if (tls.info.tls?.version !== undefined) assert.strictEqual(status.Ssl_version, tls.info.tls.version)
        assert.strictEqual(tls.info.tls?.verification.hostname, target.host)
      })
    )
  }

  it.effect("tls_only is refused without TLS, with a message that says why, and admitted with it", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(connect(optionsFor("tlsOnly", { ssl: { mode: "disabled" } })))
      assert.strictEqual(error._tag, "AuthenticationError")
      if (error._tag !== "AuthenticationError") return
      assert.strictEqual(error.errno, 1045)
      assert.strictEqual(error.sqlState, "28000")
      assert.include(error.message, "REQUIRE SSL")
      const conn = yield* connect(optionsFor("tlsOnly", { ssl: verifyIdentity }))
      assert.strictEqual(yield* currentUser(conn), "tls_only@%")
    })
  )

  it.effect("x509_user needs the client certificate", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(connect(optionsFor("x509", { ssl: verifyIdentity })))
      assert.strictEqual(error._tag, "AuthenticationError")
      const conn = yield* connect(optionsFor("x509", { ssl: { ...verifyIdentity, ...clientCertificate } }))
      assert.strictEqual(yield* currentUser(conn), "x509_user@%")
    })
  )

  for (const mode of ["disabled", "preferred", "required", "verify-ca", "verify-identity"] as const) {
    it.effect(`ssl-mode ${mode} against a server with a good certificate`, () =>
      Effect.gen(function* () {
        const ca = mode.startsWith("verify") ? { ca: target.tls.ca.pem } : {}
        const conn = yield* connect(optionsFor("plain", { ssl: { mode, ...ca } }))
        const status = yield* statusOf(conn, ["Ssl_cipher"])
        if (mode === "disabled") {
          assert.isUndefined(conn.info.tls)
          assert.strictEqual(status.Ssl_cipher, "")
        } else {
          assert.strictEqual(conn.info.tls?.verification.mode, mode)
          assert.isAbove(String(status.Ssl_cipher).length, 0)
        }
      })
    )
  }

  it.effect("over the Unix socket, in plaintext and with TLS", () =>
    Effect.gen(function* () {
      if (target.socketPath === undefined) return
      const plain = yield* connect(optionsFor("plain", { socketPath: target.socketPath, ssl: { mode: "disabled" } }))
      assert.strictEqual(plain.info.endpoint._tag, "Unix")
      assert.strictEqual(yield* currentUser(plain), "plain@%")
      const tls = yield* connect(
        optionsFor("x509", { socketPath: target.socketPath, ssl: { mode: "required", ...clientCertificate } })
      )
      assert.isDefined(tls.info.tls)
      assert.strictEqual(yield* currentUser(tls), "x509_user@%")
    })
  )

  for (const ssl of [{ mode: "disabled" } as const, verifyIdentity]) {
    it.effect(`zlib compression with ssl-mode ${ssl.mode}`, () =>
      Effect.gen(function* () {
        const conn = yield* connect(
          optionsFor("plain", {
            ssl,
            compression: { algorithms: ["zstd", "zlib"] },
            localInfile: LocalInfile.fromMap({ "numbers.txt": "1\n2\n3\n" })
          })
        )
        assert.strictEqual(conn.info.compression?.algorithm, "zlib")
        assert.strictEqual((yield* statusOf(conn, ["Compression"])).Compression, "ON")
        const big = yield* conn.query<{ n: number }>(
          "SELECT COUNT(*) AS n FROM (SELECT REPEAT('x', 1000) FROM seq_1_to_5000) t"
        )
        assert.strictEqual(big.rows[0]!.n, 5000)
        const rows = yield* conn.query("SELECT seq, REPEAT('ab', seq % 200) AS s FROM seq_1_to_100000")
        assert.strictEqual(rows.rows.length, 100000)
        assert.strictEqual(rows.rows[99998]!.s, "ab".repeat(199))
        // A 17 MiB blob both ways: MySQL packets split at 16 MiB inside compressed packets.
        const blob = new Uint8Array(17 * 1024 * 1024).map((_, i) => (i * 7) & 0xff)
        yield* conn.query("CREATE TEMPORARY TABLE zb (data LONGBLOB)")
        yield* conn.execute("INSERT INTO zb VALUES (?)", [blob])
        const back = yield* conn.execute<{ data: Uint8Array }>("SELECT data FROM zb WHERE ? = 1", [1])
        assert.deepStrictEqual(back.rows[0]!.data, blob)
        yield* conn.query("CREATE TEMPORARY TABLE zl (n INT)")
        const loaded = yield* conn.query("LOAD DATA LOCAL INFILE 'numbers.txt' INTO TABLE zl")
        assert.strictEqual(loaded.affectedRows, 3)
      })
    )
  }
})

describe("commands", () => {
  it.effect("a server error is typed and leaves the connection usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const error = yield* Effect.flip(conn.query("SELEC 1"))
      assert.strictEqual(error._tag, "ServerError")
      if (error._tag !== "ServerError") return
      assert.strictEqual(error.errno, 1064)
      assert.strictEqual(error.code, "ER_PARSE_ERROR")
      assert.strictEqual(error.sqlState, "42000")
      assert.strictEqual(error.sql, "SELEC 1")
      yield* conn.ping
      assert.deepStrictEqual((yield* conn.query("SELECT 2 AS two")).rows, [{ two: 2 }])
    })
  )

  it.effect("DML answers affected rows, insert id and changed rows", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      yield* conn.query("CREATE TEMPORARY TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
      const insert = yield* conn.execute("INSERT INTO t (v) VALUES (?), (?), (?)", [1, 2, 3])
      assert.strictEqual(insert.affectedRows, 3)
      assert.strictEqual(insert.insertId, 1)
      const update = yield* conn.query("UPDATE t SET v = 2 WHERE v >= 2")
      assert.strictEqual(update.affectedRows, 2) // CLIENT_FOUND_ROWS: matched rows
      assert.strictEqual(update.changedRows, 1)
      assert.include(update.info, "Rows matched: 2")
    })
  )

  it.effect("multi-statements and CALL with OUT parameters answer every result in order", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain", { multipleStatements: true }))
      const results = yield* conn.queryAll("SELECT 1 AS a; DO 0; SELECT 'b' AS b, 2 AS c")
      assert.deepStrictEqual(
        results.map((result) => result.rows),
        [[{ a: 1 }], [], [{ b: "b", c: 2 }]]
      )
      yield* conn.query(
        "CREATE OR REPLACE PROCEDURE twice (IN x INT, OUT y INT) BEGIN SELECT x AS x; SET y = x * 2; END"
      )
      const call = yield* conn.queryAll("CALL twice(21, @y); SELECT @y AS y")
      assert.deepStrictEqual(call[0]!.rows, [{ x: 21 }])
      assert.deepStrictEqual(call.at(-1)!.rows, [{ y: 42 }])
      const prepared = yield* conn.executeAll("CALL twice(?, @z)", [5])
      assert.deepStrictEqual(prepared[0]!.rows, [{ x: 5 }])
      assert.deepStrictEqual((yield* conn.query("SELECT @z AS z")).rows, [{ z: 10 }])
    })
  )

  it.effect("without multipleStatements, two statements in one query are a syntax error", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const error = yield* Effect.flip(conn.query("SELECT 1; SELECT 2"))
      assert.strictEqual(error._tag, "ServerError")
      yield* conn.setMultipleStatements(true)
      assert.strictEqual((yield* conn.queryAll("SELECT 1; SELECT 2")).length, 2)
    })
  )

  it.effect("closes statements evicted from the cache", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain", { statementCacheSize: 2 }))
      const closed = () => Effect.map(statusOf(conn, ["Com_stmt_close"]), (s) => Number(s.Com_stmt_close))
      for (const n of [1, 2, 1, 2]) yield* conn.execute(`SELECT ${n} + ? AS n`, [0])
      assert.strictEqual(yield* closed(), 0)
      yield* conn.execute("SELECT 3 + ? AS n", [0])
      assert.strictEqual(yield* closed(), 1)
      yield* conn.execute("SELECT 2 + ? AS n", [0]) // still cached
      assert.strictEqual(yield* closed(), 1)
    })
  )

  // Columns and row decoders are remembered per statement and reused only for the same definitions.
  it.effect("a statement run again after its table changed answers with the new columns", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      yield* conn.query("CREATE TEMPORARY TABLE shapes (a INT)")
      yield* conn.query("INSERT INTO shapes VALUES (7)")
      const text = () => conn.query("SELECT * FROM shapes")
      const binary = () => conn.execute("SELECT * FROM shapes WHERE a > ?", [0])
      const streamed = () => Stream.runCollect(conn.stream("SELECT * FROM shapes WHERE a > ?", [0]))
      for (const run of [text, binary]) {
        const first = yield* run()
        assert.deepStrictEqual(first.rows, [{ a: 7 }])
        assert.strictEqual((yield* run()).columns, first.columns, "the same definitions: the remembered columns")
      }
      yield* conn.query("ALTER TABLE shapes MODIFY a VARCHAR(8), ADD b DOUBLE")
      yield* conn.query("UPDATE shapes SET b = 0.5")
      for (const run of [text, binary]) {
        const changed = yield* run()
        assert.deepStrictEqual(
          changed.columns.map((c) => c.name),
          ["a", "b"]
        )
        assert.deepStrictEqual(changed.rows, [{ a: "7", b: 0.5 }])
      }
      assert.deepStrictEqual(yield* streamed(), [{ a: "7", b: 0.5 }])
      // A statement's own types get decoders of their own, and do not replace the remembered one.
      const count = (types?: { readonly bigint: "string" }) =>
        Effect.map(conn.query("SELECT COUNT(*) AS n FROM shapes", types === undefined ? {} : { types }), (r) => r.rows)
      assert.deepStrictEqual(yield* count(), [{ n: 1 }])
      assert.deepStrictEqual(yield* count({ bigint: "string" }), [{ n: "1" }])
      assert.deepStrictEqual(yield* count(), [{ n: 1 }])
    })
  )

  it.effect("a statement's own frozen types keep its decoded columns; types that can change are read anew", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const sql = "SELECT COUNT(*) AS n FROM seq_1_to_3"
      const asNumber = Object.freeze({ bigint: "number" as const })
      const asString = Object.freeze({ bigint: "string" as const })
      for (const run of [
        (types: typeof asNumber | typeof asString) => conn.query(sql, { types }),
        (types: typeof asNumber | typeof asString) => conn.execute(`${sql} WHERE seq > ?`, [0], { types })
      ]) {
        const first = yield* run(asNumber)
        const other = yield* run(asString)
        assert.deepStrictEqual(first.rows, [{ n: 3 }])
        assert.deepStrictEqual(other.rows, [{ n: "3" }])
        const again = yield* run(asNumber)
        assert.strictEqual(again.columns, first.columns, "the remembered columns of these types")
        assert.deepStrictEqual(again.rows, [{ n: 3 }])
        assert.strictEqual((yield* run(asString)).columns, other.columns)
      }
      // An object that is not frozen may change between statements: what it says now is what counts.
      const loose: { bigint: "number" | "string" } = { bigint: "number" }
      assert.deepStrictEqual((yield* conn.query(sql, { types: loose })).rows, [{ n: 3 }])
      loose.bigint = "string"
      assert.deepStrictEqual((yield* conn.query(sql, { types: loose })).rows, [{ n: "3" }])
    })
  )

  it.effect("prepare gives a statement for reuse, closed with its scope", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      yield* Effect.scoped(
        Effect.gen(function* () {
          const statement = yield* conn.prepare("SELECT ? * 2 AS n")
          assert.strictEqual(statement.parameters.length, 1)
          assert.deepStrictEqual((yield* statement.execute([4])).rows, [{ n: 8 }])
          assert.deepStrictEqual((yield* statement.execute([5])).rows, [{ n: 10 }])
        })
      )
      const status = yield* statusOf(conn, ["Com_stmt_close"])
      assert.strictEqual(Number(status.Com_stmt_close), 1)
    })
  )

  it.effect("changeUser logs in as another account on the same connection", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain", { ssl: verifyIdentity }))
      // The server switches ed_user to client_ed25519: a password Effect still runs once.
      let runs = 0
      const token = Effect.sync(() => {
        runs++
        return Redacted.make("ed-secret")
      })
      yield* conn.changeUser({ user: "ed_user", password: token, database: "test" })
      assert.strictEqual(yield* currentUser(conn), "ed_user@%")
      assert.strictEqual(runs, 1)
      yield* conn.changeUser({ user: "plain", password: "plain-secret" })
      assert.strictEqual(yield* currentUser(conn), "plain@%")
      const refused = yield* Effect.flip(conn.changeUser({ user: "plain", password: "wrong" }))
      assert.strictEqual(refused._tag, "AuthenticationError")
    })
  )

  it.effect("resetConnection drops session state; useDatabase switches the default database", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("root"))
      yield* conn.query("SET @x = 1")
      yield* conn.resetConnection
      assert.deepStrictEqual((yield* conn.query("SELECT @x AS x")).rows, [{ x: null }])
      yield* conn.useDatabase("mysql")
      assert.deepStrictEqual((yield* conn.query("SELECT DATABASE() AS db")).rows, [{ db: "mysql" }])
    })
  )

  it.effect("streams rows as they are pulled", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const count = yield* conn.stream<{ seq: number }>("SELECT seq FROM seq_1_to_20000").pipe(
        Stream.runFold(
          () => 0,
          (sum, row) => sum + row.seq
        )
      )
      assert.strictEqual(count, (20000 * 20001) / 2)
      const binary = yield* Stream.runCollect(conn.stream("SELECT seq FROM seq_1_to_5 WHERE seq > ?", [2]))
      assert.deepStrictEqual(binary, [{ seq: 3 }, { seq: 4 }, { seq: 5 }])
      // The connection is usable after a stream read to its end.
      yield* conn.ping
    })
  )

  it.effect("a stream ended early stops its statement and keeps the connection", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const started = Date.now()
      for (const params of [undefined, [0]]) {
        const sql =
          params === undefined ? "SELECT seq FROM seq_1_to_50000000" : "SELECT seq FROM seq_1_to_50000000 WHERE seq > ?"
        const first = yield* Stream.runCollect(Stream.take(conn.stream(sql, params), 3))
        assert.deepStrictEqual(first, [{ seq: 1 }, { seq: 2 }, { seq: 3 }])
        assert.isUndefined(conn.failure)
        assert.deepStrictEqual((yield* conn.query("SELECT 1 AS one")).rows, [{ one: 1 }])
      }
      // Reading all 50M rows would take far longer than this.
      assert.isBelow(Date.now() - started, 5000)
      // A statement the server refuses to prepare leaves nothing unread.
      const refused = yield* Effect.flip(Stream.runCollect(conn.stream("SELECT * FROM no_such_table WHERE a > ?", [0])))
      assert.strictEqual(refused._tag, "ServerError")
      assert.isUndefined(conn.failure)
      const closing = yield* connect(optionsFor("plain", { killQueryOnInterrupt: false }))
      yield* Stream.runCollect(Stream.take(closing.stream("SELECT seq FROM seq_1_to_50000000"), 3))
      assert.strictEqual((yield* Effect.flip(closing.ping))._tag, "TransportError")
    })
  )

  it.effect("a 20 MiB blob crosses the 16 MiB packet split both ways", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("plain"))
      const blob = new Uint8Array(20 * 1024 * 1024).map((_, i) => (i * 31) & 0xff)
      yield* conn.query("CREATE TEMPORARY TABLE b (data LONGBLOB)")
      yield* conn.execute("INSERT INTO b VALUES (?)", [blob])
      const text = yield* conn.query<{ data: Uint8Array }>("SELECT data FROM b")
      assert.deepStrictEqual(text.rows[0]!.data, blob)
      const binary = yield* conn.execute<{ data: Uint8Array; n: number }>(
        "SELECT data, LENGTH(data) AS n FROM b WHERE ? = 1",
        [1]
      )
      assert.strictEqual(binary.rows[0]!.n, blob.length)
      assert.deepStrictEqual(binary.rows[0]!.data, blob)
    })
  )

  it.effect("LOCAL INFILE reads only what the caller offered; other requests are refused", () =>
    Effect.gen(function* () {
      const conn = yield* connect(
        optionsFor("root", { localInfile: LocalInfile.fromMap({ "people.csv": "1,ada\n2,grace\n" }) })
      )
      yield* conn.query("CREATE TEMPORARY TABLE people (id INT, name TEXT)")
      const load = yield* conn.query("LOAD DATA LOCAL INFILE 'people.csv' INTO TABLE people FIELDS TERMINATED BY ','")
      assert.strictEqual(load.affectedRows, 2)
      const refused = yield* Effect.flip(
        conn.query("LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE people FIELDS TERMINATED BY ':'")
      )
      assert.strictEqual(refused._tag, "LocalInfileError")
      assert.deepStrictEqual((yield* conn.query("SELECT id, name FROM people ORDER BY id")).rows, [
        { id: 1, name: "ada" },
        { id: 2, name: "grace" }
      ])
    })
  )

  it.effect("without localInfile the client does not even offer LOCAL INFILE", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("root"))
      yield* conn.query("CREATE TEMPORARY TABLE p (line TEXT)")
      const error = yield* Effect.flip(conn.query("LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE p"))
      assert.strictEqual(error._tag, "ServerError")
      yield* conn.ping
    })
  )
})
