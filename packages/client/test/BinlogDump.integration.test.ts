// The replica commands against the run's MariaDB, which writes no binlog: COM_REGISTER_SLAVE is
// answered, COM_BINLOG_DUMP fails with the server's typed error, and the connection is closed
// after the dump (the server ends the session after one). The stream of events itself is tested
// by packages/replication against a binlog-writing server.
import { assert, describe, it } from "@effect/vitest"
import { BinlogDumpFlag } from "@effect-mysql/protocol"
import { Effect, Stream } from "effect"
import { connect, optionsFor, verifyIdentity } from "./support.ts"

describe("binlog dump", () => {
  it.effect("a server without a binlog refuses the dump with a ServerError; the connection is then closed", () =>
    Effect.gen(function* () {
      const conn = yield* connect(optionsFor("root", { ssl: verifyIdentity }))
      yield* conn.registerReplica({ serverId: 9901 })
      const error = yield* Effect.flip(
        Stream.runDrain(
          conn.binlogDump({
            _tag: "ComBinlogDump",
            binlogPosition: 4,
            flags: BinlogDumpFlag.BINLOG_DUMP_NON_BLOCK,
            serverId: 9901,
            binlogFilename: ""
          })
        )
      )
      assert.strictEqual(error._tag, "ServerError")
      if (error._tag === "ServerError") assert.strictEqual(error.errno, 1236)
      assert.strictEqual(conn.failure?._tag, "TransportError")
      assert.strictEqual((yield* Effect.flip(conn.ping))._tag, "TransportError")
    })
  )
})
