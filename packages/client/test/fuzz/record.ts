/**
 * Records the fuzz transcripts: starts a throwaway MariaDB, creates the tables the sessions read,
 * then runs each session of Sessions.ts through a recording proxy and writes its turns to
 * test/fixtures/transcripts/<session>.json.
 *
 *   node packages/client/test/fuzz/record.ts
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Transcript } from "@effect-mysql/fake-server"
import { MariaDbServer, TestAccounts, TestPki } from "@effect-mysql/testing"
import { NodeTransport } from "@effect-mysql/transport/node"
import { Effect } from "effect"
import * as MysqlConnection from "../../src/MysqlConnection.ts"
import { transcriptsDir } from "./FuzzCase.ts"
import { type FuzzSession, sessions, setupSql } from "./Sessions.ts"

const recordSession = (server: MariaDbServer.MariaDbServer, session: FuzzSession) =>
  Effect.scoped(
    Effect.gen(function* () {
      const proxy = yield* Transcript.recorder(server)
      const account = TestAccounts[session.account]
      const version = yield* Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* MysqlConnection.connect({
            ...session.options,
            host: proxy.host,
            port: proxy.port,
            user: account.user,
            password: account.password,
            database: "test",
            ssl: { mode: "disabled" },
            killQueryOnInterrupt: false
          })
          for (const step of session.steps) yield* step(conn)
          return conn.info.serverVersion
        })
      )
      // The COM_QUIT and the server's close cross the proxy a moment later.
      yield* Effect.sleep("200 millis")
      const [turns] = yield* proxy.connections
      if (turns === undefined) return yield* Effect.die(`${session.name}: nothing recorded`)
      const transcript: Transcript.Transcript = {
        name: session.name,
        description: session.description,
        server: version,
        turns: Transcript.toTurns(turns, session.options.compression !== undefined)
      }
      Fs.writeFileSync(Path.join(transcriptsDir, `${session.name}.json`), Transcript.toJson(transcript))
      const bytes = transcript.turns.reduce((n, turn) => n + turn.bytes.length, 0)
      console.log(`${session.name}: ${transcript.turns.length} turns, ${bytes} bytes`)
    })
  )

const program = Effect.scoped(
  Effect.gen(function* () {
    const pki = yield* TestPki.generate
    const server = yield* MariaDbServer.start({ pki })
    console.log(`MariaDB ${server.version} on port ${server.port}`)
    yield* Effect.scoped(
      Effect.gen(function* () {
        const conn = yield* MysqlConnection.connect({
          host: server.host,
          port: server.port,
          user: TestAccounts.root.user,
          password: TestAccounts.root.password,
          database: "test",
          ssl: { mode: "disabled" }
        })
        for (const sql of setupSql) yield* conn.query(sql)
      })
    )
    Fs.mkdirSync(transcriptsDir, { recursive: true })
    for (const session of sessions) yield* recordSession(server, session)
  })
).pipe(Effect.provide(NodeTransport.layer))

Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
