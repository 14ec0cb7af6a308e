/**
 * Records the packets a real MariaDB server sends, as hex, into test/fixtures/mariadb-packets.json.
 *
 * Starts a throwaway `mariadbd` in a temporary directory (installed with `mariadb-install-db`, root
 * without password, reachable on its own Unix socket only), connects twice over a raw `node:net`
 * socket (once with CLIENT_DEPRECATE_EOF, CLIENT_SESSION_TRACK and MariaDB extended metadata, once
 * with the classic EOF packets), runs a fixed script of commands and stores every packet the server
 * sends with its sequence id, the negotiated capabilities and a label. Only the framing and the
 * packet kinds needed to follow the conversation are interpreted here; the tests decode and
 * re-encode the recorded payloads.
 *
 * Run from the repository root (Node 24 on the PATH):
 *   PATH=$PWD/node_modules/.bin:$PATH node packages/protocol/scripts/record-fixtures.ts
 */
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { Result } from "effect"
import { Capability, MariaDbCapability } from "../src/Capabilities.ts"
import { ColumnCount } from "../src/ColumnCount.ts"
import { ComStmtPrepareOk, packetsAfterPrepareOk } from "../src/ComStmtPrepareOk.ts"
import { EofPacket } from "../src/EofPacket.ts"
import { encodePacket, type Packet, PacketDecoder } from "../src/Framing.ts"
import { HandshakeResponse41 } from "../src/HandshakeResponse41.ts"
import { HandshakeV10 } from "../src/HandshakeV10.ts"
import { OkPacket } from "../src/OkPacket.ts"
import { classifyResultSetPacket } from "../src/Response.ts"
import { StatusFlag } from "../src/StatusFlags.ts"
import { hex, withScratchServer } from "./ScratchServer.ts"

const here = Path.dirname(new URL(import.meta.url).pathname)
const output = Path.join(here, "..", "test", "fixtures", "mariadb-packets.json")

// ---------------------------------------------------------------------------------------------
// A minimal client that records what it receives
// ---------------------------------------------------------------------------------------------

interface Recorded {
  readonly label: string
  readonly kind: string
  readonly sequenceId: number
  readonly hex: string
}

class Conversation {
  private readonly decoder = new PacketDecoder({ checkSequence: false })
  private readonly queue: Array<Packet> = []
  private waiting: ((p: Packet) => void) | undefined
  readonly recorded: Array<Recorded> = []
  capabilities = 0
  mariadbCapabilities = 0

  private readonly socket: Net.Socket

  constructor(socket: Net.Socket) {
    this.socket = socket
    socket.on("data", (chunk: Uint8Array) => {
      for (const p of Result.getOrThrow(this.decoder.push(new Uint8Array(chunk)))) {
        if (this.waiting) {
          const w = this.waiting
          this.waiting = undefined
          w(p)
        } else this.queue.push(p)
      }
    })
  }

  get caps() {
    return { capabilities: this.capabilities, mariadbCapabilities: this.mariadbCapabilities }
  }

  next(): Promise<Packet> {
    const p = this.queue.shift()
    if (p) return Promise.resolve(p)
    return new Promise((resolve) => {
      this.waiting = resolve
    })
  }

  async read(label: string, kind: string): Promise<Packet> {
    const p = await this.next()
    this.recorded.push({ label, kind, sequenceId: p.sequenceId, hex: hex(p.payload) })
    return p
  }

  send(payload: Uint8Array, sequenceId: number): void {
    this.socket.write(encodePacket(payload, sequenceId).bytes)
  }

  /** Reads one complete response to a command (all result sets). */
  async response(label: string): Promise<void> {
    const deprecateEof = (this.capabilities & Capability.CLIENT_DEPRECATE_EOF) !== 0
    for (let set = 0; ; set++) {
      const name = set === 0 ? label : `${label} #${set + 1}`
      const first = await this.next()
      const h = first.payload[0]
      const record = (kind: string, p: Packet) =>
        this.recorded.push({ label: name, kind, sequenceId: p.sequenceId, hex: hex(p.payload) })
      if (h === 0x00) {
        record("ok", first)
        const ok = Result.getOrThrow(OkPacket.decode(first.payload, this.caps))
        if ((ok.statusFlags & StatusFlag.SERVER_MORE_RESULTS_EXISTS) !== 0) continue
        return
      }
      if (h === 0xff) {
        record("err", first)
        return
      }
      record("columnCount", first)
      const { columnCount } = Result.getOrThrow(ColumnCount.decode(first.payload, this.caps))
      for (let i = 0; i < columnCount; i++) await this.read(name, "columnDefinition")
      if (!deprecateEof) await this.read(name, "eof")
      for (;;) {
        const p = await this.next()
        const kind = classifyResultSetPacket(p.payload, this.caps)
        if (kind === "row") {
          record("textRow", p)
          continue
        }
        if (kind === "error") {
          record("err", p)
          return
        }
        record(deprecateEof ? "okAsEof" : "eof", p)
        const status = deprecateEof
          ? Result.getOrThrow(OkPacket.decode(p.payload, this.caps)).statusFlags
          : Result.getOrThrow(EofPacket.decode(p.payload, this.caps)).statusFlags
        if ((status & StatusFlag.SERVER_MORE_RESULTS_EXISTS) !== 0) break
        return
      }
    }
  }

  async prepare(label: string): Promise<void> {
    const first = await this.next()
    if (first.payload[0] === 0xff) {
      this.recorded.push({ label, kind: "err", sequenceId: first.sequenceId, hex: hex(first.payload) })
      return
    }
    this.recorded.push({ label, kind: "prepareOk", sequenceId: first.sequenceId, hex: hex(first.payload) })
    const ok = Result.getOrThrow(ComStmtPrepareOk.decode(first.payload, this.caps))
    const rest = packetsAfterPrepareOk(ok, this.caps)
    const eof = (this.capabilities & Capability.CLIENT_DEPRECATE_EOF) === 0
    const kinds: Array<string> = []
    const section = (n: number) => {
      if (n === 0) return
      for (let i = 0; i < n; i++) kinds.push("columnDefinition")
      if (eof) kinds.push("eof")
    }
    section(ok.numParams)
    section(ok.numColumns)
    if (kinds.length !== rest) throw new Error("prepare response length mismatch")
    for (const kind of kinds) await this.read(label, kind)
  }
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const command = (byte: number, body: Uint8Array = new Uint8Array(0)): Uint8Array => {
  const out = new Uint8Array(1 + body.length)
  out[0] = byte
  out.set(body, 1)
  return out
}
const u32 = (n: number): Uint8Array => new Uint8Array([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24])

const MODERN =
  Capability.CLIENT_LONG_FLAG |
  Capability.CLIENT_PROTOCOL_41 |
  Capability.CLIENT_TRANSACTIONS |
  Capability.CLIENT_SECURE_CONNECTION |
  Capability.CLIENT_MULTI_STATEMENTS |
  Capability.CLIENT_MULTI_RESULTS |
  Capability.CLIENT_PS_MULTI_RESULTS |
  Capability.CLIENT_PLUGIN_AUTH |
  Capability.CLIENT_CONNECT_ATTRS |
  Capability.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |
  Capability.CLIENT_SESSION_TRACK |
  Capability.CLIENT_DEPRECATE_EOF

const CLASSIC =
  Capability.CLIENT_LONG_PASSWORD |
  Capability.CLIENT_LONG_FLAG |
  Capability.CLIENT_PROTOCOL_41 |
  Capability.CLIENT_TRANSACTIONS |
  Capability.CLIENT_SECURE_CONNECTION |
  Capability.CLIENT_MULTI_RESULTS |
  Capability.CLIENT_PLUGIN_AUTH

interface Session {
  readonly name: string
  readonly capabilities: number
  readonly mariadbCapabilities: number
  readonly serverVersion: string
  readonly packets: ReadonlyArray<Recorded>
}

const session = async (socketPath: string, name: string, wanted: number, wantedMariaDb: number): Promise<Session> => {
  const socket = Net.connect({ path: socketPath })
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve)
    socket.once("error", reject)
  })
  const c = new Conversation(socket)
  const greetingPacket = await c.read("greeting", "greeting")
  const greeting = Result.getOrThrow(HandshakeV10.decode(greetingPacket.payload))
  const mariadb = (greeting.capabilities & Capability.CLIENT_MYSQL) === 0
  const clientCaps = (wanted & greeting.capabilities & ~(mariadb ? Capability.CLIENT_MYSQL : 0)) >>> 0
  const clientMariaDb = mariadb ? (wantedMariaDb & (greeting.mariadbCapabilities ?? 0)) >>> 0 : 0
  c.capabilities = clientCaps
  c.mariadbCapabilities = clientMariaDb
  const response = Result.getOrThrow(
    HandshakeResponse41.encode({
      capabilities: clientCaps,
      maxPacketSize: 16 * 1024 * 1024,
      characterSet: 45, // utf8mb4_general_ci
      ...(mariadb ? { mariadbCapabilities: clientMariaDb } : {}),
      username: "root",
      authResponse: new Uint8Array(0),
      ...((clientCaps & Capability.CLIENT_PLUGIN_AUTH) !== 0 ? { authPluginName: "mysql_native_password" } : {}),
      ...((clientCaps & Capability.CLIENT_CONNECT_ATTRS) !== 0
        ? {
            connectAttributes: [
              ["_client_name", "effect-mysql-fixtures"],
              ["_client_version", "0.0.0"]
            ] as const
          }
        : {})
    })
  )
  c.send(response, 1)
  const authResult = await c.read("auth result", "ok")
  if (authResult.payload[0] !== 0x00) throw new Error(`authentication failed: ${hex(authResult.payload)}`)

  const query = async (label: string, sql: string) => {
    c.send(command(0x03, text(sql)), 0)
    await c.response(label)
  }
  await query("select literals", "SELECT 1 AS one, 'two' AS two, NULL AS three, 2.5 AS four")
  await query("select with warning", "SELECT 1/0 AS d")
  await query("create database", `CREATE DATABASE IF NOT EXISTS fixtures_${name}`)
  c.send(command(0x02, text(`fixtures_${name}`)), 0)
  await c.response("init db")
  await query(
    "create table",
    "CREATE TABLE t (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL, doc JSON, " +
      "amount DECIMAL(10,2), created DATETIME(3), data BLOB, u UUID, ip INET6, p POINT, big BIGINT UNSIGNED, " +
      "e ENUM('a','b'), s SET('x','y'), y YEAR, f DOUBLE, t TIME(6)) ENGINE=InnoDB"
  )
  await query(
    "insert rows",
    "INSERT INTO t (name, doc, amount, created, data, u, ip, p, big, e, s, y, f, t) VALUES " +
      "('alpha', '{\"a\":1}', 12.50, '2024-02-29 12:34:56.789', x'00ff', 'e3b0c442-98fc-1c14-9afb-f4c8996fb924', " +
      "'::1', POINT(1,2), 18446744073709551615, 'a', 'x,y', 2024, 1.5, '-838:59:59')," +
      "('beta', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)," +
      "('gamma', '[1,2]', -3.25, '1999-12-31 23:59:59.000', '', NULL, '::ffff:10.0.0.1', NULL, 0, 'b', '', 1999, -0.0, '00:00:00')"
  )
  await query("update rows", "UPDATE t SET amount = 1 WHERE id >= 1")
  await query("select table", "SELECT * FROM t ORDER BY id")
  await query("missing table", "SELECT * FROM no_such_table")
  await query("syntax error", "SELEC 1")
  await query("duplicate key", "INSERT INTO t (id, name) VALUES (1, 'dup')")
  await query("set autocommit", "SET autocommit = 0")
  await query("track state", "SET session_track_state_change = ON")
  await query("track transaction", "SET session_track_transaction_info = 'CHARACTERISTICS'")
  await query("start transaction", "START TRANSACTION READ ONLY")
  await query("commit", "COMMIT")
  await query("set time zone", "SET time_zone = '+00:00'")
  await query("multi statement", "SELECT 1; SELECT 2")
  c.send(command(0x0e), 0)
  await c.response("ping")

  const prepare = async (label: string, sql: string) => {
    c.send(command(0x16, text(sql)), 0)
    await c.prepare(label)
  }
  await prepare("prepare select", "SELECT id, name, doc, u FROM t WHERE id > ? AND name <> ?")
  await prepare("prepare insert", "INSERT INTO t (name, amount) VALUES (?, ?)")
  await prepare("prepare no params", "SELECT 1")
  await prepare("prepare error", "SELECT * FROM no_such_table WHERE id = ?")
  c.send(command(0x1a, u32(1)), 0)
  await c.response("stmt reset")

  c.send(command(0x01), 0)
  socket.end()
  return {
    name,
    capabilities: clientCaps,
    mariadbCapabilities: clientMariaDb,
    serverVersion: greeting.serverVersion,
    packets: c.recorded
  }
}

const main = () =>
  withScratchServer(async (socketPath) => {
    const sessions = [
      await session(
        socketPath,
        "modern",
        MODERN,
        MariaDbCapability.MARIADB_CLIENT_EXTENDED_METADATA | MariaDbCapability.MARIADB_CLIENT_PROGRESS
      ),
      await session(socketPath, "classic", CLASSIC, 0)
    ]
    Fs.writeFileSync(
      output,
      `${JSON.stringify({ recordedWith: sessions[0].serverVersion, recordedAt: new Date().toISOString().slice(0, 10), sessions }, null, 2)}\n`
    )
    console.log(`wrote ${output}: ${sessions.map((s) => `${s.name} ${s.packets.length} packets`).join(", ")}`)
  })

await main()
