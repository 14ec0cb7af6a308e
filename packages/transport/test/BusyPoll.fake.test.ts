// Low-latency mode: after a write, a read that has to wait polls the event loop for the reply,
// for a bounded time, then waits asleep; bad bounds, and Deno, which cannot poll, are refused.
import * as Net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Fiber } from "effect"
import { BusyPoll } from "../src/internal/BusyPoll.ts"
import { StreamChannel } from "../src/internal/StreamChannel.ts"
import * as RuntimeTransport from "../src/RuntimeTransport.ts"
import { Transport } from "../src/Transport.ts"
import { echoes, localhost } from "./support/Fixture.ts"

const bytes = (text: string) => new TextEncoder().encode(text)

/** Lets the event loop run until `done` holds. */
const until = (done: () => boolean) =>
  Effect.promise(async () => {
    while (!done()) await new Promise((resolve) => setTimeout(resolve, 1))
  })

/** A server in this process: `onSocket` gets each connection; all are dropped at the end. */
const serve = (onSocket: (socket: Net.Socket) => void) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly port: number; readonly server: Net.Server; readonly sockets: Set<Net.Socket> }>(
      (resume) => {
        const sockets = new Set<Net.Socket>()
        const server = Net.createServer((socket) => {
          sockets.add(socket)
          onSocket(socket)
        })
        server.listen(0, "127.0.0.1", () =>
          resume(Effect.succeed({ port: (server.address() as Net.AddressInfo).port, server, sockets }))
        )
      }
    ),
    ({ server, sockets }) =>
      Effect.promise(() => {
        for (const socket of sockets) socket.destroy()
        return new Promise((resolve) => server.close(resolve))
      })
  )

/** A server that holds each connection's bytes until the test answers. */
const quietServer = Effect.gen(function* () {
  let accepted: (socket: Net.Socket) => void = () => {}
  const peer = new Promise<Net.Socket>((resolve) => {
    accepted = resolve
  })
  const { port } = yield* serve((socket) => accepted(socket))
  return { port, peer }
})

const echoServer = serve((socket) => socket.on("data", (chunk) => socket.write(chunk)))

/** A channel over a socket to `quietServer`, polling as `poll` says, and the server's end of it. */
const channelTo = (poll: BusyPoll) =>
  Effect.gen(function* () {
    const { port, peer } = yield* quietServer
    const socket = yield* Effect.callback<Net.Socket>((resume) => {
      const socket = Net.connect(port, "127.0.0.1", () => resume(Effect.succeed(socket)))
    })
    const channel = new StreamChannel(socket, { limit: 64 * 1024, tls: false, busyPoll: poll })
    yield* Effect.addFinalizer(() => channel.abort)
    return { channel, peer: yield* Effect.promise(() => peer) }
  })

describe("BusyPoll", () => {
  it.live("polls only for a reply that is due: after a write, until bytes arrive", () =>
    Effect.gen(function* () {
      const poll = new BusyPoll(10)
      poll.waiting()
      assert.isFalse(poll.polling, "nothing was written: nothing is due")
      poll.wrote()
      poll.waiting()
      assert.isTrue(poll.polling)
      poll.received()
      yield* until(() => !poll.polling)
      const turns = poll.turns
      assert.isAbove(turns, 0)
      poll.waiting()
      assert.isFalse(poll.polling, "the reply came: a later wait is an idle connection's")
      assert.strictEqual(poll.turns, turns)
    })
  )

  it.live("stops polling when the bound passes without a reply, and does not poll again until a write", () =>
    Effect.gen(function* () {
      const poll = new BusyPoll(2)
      poll.wrote()
      poll.waiting()
      yield* until(() => !poll.polling)
      const turns = poll.turns
      assert.isAbove(turns, 0)
      poll.waiting()
      assert.isFalse(poll.polling)
      yield* Effect.sleep("5 millis")
      assert.strictEqual(poll.turns, turns)
      poll.wrote()
      poll.waiting()
      assert.isTrue(poll.polling)
    })
  )

  it.live("a channel polls after its write, then waits asleep for a reply later than the bound", () =>
    Effect.gen(function* () {
      const poll = new BusyPoll(2)
      const { channel, peer } = yield* channelTo(poll)
      yield* channel.write(bytes("ping"))
      const reading = yield* Effect.forkChild(channel.read)
      yield* until(() => poll.turns > 0 && !poll.polling)
      assert.isUndefined(reading.pollUnsafe(), "no reply was sent")
      const turns = poll.turns
      peer.write(bytes("late"))
      assert.deepStrictEqual(yield* Fiber.join(reading), bytes("late"))
      assert.strictEqual(poll.turns, turns, "the bound had passed: the reply was awaited asleep")
    }).pipe(Effect.scoped)
  )

  it.live("a channel stops polling when the reply arrives, and its idle reads do not poll", () =>
    Effect.gen(function* () {
      // A bound no test waits out: only the reply can end the polling.
      const poll = new BusyPoll(60_000)
      const { channel, peer } = yield* channelTo(poll)
      yield* channel.write(bytes("ping"))
      peer.write(bytes("pong"))
      assert.deepStrictEqual(yield* channel.read, bytes("pong"))
      yield* Effect.sleep("10 millis")
      assert.isFalse(poll.polling)
      const turns = poll.turns
      const idle = yield* Effect.forkChild(channel.read)
      yield* Effect.sleep("10 millis")
      assert.strictEqual(poll.turns, turns, "nothing is due: the idle read sleeps")
      yield* Fiber.interrupt(idle)
    }).pipe(Effect.scoped)
  )
})

describe("busyPoll option", () => {
  it.live("refuses a bound that is not a duration, negative, or longer than 10 ms", () =>
    Effect.gen(function* () {
      const transport = yield* Transport
      for (const busyPoll of ["soon", "-1 millis", "11 millis", Infinity] as ReadonlyArray<Duration.Input>) {
        const error = yield* Effect.flip(transport.connect(localhost(9), { busyPoll }))
        assert.strictEqual(error._tag, "TransportError")
        assert.strictEqual(error._tag === "TransportError" ? error.reason : undefined, "invalid-option")
        assert.match(error.message, /^busyPoll: /)
      }
    }).pipe(Effect.scoped, Effect.provide(RuntimeTransport.layer))
  )

  it.live("exchanges bytes with it on, on Node and Bun; Deno, which cannot poll, refuses it", () =>
    Effect.gen(function* () {
      const { port } = yield* echoServer
      const connect = (yield* Transport).connect(localhost(port), { busyPoll: "200 micros" })
      if (RuntimeTransport.runtime === "deno") {
        const error = yield* Effect.flip(connect)
        assert.strictEqual(error._tag === "TransportError" ? error.reason : undefined, "invalid-option")
        assert.match(error.message, /^busyPoll cannot be honoured on Deno/)
        return
      }
      assert.strictEqual(yield* echoes(yield* connect), "ping")
      // Zero is no polling, on every runtime.
      assert.strictEqual(yield* echoes(yield* (yield* Transport).connect(localhost(port), { busyPoll: 0 })), "ping")
    }).pipe(Effect.scoped, Effect.provide(RuntimeTransport.layer))
  )
})
