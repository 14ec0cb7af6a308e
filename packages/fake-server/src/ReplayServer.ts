/**
 * A raw replay server on 127.0.0.1: plays a transcript's server turns (as recorded, or mutated) to
 * whoever connects, in writes cut at seeded random points. It does not parse what the client
 * sends: before each server turn it waits for about as many bytes as the recorded client turn
 * had, and gives up on a client that says nothing.
 *
 * - a client turn is over once as many bytes as recorded arrived, or the client paused for
 *   `quietMillis` after sending something (a mutated answer can change what the client writes);
 * - a client that sends nothing for `idleMillis` while the server waits on it (it is itself
 *   waiting for bytes a truncated turn never had) gets the connection closed, so every case ends;
 * - after the last turn the server waits for the client to leave (COM_QUIT) as long as that.
 *
 * `start` is scoped: closing the scope closes the server and its connections.
 */
import * as Net from "node:net"
import { type HarnessError, listenOnLoopback } from "@effect-mysql/testing"
import { Effect, type Scope } from "effect"
import { chunks, type Plan, Rng } from "./Mutation.ts"

export interface ReplayOptions {
  /** How long a silent client is waited for before the server closes; default 150 ms. */
  readonly idleMillis?: number
  /** A pause that ends a client turn shorter than recorded; default 15 ms. */
  readonly quietMillis?: number
}

export interface ReplayServer {
  readonly host: string
  readonly port: number
  /** Connections accepted so far. */
  readonly accepted: () => number
}

/** What one connection's script waits for. */
class Inbox {
  private received = 0
  private lastAt = 0
  private closed = false
  private wake: (() => void) | undefined

  constructor(socket: Net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.received += chunk.length
      this.lastAt = Date.now()
      this.notify()
    })
    socket.on("close", () => {
      this.closed = true
      this.notify()
    })
  }

  private notify() {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /**
   * Resolves true once `expected` more bytes arrived (or fewer followed by a pause), false when
   * the client left or stayed silent.
   */
  waitFor(expected: number, idleMillis: number, quietMillis: number): Promise<boolean> {
    const start = this.received
    const since = Date.now()
    return new Promise<boolean>((resolve) => {
      const check = () => {
        clearTimeout(timer)
        if (this.closed) return resolve(false)
        const got = this.received - start
        if (got >= expected) return resolve(true)
        const now = Date.now()
        if (got > 0 && now - this.lastAt >= quietMillis) return resolve(true)
        if (got === 0 && now - since >= idleMillis) return resolve(false)
        this.wake = check
        timer = setTimeout(check, got > 0 ? quietMillis : idleMillis)
      }
      let timer: ReturnType<typeof setTimeout> | undefined
      check()
    })
  }

  get isClosed(): boolean {
    return this.closed
  }
}

const write = (socket: Net.Socket, bytes: Uint8Array) =>
  new Promise<boolean>((resolve) => {
    if (socket.destroyed) return resolve(false)
    socket.write(bytes, (error) => resolve(error == null))
  })

/** Lets the event loop run, so that consecutive pieces reach the client as separate reads. */
const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

const play = async (socket: Net.Socket, plan: Plan, idleMillis: number, quietMillis: number) => {
  const inbox = new Inbox(socket)
  const rng = new Rng(plan.chunkSeed)
  for (const turn of plan.turns) {
    if (turn.from === "client") {
      if (!(await inbox.waitFor(turn.bytes.length, idleMillis, quietMillis))) return
      continue
    }
    const pieces = chunks(turn.bytes, rng)
    for (let i = 0; i < pieces.length; i++) {
      if (!(await write(socket, pieces[i]!))) return
      if (i < pieces.length - 1) await yieldLoop()
    }
  }
  // The script is over: the client's COM_QUIT (or whatever more it sends) is awaited, then the end.
  for (let i = 0; i < 64 && !inbox.isClosed; i++) {
    if (!(await inbox.waitFor(1, idleMillis, quietMillis))) return
  }
}

/** Starts a server that plays `plan` to every connection, for the life of the scope. */
export const start = (
  plan: Plan,
  options: ReplayOptions = {}
): Effect.Effect<ReplayServer, HarnessError, Scope.Scope> =>
  Effect.gen(function* () {
    const idleMillis = options.idleMillis ?? 150
    const quietMillis = options.quietMillis ?? 15
    const sockets = new Set<Net.Socket>()
    let accepted = 0
    const server = Net.createServer((socket) => {
      accepted++
      sockets.add(socket)
      socket.setNoDelay(true)
      socket.on("error", () => socket.destroy())
      socket.on("close", () => sockets.delete(socket))
      play(socket, plan, idleMillis, quietMillis).finally(() => socket.destroy())
    })
    const port = yield* listenOnLoopback(server, sockets, "the replay server")
    return { host: "127.0.0.1", port, accepted: () => accepted } satisfies ReplayServer
  })
