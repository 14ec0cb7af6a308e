/**
 * Byte transcripts of real sessions: what the server and the client wrote, turn by turn, as they
 * crossed a recording proxy. A turn is everything one side wrote before the other side wrote
 * again; server turns are what a replay server plays back to a client (see `ReplayServer`), client
 * turns tell it how much to wait for before answering.
 *
 * Turns after the login of a compressed session carry compressed frames (7-byte headers); the
 * others carry plain packets (4-byte headers). Mutators use that to find length fields.
 *
 * Stored as JSON with hex bytes, so fixtures diff and review as text.
 */
import * as Net from "node:net"
import { concatBytes } from "@effect-mysql/protocol"
import { type HarnessError, listenOnLoopback } from "@effect-mysql/testing"
import { Effect, type Scope } from "effect"

export type Side = "server" | "client"

export interface Turn {
  readonly from: Side
  readonly bytes: Uint8Array
  /** Compressed frames (7-byte headers) rather than plain packets (4-byte headers). */
  readonly compressed: boolean
}

export interface Transcript {
  readonly name: string
  readonly description: string
  /** The server's version line, as it greeted. */
  readonly server: string
  readonly turns: ReadonlyArray<Turn>
}

interface TurnJson {
  readonly from: Side
  readonly compressed?: boolean
  readonly hex: string
}

interface TranscriptJson {
  readonly name: string
  readonly description: string
  readonly server: string
  readonly turns: ReadonlyArray<TurnJson>
}

export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

export const fromHex = (hex: string): Uint8Array => {
  const out = new Uint8Array(hex.length >>> 1)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

export const toJson = (transcript: Transcript): string =>
  `${JSON.stringify(
    {
      name: transcript.name,
      description: transcript.description,
      server: transcript.server,
      turns: transcript.turns.map((turn) => ({
        from: turn.from,
        ...(turn.compressed ? { compressed: true } : {}),
        hex: toHex(turn.bytes)
      }))
    } satisfies TranscriptJson,
    null,
    1
  )}\n`

export const fromJson = (text: string): Transcript => {
  const json = JSON.parse(text) as TranscriptJson
  return {
    name: json.name,
    description: json.description,
    server: json.server,
    turns: json.turns.map((turn) => ({
      from: turn.from,
      compressed: turn.compressed === true,
      bytes: fromHex(turn.hex)
    }))
  }
}

/** The offsets of the headers of the plain packets (or compressed frames) of `bytes`, in order. */
export const frameOffsets = (bytes: Uint8Array, compressed: boolean): Array<number> => {
  const headerLength = compressed ? 7 : 4
  const offsets: Array<number> = []
  for (let at = 0; at + headerLength <= bytes.length; ) {
    offsets.push(at)
    at += headerLength + (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16))
  }
  return offsets
}

/** Whether a plain server turn ends the connection phase: one of its packets is an OK or an ERR. */
const endsLogin = (bytes: Uint8Array): boolean =>
  frameOffsets(bytes, false).some((at) => bytes[at + 4] === 0x00 || bytes[at + 4] === 0xff)

interface RawTurn {
  readonly from: Side
  readonly chunks: Array<Uint8Array>
}

/** Splits the chunks of one connection into turns, marking those after a compressed login. */
export const toTurns = (chunks: ReadonlyArray<RawTurn>, compression: boolean): Array<Turn> => {
  const turns: Array<Turn> = []
  let loggedIn = false
  for (const raw of chunks) {
    const bytes = concatBytes(raw.chunks)
    turns.push({ from: raw.from, bytes, compressed: compression && loggedIn })
    if (raw.from === "server" && !loggedIn && endsLogin(bytes)) loggedIn = true
  }
  return turns
}

/** A recording proxy: connections through it are recorded turn by turn. */
export interface Recorder {
  readonly host: string
  readonly port: number
  /** The turns of each connection so far, in the order they were accepted. */
  readonly connections: Effect.Effect<ReadonlyArray<ReadonlyArray<RawTurn>>>
}

export type { RawTurn }

/** Starts a recording proxy in front of `target` for the life of the scope. */
export const recorder = (target: {
  readonly host: string
  readonly port: number
}): Effect.Effect<Recorder, HarnessError, Scope.Scope> =>
  Effect.gen(function* () {
    const recorded: Array<Array<RawTurn>> = []
    const sockets = new Set<Net.Socket>()
    const track = (socket: Net.Socket) => {
      sockets.add(socket)
      socket.on("error", () => socket.destroy())
      socket.on("close", () => sockets.delete(socket))
    }
    const server = Net.createServer((client) => {
      const turns: Array<RawTurn> = []
      recorded.push(turns)
      const note = (from: Side, chunk: Uint8Array) => {
        const last = turns.at(-1)
        if (last?.from === from) last.chunks.push(chunk.slice())
        else turns.push({ from, chunks: [chunk.slice()] })
      }
      track(client)
      client.pause()
      const upstream = Net.connect({ host: target.host, port: target.port }, () => client.resume())
      track(upstream)
      client.on("data", (chunk: Buffer) => {
        note("client", chunk)
        upstream.write(chunk)
      })
      upstream.on("data", (chunk: Buffer) => {
        note("server", chunk)
        client.write(chunk)
      })
      client.on("close", () => upstream.destroy())
      upstream.on("close", () => client.destroy())
    })
    const port = yield* listenOnLoopback(server, sockets, "the recording proxy")
    return {
      host: "127.0.0.1",
      port,
      connections: Effect.sync(() => recorded.map((turns) => [...turns]))
    } satisfies Recorder
  })
