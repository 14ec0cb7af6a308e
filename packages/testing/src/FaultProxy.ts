/**
 * A TCP proxy on 127.0.0.1 that misbehaves on command, for tests of deadlines and liveness:
 * `forward` passes bytes through, `blackhole` stops passing them in both directions while keeping
 * every socket open (what a firewall that lost its connection state does), `delay` holds each
 * chunk back for a while, `cutAfter` drops a connection once it has carried a given number of bytes
 * one way (a cut at an exact place in the protocol), and `cut` drops every open connection at once. The mode applies to open
 * and new connections alike. A scoped resource: closing the scope closes the proxy and its sockets.
 */
import * as Net from "node:net"
import { Duration, Effect, type Scope } from "effect"
import type { HarnessError } from "./HarnessError.ts"
import { listenOnLoopback } from "./Loopback.ts"

export type FaultMode =
  | { readonly _tag: "Forward" }
  | { readonly _tag: "Blackhole" }
  | { readonly _tag: "Delay"; readonly delay: Duration.Input }
  /**
   * Forwards until a connection has carried this many bytes in one direction, passes the bytes up
   * to that point, then drops the connection on both sides: a cut at an exact place in the
   * protocol (mid TLS handshake, mid login, mid packet).
   */
  | { readonly _tag: "CutAfter"; readonly toServer?: number; readonly toClient?: number }

export const forward: FaultMode = { _tag: "Forward" }
export const blackhole: FaultMode = { _tag: "Blackhole" }
export const delay = (delay: Duration.Input): FaultMode => ({ _tag: "Delay", delay })
export const cutAfter = (limits: { readonly toServer?: number; readonly toClient?: number }): FaultMode => ({
  _tag: "CutAfter",
  ...limits
})

export interface FaultProxy {
  readonly host: string
  readonly port: number
  readonly setMode: (mode: FaultMode) => Effect.Effect<void>
  /** Destroys every open connection, on both sides. */
  readonly cut: Effect.Effect<void>
  /** Connections accepted so far. */
  readonly accepted: Effect.Effect<number>
}

export interface FaultProxyOptions {
  readonly target: { readonly host: string; readonly port: number }
  readonly mode?: FaultMode
}

/** One direction of one connection: what arrives on `from` goes to `to`, as the mode says. */
const pipe = (from: Net.Socket, to: Net.Socket, mode: () => FaultMode, direction: "toServer" | "toClient") => {
  let carried = 0
  from.on("data", (chunk: Buffer) => {
    const current = mode()
    const limit = current._tag === "CutAfter" ? current[direction] : undefined
    if (limit !== undefined && carried + chunk.length >= limit) {
      const last = chunk.subarray(0, Math.max(0, limit - carried))
      carried = limit
      from.pause()
      to.write(last, () => {
        from.destroy()
        to.destroy()
      })
      return
    }
    carried += chunk.length
    if (current._tag === "Forward" || current._tag === "CutAfter") {
      if (!to.write(chunk)) {
        from.pause()
        to.once("drain", () => {
          if (mode()._tag !== "Blackhole") from.resume()
        })
      }
    } else if (current._tag === "Delay") {
      setTimeout(() => to.write(chunk), Duration.toMillis(current.delay))
    }
    // Blackholed: the chunk is lost, as a dropped packet would be.
  })
  from.on("end", () => {
    if (mode()._tag !== "Blackhole") to.end()
  })
}

export const start = (options: FaultProxyOptions): Effect.Effect<FaultProxy, HarnessError, Scope.Scope> =>
  Effect.gen(function* () {
    let mode = options.mode ?? forward
    let accepted = 0
    const sockets = new Set<Net.Socket>()
    const track = (socket: Net.Socket) => {
      sockets.add(socket)
      socket.on("error", () => socket.destroy())
      socket.on("close", () => sockets.delete(socket))
    }
    const applyMode = () => {
      for (const socket of sockets) {
        if (mode._tag === "Blackhole") socket.pause()
        else socket.resume()
      }
    }

    const server = Net.createServer((client) => {
      accepted++
      track(client)
      client.pause()
      const upstream = Net.connect({ host: options.target.host, port: options.target.port })
      track(upstream)
      upstream.pause()
      upstream.once("connect", () => {
        pipe(client, upstream, () => mode, "toServer")
        pipe(upstream, client, () => mode, "toClient")
        if (mode._tag !== "Blackhole") {
          client.resume()
          upstream.resume()
        }
      })
      upstream.on("close", () => client.destroy())
      client.on("close", () => upstream.destroy())
    })

    const port = yield* listenOnLoopback(server, sockets, "the fault proxy")

    return {
      host: "127.0.0.1",
      port,
      setMode: (next) =>
        Effect.sync(() => {
          mode = next
          applyMode()
        }),
      cut: Effect.sync(() => {
        for (const socket of sockets) socket.destroy()
      }),
      accepted: Effect.sync(() => accepted)
    } satisfies FaultProxy
  })
