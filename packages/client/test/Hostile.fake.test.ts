// A hostile or broken server, scripted with the fake server: every known attack on MySQL clients
// is refused, every malformed answer ends in a typed error and a closed connection. Each test
// checks what the server received, not only what the client said.
import * as Net from "node:net"
import * as Zlib from "node:zlib"
import { assert, describe, layer } from "@effect/vitest"
import { COMPRESSED_HEADER_LENGTH, writeHeader } from "@effect-mysql/compression"
import { FakeServer } from "@effect-mysql/fake-server"
import {
  Capability,
  ColumnFlag,
  ColumnType,
  concatBytes,
  encodePacket,
  LocalInfileRequest,
  makeColumnDefinition,
  makeOkPacket,
  OkPacket,
  StatusFlag
} from "@effect-mysql/protocol"
import { TestPki } from "@effect-mysql/testing"
import { Context, Effect, Layer, Result, Stream } from "effect"
import type { MysqlConnection, MysqlError } from "../src/index.ts"
import { connect, containsBytes, optionsFor, refused, sawPassword, tlsOf } from "./fakeSupport.ts"

class Pki extends Context.Service<Pki, TestPki.TestPki>()("test/Pki") {}

const PkiLive = Layer.effect(Pki, Effect.orDie(TestPki.generate))

const user = "victim"
const password = "hostile-Pässword-42"
const accounts = [{ user, password }]
const utf8 = (text: string) => new TextEncoder().encode(text)

/** Packets the client sent once the server started the auth exchange. */
const authPackets = (connection: FakeServer.FakeConnection) =>
  connection.received.filter((packet) => packet.phase === "auth").map((packet) => packet.payload)

/** Nothing the client sent names the user or carries the password. */
const sentNoCredentials = (connection: FakeServer.FakeConnection) => {
  assert.isUndefined(connection.handshakeResponse)
  assert.isFalse(connection.received.some((packet) => containsBytes(packet.payload, utf8(user))))
  assert.isFalse(sawPassword(connection, password))
}

const only = (connections: ReadonlyArray<FakeServer.FakeConnection>) => {
  assert.strictEqual(connections.length, 1)
  return connections[0]!
}

const tagOf = (error: MysqlError) => error._tag

/** SHA-256 of a PEM certificate's DER bytes, as ssl.fingerprints takes it. */
const fingerprintOf = (pem: string) =>
  Effect.promise(async () => {
    const base64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "")
    const der = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der))
    return Array.from(digest, (b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":")
  })

const frame = (payload: ArrayLike<number>, sequenceId: number) =>
  encodePacket(Uint8Array.from(payload), sequenceId).bytes

const replace = (bytes: Uint8Array): FakeServer.SendAction => ({ _tag: "Replace", bytes })

/**
 * An OK packet a man in the middle forges after the greeting (sequence 1, where the answer to the
 * login would be): it claims the login succeeded and switches on NO_BACKSLASH_ESCAPES, which would
 * change how the client escapes strings.
 */
const forgedOk = frame(
  Result.getOrThrow(
    OkPacket.encode(
      makeOkPacket({
        statusFlags: StatusFlag.SERVER_STATUS_AUTOCOMMIT | StatusFlag.SERVER_STATUS_NO_BACKSLASH_ESCAPES
      })
    )
  ),
  1
)

/** Where the man in the middle puts its forged bytes. */
type Injection = "in the greeting's write" | "in a write after the greeting" | "in a write after the SSL Request"

/**
 * A man in the middle in front of `target` that passes bytes both ways and injects `forged` into
 * what the client receives, as `at` says: with the greeting in one write, in a write of its own
 * after the greeting, or once the client's SSL Request has arrived and before passing it on (so the
 * injection precedes anything the server answers). It sets the SSL Request's sequence id back to 1,
 * hiding the injection from the server.
 */
const injectingRelay = (target: FakeServer.FakeServer, forged: Uint8Array, at: Injection) => {
  const sockets = new Set<Net.Socket>()
  const relay = Net.createServer((client) => {
    const upstream = Net.connect({ host: target.host, port: target.port })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on("error", () => socket.destroy())
      socket.on("close", () => {
        client.destroy()
        upstream.destroy()
      })
    }
    let greeted = false
    upstream.on("data", (chunk: Buffer) => {
      if (greeted) return void client.write(chunk)
      greeted = true
      if (at === "in the greeting's write") return void client.write(concatBytes([chunk, forged]))
      client.write(chunk)
      if (at === "in a write after the greeting") setImmediate(() => client.write(forged))
    })
    let requested = false
    client.on("data", (chunk: Buffer) => {
      if (requested) return void upstream.write(chunk)
      requested = true
      const sslRequest = Uint8Array.from(chunk)
      sslRequest[3] = 1
      if (at === "in a write after the SSL Request") client.write(forged, () => upstream.write(sslRequest))
      else upstream.write(sslRequest)
    })
  })
  return Effect.acquireRelease(
    Effect.callback<number>((resume) => {
      relay.listen(0, "127.0.0.1", () => resume(Effect.succeed((relay.address() as Net.AddressInfo).port)))
    }),
    () =>
      Effect.callback<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        relay.close(() => resume(Effect.void))
      })
  )
}

/** A two-row result set of one utf8mb4 text column, the target of the malformed answers. */
const hostileSql = "SELECT hostile"
const hostileAnswer: FakeServer.FakeAnswer = {
  _tag: "ResultSet",
  columns: [
    makeColumnDefinition({
      name: "s",
      type: ColumnType.VAR_STRING,
      collation: 45,
      columnLength: 400,
      flags: ColumnFlag.NOT_NULL
    })
  ],
  rows: [["first"], ["second"]]
}

/**
 * A server whose answer to `hostileSql` goes through `mutate` (packets numbered by sequence id: 1
 * column count, 2 column definition, 3 and 4 rows, 5 the closing OK).
 */
const malformedServer = (mutate: (packet: FakeServer.OutgoingPacket) => FakeServer.SendAction | undefined) => {
  let armed = false
  return FakeServer.start({
    accounts,
    cachedUsers: [user],
    statements: (sql) => {
      armed = sql === hostileSql
      return armed ? hostileAnswer : undefined
    },
    hooks: {
      onSend: (packet) =>
        armed && packet.phase === "command" ? (mutate(packet) ?? { _tag: "Send" }) : { _tag: "Send" }
    }
  })
}

const plain = { ssl: { mode: "disabled" } } as const

/** After a failure that leaves the protocol state unknown: closed at once, and said so. */
const assertClosed = (conn: MysqlConnection.MysqlConnection, server: FakeServer.FakeServer) =>
  Effect.gen(function* () {
    assert.isDefined(conn.failure)
    const later = yield* Effect.flip(conn.query("SELECT 1"))
    assert.strictEqual(later._tag, "TransportError")
    if (later._tag === "TransportError") assert.strictEqual(later.reason, "closed")
    // The client closed the socket itself: the server saw the end without a COM_QUIT.
    const record = only(yield* server.settled)
    assert.isDefined(record.end)
    assert.notInclude(
      record.commands.map((command) => command._tag),
      "ComQuit"
    )
    return record
  })

layer(PkiLive, { timeout: 60_000, excludeTestServices: true })("hostile servers", (it) => {
  describe("1. no TLS where the ssl-mode requires it", () => {
    for (const mode of ["required", "verify-ca", "verify-identity"] as const) {
      it.effect(`${mode}: TlsError right after the greeting, no user name and no auth data sent`, () =>
        Effect.gen(function* () {
          const pki = yield* Pki
          const server = yield* FakeServer.start({ accounts })
          const error = yield* refused(optionsFor(server, user, password, { ssl: { mode, ca: pki.ca.pem } }))
          assert.strictEqual(error._tag, "TlsError")
          if (error._tag === "TlsError") assert.strictEqual(error.reason, "server-has-no-tls")
          const record = only(yield* server.settled)
          assert.deepStrictEqual(record.received, [])
          assert.isUndefined(record.sslRequest)
          sentNoCredentials(record)
        })
      )
    }

    it.effect("a man in the middle strips CLIENT_SSL from a TLS server's greeting: refused the same way", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({
          accounts,
          tls: tlsOf(pki),
          hooks: {
            greeting: (greeting) => ({
              ...greeting,
              capabilities: (greeting.capabilities & ~Capability.CLIENT_SSL) >>> 0
            })
          }
        })
        const error = yield* refused(
          optionsFor(server, user, password, { ssl: { mode: "verify-identity", ca: pki.ca.pem } })
        )
        assert.strictEqual(error._tag, "TlsError")
        const record = only(yield* server.settled)
        assert.deepStrictEqual(record.received, [])
        sentNoCredentials(record)
      })
    )
  })

  describe("1b. plaintext injected between the greeting and TLS", () => {
    const injections: ReadonlyArray<Injection> = [
      "in the greeting's write",
      "in a write after the greeting",
      "in a write after the SSL Request"
    ]
    for (const at of injections) {
      it.effect(`a forged OK ${at}: TlsError under verify-identity, nothing of the login sent`, () =>
        Effect.gen(function* () {
          const pki = yield* Pki
          const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki), cachedUsers: [user] })
          const port = yield* injectingRelay(server, forgedOk, at)
          const error = yield* refused({
            ...optionsFor(server, user, password, { ssl: { mode: "verify-identity", ca: pki.ca.pem } }),
            port
          })
          assert.strictEqual(error._tag, "TlsError")
          // Where the client holds the bytes before the upgrade, it says what they are; bytes that
          // arrive once TLS has started break the TLS handshake instead.
          if (at === "in the greeting's write") assert.include(error.message, "injected")
          sentNoCredentials(only(yield* server.settled))
        })
      )
    }
  })

  it.effect("2. preferred with a server that offers TLS: TLS is used, the login goes inside it", () =>
    Effect.gen(function* () {
      const pki = yield* Pki
      const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki), cachedUsers: [user] })
      const conn = yield* connect(optionsFor(server, user, password, { ssl: { mode: "preferred" } }))
      assert.isDefined(conn.info.tls)
      const record = server.connections[0]!
      assert.isTrue(record.tls)
      const [sslRequest, response] = record.received
      // In the clear: the 32-byte SSL Request alone, which names nobody.
      assert.strictEqual(sslRequest!.payload.length, 32)
      assert.isFalse(containsBytes(sslRequest!.payload, utf8(user)))
      assert.isDefined(record.sslRequest)
      // Inside TLS: the handshake response (sequence 2, after the SSL Request's 1).
      assert.strictEqual(response!.sequenceId, 2)
      assert.strictEqual(record.handshakeResponse?.username, user)
    })
  )

  describe("3. an auth switch to mysql_clear_password", () => {
    const clearAccounts = [{ user, password, plugin: "mysql_clear_password" }]
    const cleartext = new Uint8Array([...utf8(password), 0])

    it.effect("over plaintext TCP: refused, and the password never leaves the client", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts: clearAccounts })
        const error = yield* refused(optionsFor(server, user, password, plain))
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag === "AuthenticationError") {
          assert.strictEqual(error.plugin, "mysql_clear_password")
          assert.include(error.message, "allowCleartextPasswords")
        }
        const record = only(yield* server.settled)
        assert.deepStrictEqual(authPackets(record), [])
        assert.isFalse(sawPassword(record, password))
        assert.isFalse(record.authenticated)
      })
    )

    it.effect("over plaintext TCP with allowCleartextPasswords: sent, because the caller said so", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({ accounts: clearAccounts })
        yield* connect(optionsFor(server, user, password, { ...plain, allowCleartextPasswords: true }))
        assert.deepStrictEqual(authPackets(server.connections[0]!), [cleartext])
      })
    )

    it.effect("over verified TLS with allowCleartextPasswords: sent inside the tunnel", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({ accounts: clearAccounts, tls: tlsOf(pki) })
        yield* connect(
          optionsFor(server, user, password, {
            ssl: { mode: "verify-identity", ca: pki.ca.pem },
            allowCleartextPasswords: true
          })
        )
        const record = server.connections[0]!
        assert.isTrue(record.tls)
        assert.deepStrictEqual(authPackets(record), [cleartext])
      })
    )
  })

  describe("3b. an impostor with a certificate of its own, under preferred and required", () => {
    // What each account's plugin makes the server ask for: the password in the clear, or the
    // password itself after a failed fast path, or sha256_password's password.
    const asks = [
      { plugin: "mysql_clear_password", option: "allowCleartextPasswords" },
      { plugin: "caching_sha2_password", option: "ssl.mode verify-identity" },
      { plugin: "sha256_password", option: "ssl.mode verify-identity" }
    ]
    for (const mode of ["preferred", "required"] as const) {
      for (const { plugin, option } of asks) {
        it.effect(`${mode}, ${plugin}: AuthenticationError naming ${option}, the password never sent`, () =>
          Effect.gen(function* () {
            const pki = yield* Pki
            const impostor = yield* FakeServer.start({
              accounts: [{ user, password, plugin }],
              tls: { cert: pki.servers.untrusted.cert.pem, key: pki.servers.untrusted.key.pem }
            })
            // Not even a server key the caller trusts lets the password out: inside TLS the
            // server reads the answer as the password itself.
            const error = yield* refused(
              optionsFor(impostor, user, password, { ssl: { mode }, serverPublicKey: impostor.publicKeyPem })
            )
            assert.strictEqual(error._tag, "AuthenticationError")
            if (error._tag === "AuthenticationError") {
              assert.strictEqual(error.plugin, plugin)
              assert.include(error.message, option)
              assert.include(error.message, "allowCleartextPasswords")
            }
            const record = only(yield* impostor.settled)
            assert.isTrue(record.tls)
            assert.isFalse(sawPassword(record, password))
            assert.isFalse(record.authenticated)
          })
        )
      }
    }

    it.effect("required with allowCleartextPasswords: the caller accepts an unverified peer, sent", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki) })
        yield* connect(optionsFor(server, user, password, { ssl: { mode: "required" }, allowCleartextPasswords: true }))
        assert.deepStrictEqual(authPackets(only(server.connections)), [new Uint8Array([...utf8(password), 0])])
      })
    )

    for (const plugin of ["caching_sha2_password", "sha256_password"]) {
      it.effect(`${plugin} to a verified server (the pinned certificate): sent inside the tunnel`, () =>
        Effect.gen(function* () {
          const pki = yield* Pki
          const server = yield* FakeServer.start({ accounts: [{ user, password, plugin }], tls: tlsOf(pki) })
          const pinned = yield* fingerprintOf(pki.servers.good.cert.pem)
          yield* connect(optionsFor(server, user, password, { ssl: { mode: "required", fingerprints: [pinned] } }))
          const record = only(server.connections)
          assert.isTrue(record.authenticated)
          assert.deepStrictEqual(authPackets(record).at(-1), new Uint8Array([...utf8(password), 0]))
        })
      )
    }
  })

  it.effect(
    "4. caching_sha2 full authentication over plaintext, no key, no retrieval: refused, no password bytes",
    () =>
      Effect.gen(function* () {
        // Not in the fast-auth cache: the server asks for full authentication.
        const server = yield* FakeServer.start({ accounts })
        const error = yield* refused(optionsFor(server, user, password, plain))
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag === "AuthenticationError") {
          assert.strictEqual(error.plugin, "caching_sha2_password")
          assert.include(error.message, "allowPublicKeyRetrieval")
        }
        const record = only(yield* server.settled)
        // Only the 32-byte scramble went (useless without the server's cache); no key request, no
        // encrypted or clear password after it.
        assert.strictEqual(record.handshakeResponse?.authResponse.length, 32)
        assert.deepStrictEqual(authPackets(record), [])
        assert.isFalse(sawPassword(record, password))
        assert.isFalse(record.authenticated)
      })
  )

  describe("5. a switch to a plugin the client will not speak", () => {
    for (const plugin of ["mysql_old_password", "hostile_exfiltration_plugin"]) {
      it.effect(`${plugin}: AuthenticationError naming it, nothing answered`, () =>
        Effect.gen(function* () {
          const server = yield* FakeServer.start({ accounts: [{ user, password, plugin }] })
          const error = yield* refused(optionsFor(server, user, password, plain))
          assert.strictEqual(error._tag, "AuthenticationError")
          if (error._tag === "AuthenticationError") {
            assert.strictEqual(error.plugin, plugin)
            assert.include(error.message, plugin)
          }
          const record = only(yield* server.settled)
          assert.deepStrictEqual(authPackets(record), [])
          assert.isFalse(sawPassword(record, password))
        })
      )
    }
  })

  describe("6. LOCAL INFILE for a file the caller never offered", () => {
    const loadSql = "LOAD DATA LOCAL INFILE 'data.csv' INTO TABLE t"

    /** Answers the LOAD DATA with a request for /etc/passwd, and records what the client sent back. */
    const infileServer = () => {
      const answers: Array<Uint8Array> = []
      return Effect.map(
        FakeServer.start({
          accounts,
          cachedUsers: [user],
          hooks: {
            onCommand: (command, session) =>
              command._tag !== "ComQuery" || command.query !== loadSql
                ? Effect.succeed(false)
                : Effect.gen(function* () {
                    const request = LocalInfileRequest.encode({ _tag: "LocalInfileRequest", filename: "/etc/passwd" })
                    yield* session.send("command", [Result.getOrThrow(request)])
                    // The file's packets end with an empty one.
                    while (true) {
                      const data = yield* session.receive("command")
                      answers.push(data)
                      if (data.length === 0) break
                    }
                    const ok = OkPacket.encode(makeOkPacket(), session.capabilities)
                    yield* session.send("command", [Result.getOrThrow(ok)])
                    return true
                  })
          }
        }),
        (server) => ({ server, answers })
      )
    }

    it.effect("without localInfile: refused with an empty file; the connection stays usable", () =>
      Effect.gen(function* () {
        const { server, answers } = yield* infileServer()
        const conn = yield* connect(optionsFor(server, user, password, plain))
        const error = yield* Effect.flip(conn.query(loadSql))
        assert.strictEqual(error._tag, "LocalInfileError")
        if (error._tag === "LocalInfileError") {
          assert.strictEqual(error.reason, "refused")
          assert.strictEqual(error.fileName, "/etc/passwd")
        }
        // The only answer was the empty packet: not a byte of any file.
        assert.deepStrictEqual(answers, [new Uint8Array(0)])
        assert.isUndefined(conn.failure)
        assert.deepStrictEqual((yield* conn.query("SELECT 1")).rows, [{ "1": 1 }])
        // The client never offered LOCAL INFILE in its capabilities.
        assert.strictEqual(server.connections[0]!.handshakeResponse!.capabilities & Capability.CLIENT_LOCAL_FILES, 0)
      })
    )

    it.effect("with a source for other names: asked by name, answers nothing, nothing sent", () =>
      Effect.gen(function* () {
        const { server, answers } = yield* infileServer()
        const asked: Array<string> = []
        const conn = yield* connect(
          optionsFor(server, user, password, {
            ...plain,
            localInfile: {
              source: (fileName) => {
                asked.push(fileName)
                return fileName === "data.csv" ? "1,2\n" : undefined
              }
            }
          })
        )
        const error = yield* Effect.flip(conn.query(loadSql))
        assert.strictEqual(error._tag, "LocalInfileError")
        assert.deepStrictEqual(asked, ["/etc/passwd"])
        assert.deepStrictEqual(answers, [new Uint8Array(0)])
        assert.deepStrictEqual((yield* conn.query("SELECT 1")).rows, [{ "1": 1 }])
      })
    )
  })

  describe("7. malformed traffic: ProtocolError, connection closed", () => {
    const cases: ReadonlyArray<
      readonly [string, (packet: FakeServer.OutgoingPacket) => FakeServer.SendAction | undefined]
    > = [
      [
        "a truncated column definition",
        (p) => (p.sequenceId === 2 ? replace(frame(p.payload.subarray(0, 9), 2)) : undefined)
      ],
      [
        "a length field larger than the data (column count 0xFC with one byte)",
        (p) => (p.sequenceId === 1 ? replace(frame([0xfc, 0x01], 1)) : undefined)
      ],
      [
        "a packet header announcing 16 MiB, beyond maxPacketSize",
        (p) => (p.sequenceId === 3 ? replace(Uint8Array.of(0xff, 0xff, 0xff, 3, 1, 2, 3)) : undefined)
      ],
      ["a sequence-id jump", (p) => (p.sequenceId === 3 ? replace(frame(p.payload, 9)) : undefined)],
      [
        "a column count of 2^40",
        (p) => (p.sequenceId === 1 ? replace(frame([0xfe, 0, 0, 0, 0, 1, 0, 0, 0], 1)) : undefined)
      ],
      [
        "0xFB (NULL) where the column definition needs a length",
        (p) => (p.sequenceId === 2 ? replace(frame([0xfb, ...p.payload.subarray(1)], 2)) : undefined)
      ],
      [
        "a string running past the packet end",
        (p) => (p.sequenceId === 3 ? replace(frame([0x40, 0x61, 0x62], 3)) : undefined)
      ],
      [
        "invalid UTF-8 in a utf8mb4 column",
        (p) => (p.sequenceId === 3 ? replace(frame([0x03, 0x61, 0xc3, 0x28], 3)) : undefined)
      ],
      [
        "a row before the column definitions",
        (p) => (p.sequenceId === 1 ? replace(frame([0x05, ...utf8("first")], 1)) : undefined)
      ]
    ]

    for (const [name, mutate] of cases) {
      it.effect(name, () =>
        Effect.gen(function* () {
          const server = yield* malformedServer(mutate)
          const conn = yield* connect(
            optionsFor(server, user, password, { ...plain, readTimeout: "5 seconds", maxPacketSize: 64 * 1024 })
          )
          const error = yield* Effect.flip(conn.query(hostileSql))
          assert.strictEqual(error._tag, "ProtocolError", `${error._tag}: ${error.message}`)
          const record = yield* assertClosed(conn, server)
          assert.strictEqual(record.commands.length, 1)
        })
      )
    }

    it.effect(
      "memory stays bounded over 100 malformed answers",
      () =>
        Effect.gen(function* () {
          const rounds = 100
          let n = 0
          const server = yield* malformedServer((packet) => cases[n % cases.length]![1](packet))
          const rssBefore = process.memoryUsage().rss
          for (; n < rounds; n++) {
            const error = yield* Effect.scoped(
              Effect.flatMap(
                connect(optionsFor(server, user, password, { ...plain, maxPacketSize: 64 * 1024 })),
                (conn) => Effect.flip(conn.query(hostileSql))
              )
            )
            assert.strictEqual(tagOf(error), "ProtocolError")
          }
          const grown = process.memoryUsage().rss - rssBefore
          assert.isBelow(grown, 128 * 1024 * 1024, `rss grew by ${grown} bytes`)
          assert.strictEqual((yield* server.settled).length, rounds)
        }),
      30_000
    )
  })

  describe("8. compression lies and a decompression bomb", () => {
    /** A compressed frame of `inner` (MySQL packets), its header announcing `claimed` bytes. */
    const compressedFrame = (body: Uint8Array, claimed: number) => {
      const out = new Uint8Array(COMPRESSED_HEADER_LENGTH + body.length)
      writeHeader(out, 0, { compressedLength: body.length, sequenceId: 1, uncompressedLength: claimed })
      out.set(body, COMPRESSED_HEADER_LENGTH)
      return out
    }

    const okFramed = frame(Result.getOrThrow(OkPacket.encode(makeOkPacket())), 1)
    const deflated = new Uint8Array(Zlib.deflateSync(okFramed))
    // 64 MiB of zeros deflate to about 64 KiB: a ratio of 1000 to 1.
    const bomb = new Uint8Array(Zlib.deflateSync(new Uint8Array(64 * 1024 * 1024)))

    const lies: ReadonlyArray<readonly [string, Uint8Array]> = [
      ["claims fewer bytes than it inflates to", compressedFrame(deflated, okFramed.length - 3)],
      ["claims more bytes than it inflates to", compressedFrame(deflated, okFramed.length + 10)],
      ["is not zlib at all", compressedFrame(utf8("definitely not a zlib stream"), 200)],
      ["a bomb: 64 KiB that inflate to 64 MiB, claiming 16 MiB", compressedFrame(bomb, 0xffffff)],
      ["a bomb claiming 1 KiB", compressedFrame(bomb, 1024)]
    ]

    for (const [name, wire] of lies) {
      it.effect(`a compressed answer that ${name}: ProtocolError, bounded memory`, () =>
        Effect.gen(function* () {
          const server = yield* FakeServer.start({
            accounts,
            cachedUsers: [user],
            compression: ["zlib"],
            hooks: {
              onCommand: (command, session) =>
                command._tag === "ComQuery" && command.query === "SELECT 1"
                  ? Effect.as(session.sendWire(wire), true)
                  : Effect.succeed(false)
            }
          })
          const conn = yield* connect(
            optionsFor(server, user, password, { ...plain, compression: { algorithms: ["zlib"] } })
          )
          assert.strictEqual(conn.info.compression?.algorithm, "zlib")
          const before = process.memoryUsage().rss
          const error = yield* Effect.flip(conn.query("SELECT 1"))
          assert.strictEqual(error._tag, "ProtocolError", `${error._tag}: ${error.message}`)
          assert.isBelow(process.memoryUsage().rss - before, 48 * 1024 * 1024)
          const record = yield* assertClosed(conn, server)
          assert.strictEqual(record.compression, "zlib")
        })
      )
    }
  })

  describe("9. a server that stops or leaves", () => {
    it.effect("stops sending in the middle of a result set: TimeoutError within the read deadline", () =>
      Effect.gen(function* () {
        const server = yield* malformedServer((p) => (p.sequenceId === 4 ? { _tag: "Stall" } : undefined))
        const conn = yield* connect(optionsFor(server, user, password, { ...plain, readTimeout: "300 millis" }))
        const started = Date.now()
        const error = yield* Effect.flip(conn.query(hostileSql))
        const elapsed = Date.now() - started
        assert.strictEqual(error._tag, "TimeoutError")
        if (error._tag === "TimeoutError") assert.strictEqual(error.operation, "read")
        assert.isAtLeast(elapsed, 250)
        assert.isBelow(elapsed, 1_500)
        yield* assertClosed(conn, server)
      })
    )

    it.effect("a stream whose server stops: TimeoutError from the stream, rows before it delivered", () =>
      Effect.gen(function* () {
        const server = yield* malformedServer((p) => (p.sequenceId === 4 ? { _tag: "Stall" } : undefined))
        const conn = yield* connect(optionsFor(server, user, password, { ...plain, readTimeout: "300 millis" }))
        const seen: Array<unknown> = []
        const error = yield* Effect.flip(
          Stream.runForEach(conn.stream(hostileSql), (row) => Effect.sync(() => seen.push(row)))
        )
        assert.strictEqual(error._tag, "TimeoutError")
        assert.deepStrictEqual(seen, [{ s: "first" }])
        yield* assertClosed(conn, server)
      })
    )

    it.effect("closes mid-handshake (instead of the final OK): TransportError", () =>
      Effect.gen(function* () {
        const server = yield* FakeServer.start({
          accounts,
          cachedUsers: [user],
          hooks: { onSend: (p) => (p.phase === "auth" ? { _tag: "Close" } : { _tag: "Send" }) }
        })
        const error = yield* refused(optionsFor(server, user, password, plain))
        assert.strictEqual(error._tag, "TransportError")
        const record = only(yield* server.settled)
        assert.strictEqual(record.handshakeResponse?.username, user)
        assert.isFalse(record.authenticated)
      })
    )

    it.effect("closes mid-row: TransportError", () =>
      Effect.gen(function* () {
        const server = yield* malformedServer((p) =>
          p.sequenceId === 3 ? replace(p.framed.subarray(0, 6)) : p.sequenceId === 4 ? { _tag: "Close" } : undefined
        )
        const conn = yield* connect(optionsFor(server, user, password, { ...plain, readTimeout: "5 seconds" }))
        const error = yield* Effect.flip(conn.query(hostileSql))
        assert.strictEqual(error._tag, "TransportError")
        if (error._tag === "TransportError") assert.strictEqual(error.reason, "closed-by-peer")
        yield* assertClosed(conn, server)
      })
    )
  })

  describe("10. certificate pinning", () => {
    it.effect("a valid chain whose fingerprint is not the pinned one: refused before the login", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki), cachedUsers: [user] })
        // The fingerprint of another certificate signed by the same CA.
        const other = yield* fingerprintOf(pki.servers.wrongName.cert.pem)
        const error = yield* refused(
          optionsFor(server, user, password, {
            ssl: { mode: "verify-identity", ca: pki.ca.pem, fingerprints: [other] }
          })
        )
        assert.strictEqual(error._tag, "TlsError")
        assert.include(error.message, "fingerprint")
        const record = only(yield* server.settled)
        // The SSL Request and nothing after it: the login never went into the tunnel.
        assert.isDefined(record.sslRequest)
        assert.strictEqual(record.received.length, 1)
        sentNoCredentials(record)
      })
    )

    it.effect("the pinned fingerprint: accepted", () =>
      Effect.gen(function* () {
        const pki = yield* Pki
        const server = yield* FakeServer.start({ accounts, tls: tlsOf(pki), cachedUsers: [user] })
        const pinned = yield* fingerprintOf(pki.servers.good.cert.pem)
        const conn = yield* connect(
          optionsFor(server, user, password, {
            ssl: { mode: "verify-identity", ca: pki.ca.pem, fingerprints: [pinned] }
          })
        )
        assert.strictEqual(conn.info.tls?.verification.fingerprint, true)
        assert.strictEqual(server.connections[0]!.handshakeResponse?.username, user)
      })
    )
  })
})
