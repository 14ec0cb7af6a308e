// Plain connections, deadlines, a black-holed network, and bounded memory under a slow reader.
import * as Net from "node:net"
import { assert, layer } from "@effect/vitest"
import { FaultProxy, Process } from "@effect-mysql/testing"
import { type Duration, Effect, Fiber, Result } from "effect"
import * as Endpoint from "../src/Endpoint.ts"
import { runtime } from "../src/RuntimeTransport.ts"
import * as SslPolicy from "../src/SslPolicy.ts"
import { type Connection, Transport } from "../src/Transport.ts"
import { echoes, Fixture, layer as fixture, localhost, sourceBytes } from "./support/Fixture.ts"

const tagOf = (error: { readonly _tag: string; readonly reason?: string; readonly operation?: string }) =>
  `${error._tag}:${error.reason ?? error.operation}`

/** Reads and counts until the end of the stream, checking the source's pattern on the way. */
const drain = (connection: Connection) =>
  Effect.gen(function* () {
    let total = 0
    while (true) {
      const result = yield* Effect.result(connection.read({ timeout: "10 seconds" }))
      if (Result.isFailure(result)) {
        if (result.failure._tag === "TransportError" && result.failure.reason === "closed-by-peer") return total
        return yield* result.failure
      }
      const chunk = result.success
      if (chunk[0] !== (total & 0xff)) return yield* Effect.die(`byte ${total} is ${chunk[0]}`)
      total += chunk.length
    }
  })

layer(fixture, { timeout: 120_000, excludeTestServices: true })("liveness", (it) => {
  it.effect("exchanges bytes over TCP and reports the addresses", () =>
    Effect.gen(function* () {
      const { servers } = yield* Fixture
      const connection = yield* (yield* Transport).connect(localhost(servers.ports.plain))
      assert.strictEqual(yield* echoes(connection), "ping")
      const info = yield* connection.info
      assert.strictEqual(info.remoteAddress, "127.0.0.1")
      assert.strictEqual(info.remotePort, servers.ports.plain)
      assert.strictEqual(info.localAddress, "127.0.0.1")
      assert.isNumber(info.localPort)
      assert.isUndefined(info.tls)
    }).pipe(Effect.scoped)
  )

  it.effect("exchanges bytes over a Unix socket", () =>
    Effect.gen(function* () {
      const { servers } = yield* Fixture
      const connection = yield* (yield* Transport).connect(Endpoint.unix(servers.unixPath))
      assert.strictEqual(yield* echoes(connection), "ping")
    }).pipe(Effect.scoped)
  )

  it.effect("fails to connect where nothing listens, and to a missing socket file", () =>
    Effect.gen(function* () {
      const transport = yield* Transport
      const closedPort = yield* Effect.callback<number>((resume) => {
        const server = Net.createServer().listen(0, "127.0.0.1", () => {
          const { port } = server.address() as Net.AddressInfo
          server.close(() => resume(Effect.succeed(port)))
        })
      })
      const refused = yield* Effect.flip(transport.connect(localhost(closedPort)))
      assert.strictEqual(tagOf(refused), "TransportError:connect-failed")
      assert.match(refused.message, new RegExp(`127\\.0\\.0\\.1:${closedPort}`))
      const missing = yield* Effect.flip(transport.connect(Endpoint.unix("/nonexistent/mysqld.sock")))
      assert.strictEqual(tagOf(missing), "TransportError:connect-failed")
    }).pipe(Effect.scoped)
  )

  it.effect("times out connecting to a port that never answers", () =>
    Effect.gen(function* () {
      const { port } = yield* Process.unansweredPort
      const started = Date.now()
      const error = yield* Effect.flip((yield* Transport).connect(localhost(port), { connectTimeout: "400 millis" }))
      assert.strictEqual(tagOf(error), "TimeoutError:connect")
      assert.isBelow(Date.now() - started, 3000)
    }).pipe(Effect.scoped)
  )

  it.effect("counts the TLS handshake against the connect timeout", () =>
    Effect.gen(function* () {
      const { pki, servers } = yield* Fixture
      const proxy = yield* FaultProxy.start({ target: { host: "127.0.0.1", port: servers.ports.good } })
      const endpoint = localhost(proxy.port)
      const connection = yield* (yield* Transport).connect(endpoint, { connectTimeout: "500 millis" })
      yield* proxy.setMode(FaultProxy.blackhole)
      const policy = yield* SslPolicy.make({ mode: "verify-identity", ca: pki.ca.pem }, endpoint)
      if (policy.mode === "disabled") return
      const error = yield* Effect.flip(connection.upgradeTls(policy.tls))
      assert.strictEqual(tagOf(error), "TimeoutError:tls-handshake")
      assert.isAtMost(error._tag === "TimeoutError" ? error.timeoutMillis : 0, 500)
    }).pipe(Effect.scoped)
  )

  for (const tls of [false, true]) {
    it.effect(`detects a black-holed ${tls ? "TLS" : "plaintext"} connection by the read deadline`, () =>
      Effect.gen(function* () {
        const { pki, servers } = yield* Fixture
        const target = tls ? servers.ports.good : servers.ports.plain
        const proxy = yield* FaultProxy.start({ target: { host: "127.0.0.1", port: target } })
        const endpoint = localhost(proxy.port)
        const connection = yield* (yield* Transport).connect(endpoint, { readTimeout: "300 millis" })
        if (tls) {
          const policy = yield* SslPolicy.make({ mode: "verify-identity", ca: pki.ca.pem }, endpoint)
          if (policy.mode !== "disabled") yield* connection.upgradeTls(policy.tls)
        }
        assert.strictEqual(yield* echoes(connection), "ping")
        yield* proxy.setMode(FaultProxy.blackhole)
        const started = Date.now()
        const error = yield* Effect.flip(echoes(connection, {}))
        assert.strictEqual(tagOf(error), "TimeoutError:read")
        assert.isBelow(Date.now() - started, 2000)
      }).pipe(Effect.scoped)
    )
  }

  for (const tls of [false, true]) {
    it.effect(
      `times out a ${tls ? "TLS" : "plaintext"} write that the peer never takes, and closes the connection`,
      () =>
        Effect.gen(function* () {
          const { pki, servers } = yield* Fixture
          const proxy = yield* FaultProxy.start({
            target: { host: "127.0.0.1", port: tls ? servers.ports.good : servers.ports.plain }
          })
          const endpoint = localhost(proxy.port)
          const connection = yield* (yield* Transport).connect(endpoint, { writeTimeout: "500 millis" })
          if (tls) {
            const policy = yield* SslPolicy.make({ mode: "verify-identity", ca: pki.ca.pem }, endpoint)
            if (policy.mode !== "disabled") yield* connection.upgradeTls(policy.tls)
          }
          yield* proxy.setMode(FaultProxy.blackhole)
          // One 24 MiB write: more than the kernel buffers on the way can take.
          const error = yield* Effect.flip(connection.write(new Uint8Array(24 * 1024 * 1024)))
          assert.strictEqual(tagOf(error), "TimeoutError:write")
          // Part of the write may be on the wire: the connection cannot be used any more.
          assert.strictEqual(
            tagOf(yield* Effect.flip(connection.read({ timeout: "5 seconds" }))),
            "TransportError:closed"
          )
          assert.strictEqual(tagOf(yield* Effect.flip(connection.write(new Uint8Array(1)))), "TransportError:closed")
        }).pipe(Effect.scoped)
    )
  }

  it.effect("keeps a connect timeout beyond 2^31-1 ms, or an infinite one, from firing at once", () =>
    Effect.gen(function* () {
      const { port } = yield* Process.unansweredPort
      const transport = yield* Transport
      // Acquiring a connection cannot be interrupted; each attempt fails once the port goes away.
      const attempts = yield* Effect.forEach([2 ** 31, Infinity], (connectTimeout) =>
        Effect.forkDetach(Effect.scoped(transport.connect(localhost(port), { connectTimeout })))
      )
      yield* Effect.sleep("1 second")
      for (const attempt of attempts) assert.isUndefined(attempt.pollUnsafe(), "the connect ended early")
    }).pipe(Effect.scoped)
  )

  it.effect("refuses invalid keepalive settings with a typed error, and a delay Deno cannot set", () =>
    Effect.gen(function* () {
      const { servers } = yield* Fixture
      const transport = yield* Transport
      const endpoint = localhost(servers.ports.plain)
      const invalid = [
        "60 seconds",
        { initialDelay: "soon" },
        { initialDelay: "0 seconds" },
        { initialDelay: "10 hours" }
      ] as unknown as ReadonlyArray<{ readonly initialDelay: Duration.Input }>
      for (const keepAlive of invalid) {
        const error = yield* Effect.flip(transport.connect(endpoint, { keepAlive }))
        assert.strictEqual(tagOf(error), "TransportError:invalid-option")
        assert.match(error.message, /^keepAlive/)
      }
      assert.strictEqual(yield* echoes(yield* transport.connect(endpoint, { keepAlive: {} })), "ping")
      const delayed = yield* Effect.result(transport.connect(endpoint, { keepAlive: { initialDelay: "30 seconds" } }))
      if (runtime === "deno") {
        assert.isTrue(Result.isFailure(delayed))
        assert.match(Result.isFailure(delayed) ? delayed.failure.message : "", /cannot be honoured on Deno/)
      } else {
        assert.isTrue(Result.isSuccess(delayed))
      }
    }).pipe(Effect.scoped)
  )

  it.effect("aborts at once a connection whose peer stopped reading, failing the pending write", () =>
    Effect.gen(function* () {
      const { servers } = yield* Fixture
      const proxy = yield* FaultProxy.start({ target: { host: "127.0.0.1", port: servers.ports.plain } })
      const connection = yield* (yield* Transport).connect(localhost(proxy.port))
      yield* proxy.setMode(FaultProxy.blackhole)
      const block = new Uint8Array(1024 * 1024)
      const writing = yield* Effect.forkChild(
        Effect.gen(function* () {
          for (let i = 0; i < 256; i++) yield* connection.write(block)
        })
      )
      yield* Effect.sleep("300 millis")
      assert.isUndefined(writing.pollUnsafe(), "the writes should be stuck on the full socket")
      const started = Date.now()
      yield* connection.abort
      const stuck = yield* Effect.flip(Fiber.join(writing))
      assert.isBelow(Date.now() - started, 500)
      assert.strictEqual(stuck._tag, "TransportError")
      assert.strictEqual(tagOf(yield* Effect.flip(connection.read())), "TransportError:closed")
    }).pipe(Effect.scoped)
  )

  it.effect("reports a connection cut by the network and refuses use after close", () =>
    Effect.gen(function* () {
      const { servers } = yield* Fixture
      const proxy = yield* FaultProxy.start({ target: { host: "127.0.0.1", port: servers.ports.plain } })
      const connection = yield* (yield* Transport).connect(localhost(proxy.port))
      assert.strictEqual(yield* echoes(connection), "ping")
      yield* proxy.cut
      const cut = yield* Effect.flip(connection.read({ timeout: "5 seconds" }))
      assert.include(["TransportError:closed-by-peer", "TransportError:io-error"], tagOf(cut))
      yield* connection.close
      assert.strictEqual(tagOf(yield* Effect.flip(connection.read())), "TransportError:closed")
      assert.strictEqual(tagOf(yield* Effect.flip(connection.write(new Uint8Array(1)))), "TransportError:closed")
    }).pipe(Effect.scoped)
  )

  // Bun's sockets deliver up to 512 KiB at a time; its layer cuts them into 64 KiB copies.
  for (const tls of [undefined, "required"] as const) {
    it.effect(`hands out every byte in order, in reads of at most 64 KiB (${tls ?? "plaintext"})`, () =>
      Effect.gen(function* () {
        const { pki, servers } = yield* Fixture
        const endpoint = localhost(servers.ports[tls === undefined ? "plainSource" : "tlsSource"])
        const connection = yield* (yield* Transport).connect(endpoint)
        if (tls !== undefined) {
          const policy = yield* SslPolicy.make({ mode: tls, ca: pki.ca.pem }, endpoint)
          if (policy.mode !== "disabled") yield* connection.upgradeTls(policy.tls)
        }
        let total = 0
        let largest = 0
        while (true) {
          const result = yield* Effect.result(connection.read({ timeout: "10 seconds" }))
          if (Result.isFailure(result)) {
            assert.strictEqual(tagOf(result.failure), "TransportError:closed-by-peer")
            break
          }
          const chunk = result.success
          largest = Math.max(largest, chunk.length)
          for (let i = 0; i < chunk.length; i++) {
            if (chunk[i] !== ((total + i) & 0xff)) assert.fail(`byte ${total + i} is ${chunk[i]}`)
          }
          total += chunk.length
          // A slow reader now and then, so that the kernel's buffers fill and reads come large.
          if ((total & 0xffffff) < chunk.length) yield* Effect.sleep("20 millis")
        }
        assert.strictEqual(total, sourceBytes)
        assert.isAtMost(largest, 64 * 1024, `${runtime} handed out a read of ${largest} bytes`)
      }).pipe(Effect.scoped)
    )
  }

  // On Deno, verify-identity runs on Deno.startTls and required on node:tls over the native socket.
  for (const tls of [undefined, "verify-identity", "required"] as const) {
    it.effect(`keeps memory bounded under a slow reader (${tls ?? "plaintext"})`, () =>
      Effect.gen(function* () {
        const { pki, servers } = yield* Fixture
        const source = tls === undefined ? "plainSource" : "tlsSource"
        const endpoint = localhost(servers.ports[source])
        const connection = yield* (yield* Transport).connect(endpoint, { readBufferSize: 256 * 1024 })
        if (tls !== undefined) {
          const policy = yield* SslPolicy.make({ mode: tls, ca: pki.ca.pem }, endpoint)
          if (policy.mode !== "disabled") yield* connection.upgradeTls(policy.tls)
        }
        const first = yield* connection.read({ timeout: "5 seconds" })
        yield* Effect.sleep("1 second")
        // What the server got rid of while we did not read: kernel buffers on both sides (Linux
        // lets them grow to 32 + 4 MiB by default) plus ours. Reading it all would show 64 MiB.
        const stalled = servers.sentBeforeWaiting(source)
        const total = first.length + (yield* drain(connection))
        assert.strictEqual(total, sourceBytes)
        assert.isAbove(stalled, 0)
        assert.isBelow(stalled, 40 * 1024 * 1024, `${runtime} let the server send ${stalled} bytes unread`)
      }).pipe(Effect.scoped)
    )
  }
})
