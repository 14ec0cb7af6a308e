import * as Net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as FaultProxy from "../src/FaultProxy.ts"

/** An echo server on 127.0.0.1 for the proxy to stand in front of. */
const echoServer = Effect.acquireRelease(
  Effect.callback<Net.Server>((resume) => {
    const server = Net.createServer((socket) => {
      socket.on("error", () => {})
      socket.pipe(socket)
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) =>
    Effect.callback<void>((resume) => {
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map((server) => ({ server, port: (server.address() as Net.AddressInfo).port })))

interface Client {
  readonly socket: Net.Socket
  readonly received: () => string
  readonly closed: () => boolean
}

const client = (port: number) =>
  Effect.acquireRelease(
    Effect.callback<Client>((resume) => {
      let text = ""
      let isClosed = false
      const socket = Net.connect({ host: "127.0.0.1", port }, () =>
        resume(Effect.succeed({ socket, received: () => text, closed: () => isClosed }))
      )
      socket.setEncoding("utf8")
      socket.on("data", (chunk: string) => {
        text += chunk
      })
      socket.on("error", () => {})
      socket.on("close", () => {
        isClosed = true
      })
    }),
    ({ socket }) => Effect.sync(() => socket.destroy())
  )

const waitUntil = (condition: () => boolean) =>
  Effect.gen(function* () {
    while (!condition()) yield* Effect.sleep("10 millis")
  }).pipe(Effect.timeout("5 seconds"))

describe("FaultProxy", () => {
  it.live("forwards in both directions", () =>
    Effect.gen(function* () {
      const echo = yield* echoServer
      const proxy = yield* FaultProxy.start({ target: { host: "127.0.0.1", port: echo.port } })
      const c = yield* client(proxy.port)
      c.socket.write("ping")
      yield* waitUntil(() => c.received() === "ping")
      assert.strictEqual(yield* proxy.accepted, 1)
    }).pipe(Effect.scoped)
  )

  it.live("black-holes without closing, and forwards again afterwards", () =>
    Effect.gen(function* () {
      const echo = yield* echoServer
      const proxy = yield* FaultProxy.start({ target: { host: "127.0.0.1", port: echo.port } })
      const c = yield* client(proxy.port)
      c.socket.write("a")
      yield* waitUntil(() => c.received() === "a")
      yield* proxy.setMode(FaultProxy.blackhole)
      c.socket.write("b")
      yield* Effect.sleep("300 millis")
      assert.strictEqual(c.received(), "a")
      assert.isFalse(c.closed())
      yield* proxy.setMode(FaultProxy.forward)
      c.socket.write("c")
      yield* waitUntil(() => c.received().endsWith("c"))
      assert.isFalse(c.closed())
    }).pipe(Effect.scoped)
  )

  it.live("delays each chunk", () =>
    Effect.gen(function* () {
      const echo = yield* echoServer
      const proxy = yield* FaultProxy.start({ target: { host: "127.0.0.1", port: echo.port } })
      yield* proxy.setMode(FaultProxy.delay("150 millis"))
      const c = yield* client(proxy.port)
      const started = Date.now()
      c.socket.write("slow")
      yield* waitUntil(() => c.received() === "slow")
      // Both directions are delayed.
      assert.isAtLeast(Date.now() - started, 250)
    }).pipe(Effect.scoped)
  )

  it.live("cuts a connection after an exact number of bytes in one direction", () =>
    Effect.gen(function* () {
      let arrived = ""
      const sink = yield* Effect.acquireRelease(
        Effect.callback<Net.Server>((resume) => {
          const server = Net.createServer((socket) => {
            socket.setEncoding("utf8")
            socket.on("data", (chunk: string) => {
              arrived += chunk
            })
            socket.on("error", () => {})
          })
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) =>
          Effect.callback<void>((resume) => {
            server.close(() => resume(Effect.void))
          })
      )
      const proxy = yield* FaultProxy.start({
        target: { host: "127.0.0.1", port: (sink.address() as Net.AddressInfo).port },
        mode: FaultProxy.cutAfter({ toServer: 5 })
      })
      const c = yield* client(proxy.port)
      c.socket.write("abc")
      yield* waitUntil(() => arrived === "abc")
      c.socket.write("defgh")
      yield* waitUntil(c.closed)
      // The bytes up to the limit went through, the rest did not.
      yield* waitUntil(() => arrived === "abcde")
      yield* Effect.sleep("50 millis")
      assert.strictEqual(arrived, "abcde")
    }).pipe(Effect.scoped)
  )

  it.live("cuts open connections", () =>
    Effect.gen(function* () {
      const echo = yield* echoServer
      const proxy = yield* FaultProxy.start({ target: { host: "127.0.0.1", port: echo.port } })
      const c = yield* client(proxy.port)
      c.socket.write("x")
      yield* waitUntil(() => c.received() === "x")
      yield* proxy.cut
      yield* waitUntil(c.closed)
    }).pipe(Effect.scoped)
  )
})
