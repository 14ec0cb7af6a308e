/**
 * Records text and binary result set rows of every column type from a real MariaDB server into
 * test/fixtures/mariadb-rows.json (used by test/rows.golden.test.ts).
 *
 * Starts a throwaway `mariadbd` in a temporary directory (installed with `mariadb-install-db`,
 * root without password, Unix socket only), connects over a raw `node:net` socket with
 * CLIENT_DEPRECATE_EOF and MariaDB's extended metadata, creates one table with a column of every
 * type, inserts rows of limit values, and reads them back twice: with COM_QUERY (text rows) and
 * with COM_STMT_PREPARE + COM_STMT_EXECUTE (binary rows). It also executes `SELECT ?, ?, …` with
 * parameters encoded by this package's COM_STMT_EXECUTE codec, so the server echoes them back as a
 * binary row. Column definitions and rows are stored as hex payloads.
 *
 * Run from the repository root (Node 24 on the PATH):
 *   PATH=$PWD/node_modules/.bin:$PATH node packages/protocol/scripts/record-rows.ts
 */
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { Result } from "effect"
import { Capability, type CapabilitySet, MariaDbCapability, makeCapabilitySet } from "../src/Capabilities.ts"
import * as ComStmtExecute from "../src/ComStmtExecute.ts"
import { ComStmtPrepareOk } from "../src/ComStmtPrepareOk.ts"
import { encodePacket, type Packet, PacketDecoder } from "../src/Framing.ts"
import { HandshakeResponse41 } from "../src/HandshakeResponse41.ts"
import { HandshakeV10 } from "../src/HandshakeV10.ts"
import { classifyResultSetPacket } from "../src/Response.ts"
import { GOLDEN_PARAMETERS, GOLDEN_TABLE_DDL, GOLDEN_TABLE_ROWS } from "../test/fixtures/goldenRowsScript.ts"
import { hex, withScratchServer } from "./ScratchServer.ts"

const here = Path.dirname(new URL(import.meta.url).pathname)
const output = Path.join(here, "..", "test", "fixtures", "mariadb-rows.json")

/** A packet reader over a socket. */
class Connection {
  private readonly decoder = new PacketDecoder({ checkSequence: false })
  private readonly queue: Array<Packet> = []
  private waiting: ((p: Packet) => void) | undefined
  readonly socket: Net.Socket
  caps: CapabilitySet = makeCapabilitySet(0)

  constructor(socket: Net.Socket) {
    this.socket = socket
    socket.on("data", (chunk: Uint8Array) => {
      for (const p of Result.getOrThrow(this.decoder.push(new Uint8Array(chunk)))) {
        const w = this.waiting
        this.waiting = undefined
        if (w) w(p)
        else this.queue.push(p)
      }
    })
  }

  next(): Promise<Packet> {
    const p = this.queue.shift()
    return p ? Promise.resolve(p) : new Promise((resolve) => (this.waiting = resolve))
  }

  send(payload: Uint8Array): void {
    this.socket.write(encodePacket(payload, 0).bytes)
  }

  /** Reads a result set (or an OK / ERR) and returns its column definitions and rows as hex. */
  async resultSet(): Promise<{ columns: Array<string>; rows: Array<string> }> {
    const first = await this.next()
    if (first.payload[0] === 0xff)
      throw new Error(`server error: ${new TextDecoder().decode(first.payload.subarray(9))}`)
    if (first.payload[0] === 0x00) return { columns: [], rows: [] }
    const count = first.payload[0]
    const columns: Array<string> = []
    for (let i = 0; i < count; i++) columns.push(hex((await this.next()).payload))
    const rows: Array<string> = []
    for (;;) {
      const p = await this.next()
      const kind = classifyResultSetPacket(p.payload, this.caps)
      if (kind === "row") rows.push(hex(p.payload))
      else if (kind === "error") throw new Error("error inside result set")
      else return { columns, rows }
    }
  }

  async query(sql: string) {
    this.send(new Uint8Array([0x03, ...new TextEncoder().encode(sql)]))
    return this.resultSet()
  }

  /** Prepares `sql`; returns the statement id and number of parameters. */
  async prepare(sql: string): Promise<{ statementId: number; numParams: number }> {
    this.send(new Uint8Array([0x16, ...new TextEncoder().encode(sql)]))
    const first = await this.next()
    if (first.payload[0] === 0xff)
      throw new Error(`prepare failed: ${new TextDecoder().decode(first.payload.subarray(9))}`)
    const ok = Result.getOrThrow(ComStmtPrepareOk.decode(first.payload, this.caps))
    for (let i = 0; i < ok.numParams + ok.numColumns; i++) await this.next() // definitions (no EOFs)
    return { statementId: ok.statementId, numParams: ok.numParams }
  }
}

const WANTED =
  Capability.CLIENT_LONG_FLAG |
  Capability.CLIENT_PROTOCOL_41 |
  Capability.CLIENT_TRANSACTIONS |
  Capability.CLIENT_SECURE_CONNECTION |
  Capability.CLIENT_MULTI_RESULTS |
  Capability.CLIENT_PS_MULTI_RESULTS |
  Capability.CLIENT_PLUGIN_AUTH |
  Capability.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |
  Capability.CLIENT_DEPRECATE_EOF

const main = () =>
  withScratchServer(async (socketPath) => {
    const socket = Net.connect({ path: socketPath })
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve)
      socket.once("error", reject)
    })
    const c = new Connection(socket)
    const greeting = Result.getOrThrow(HandshakeV10.decode((await c.next()).payload))
    const capabilities = (WANTED & greeting.capabilities) >>> 0
    const mariadbCapabilities =
      (MariaDbCapability.MARIADB_CLIENT_EXTENDED_METADATA & (greeting.mariadbCapabilities ?? 0)) >>> 0
    c.caps = makeCapabilitySet(capabilities, mariadbCapabilities)
    const response = Result.getOrThrow(
      HandshakeResponse41.encode({
        capabilities,
        mariadbCapabilities,
        maxPacketSize: 16 * 1024 * 1024,
        characterSet: 45,
        username: "root",
        authResponse: new Uint8Array(0),
        authPluginName: "mysql_native_password"
      })
    )
    c.socket.write(encodePacket(response, 1).bytes)
    const auth = await c.next()
    if (auth.payload[0] !== 0x00) throw new Error(`authentication failed: ${hex(auth.payload)}`)

    await c.query("SET time_zone = '+00:00', sql_mode = ''")
    await c.query("CREATE DATABASE golden")
    await c.query("USE golden")
    await c.query(GOLDEN_TABLE_DDL)
    for (const row of GOLDEN_TABLE_ROWS) await c.query(`INSERT INTO v VALUES (${row})`)

    const select = "SELECT * FROM v ORDER BY id"
    const text = await c.query(select)
    const statement = await c.prepare(select)
    c.send(Result.getOrThrow(ComStmtExecute.encode({ statementId: statement.statementId, parameters: [] })))
    const binary = await c.resultSet()

    const echoSql = `SELECT ${GOLDEN_PARAMETERS.map(() => "?").join(", ")}`
    const echo = await c.prepare(echoSql)
    const executePayload = Result.getOrThrow(
      ComStmtExecute.encode({ statementId: echo.statementId, parameters: GOLDEN_PARAMETERS }, { timeZone: "Z" })
    )
    c.send(executePayload)
    const echoed = await c.resultSet()

    c.send(Uint8Array.of(0x01))
    socket.end()
    const fixture = {
      recordedWith: greeting.serverVersion,
      recordedAt: new Date().toISOString().slice(0, 10),
      capabilities,
      mariadbCapabilities,
      text: { sql: select, ...text },
      binary: { sql: select, ...binary },
      echo: { sql: echoSql, execute: hex(executePayload), ...echoed }
    }
    Fs.writeFileSync(output, `${JSON.stringify(fixture, null, 2)}\n`)
    console.log(
      `wrote ${output}: ${text.rows.length} text rows, ${binary.rows.length} binary rows, ${text.columns.length} columns`
    )
  })

await main()
