/**
 * Bun only: its native `Bun.connect` + `upgradeTLS` against its node:net + node:tls, without
 * Effect in the way, to choose what the Bun layer is built on. Measures 64 MiB read from a local
 * source, plaintext and TLS upgraded in place, and the time to connect and upgrade.
 *
 *   bun --conditions=@effect-mysql/source packages/transport/bench/BunSockets.ts
 */
import * as Net from "node:net"
import * as Tls from "node:tls"
import { TestPki } from "@effect-mysql/testing"
import { Effect } from "effect"
import * as LocalServers from "../test/support/LocalServers.ts"

interface BunSocket {
  write(data: Uint8Array): number
  end(): void
  reload(options: { socket: BunHandlers }): void
  upgradeTLS(options: { tls: { ca: string; serverName?: string }; socket: BunHandlers }): [BunSocket, BunSocket]
}
interface BunHandlers {
  data?(socket: BunSocket, data: Uint8Array): void
  open?(socket: BunSocket): void
  handshake?(socket: BunSocket, success: boolean, error: Error | null): void
  close?(socket: BunSocket): void
  error?(socket: BunSocket, error: Error): void
}
interface BunApi {
  connect(options: { hostname: string; port: number; socket: BunHandlers }): Promise<BunSocket>
}

const bun = (globalThis as unknown as { readonly Bun?: BunApi }).Bun
const size = 64 * 1024 * 1024

/** Resolves when `size` bytes have arrived through `start`'s data callback. */
const timed = (start: (onData: (bytes: number) => void) => Promise<void>) =>
  new Promise<number>((resolve, reject) => {
    const started = performance.now()
    let total = 0
    start((bytes) => {
      total += bytes
      if (total >= size) resolve(size / 1024 / 1024 / ((performance.now() - started) / 1000))
    }).catch(reject)
  })

const nodePlain = (port: number) =>
  timed(async (onData) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    socket.on("data", (chunk: Buffer) => onData(chunk.length))
  })

const nodeTls = (port: number, ca: string) =>
  timed(async (onData) => {
    const raw = Net.connect({ host: "127.0.0.1", port })
    await new Promise((resolve) => raw.once("connect", resolve))
    const tls = Tls.connect({ socket: raw, ca, host: "127.0.0.1" })
    tls.on("data", (chunk: Buffer) => onData(chunk.length))
  })

const nativePlain = (api: BunApi, port: number) =>
  timed(async (onData) => {
    await api.connect({ hostname: "127.0.0.1", port, socket: { data: (_, data) => onData(data.length) } })
  })

const nativeTls = (api: BunApi, port: number, ca: string) =>
  timed(async (onData) => {
    const raw = await api.connect({ hostname: "127.0.0.1", port, socket: { data: () => {} } })
    raw.upgradeTLS({ tls: { ca }, socket: { data: (_, data) => onData(data.length) } })
  })

/** Mean milliseconds to connect and finish the TLS handshake. */
const handshakes = async (connectAndUpgrade: () => Promise<() => void>) => {
  const count = 50
  const started = performance.now()
  for (let i = 0; i < count; i++) (await connectAndUpgrade())()
  return (performance.now() - started) / count
}

const nodeHandshake = (port: number, ca: string) => () =>
  new Promise<() => void>((resolve, reject) => {
    const raw = Net.connect({ host: "127.0.0.1", port }, () => {
      const tls = Tls.connect({ socket: raw, ca, host: "127.0.0.1" }, () => resolve(() => tls.destroy()))
      tls.once("error", reject)
    })
  })

const nativeHandshake = (api: BunApi, port: number, ca: string) => () =>
  new Promise<() => void>((resolve, reject) => {
    api.connect({ hostname: "127.0.0.1", port, socket: { data: () => {} } }).then((raw) => {
      const [, tls] = raw.upgradeTLS({
        tls: { ca },
        socket: {
          data: () => {},
          handshake: (_, success, error) => (success ? resolve(() => tls.end()) : reject(error))
        }
      })
    }, reject)
  })

const median = async (run: () => Promise<number>) => {
  const results: Array<number> = []
  await run() // warm-up
  for (let i = 0; i < 5; i++) results.push(await run())
  return results.sort((a, b) => a - b)[2]
}

const program = Effect.gen(function* () {
  if (bun === undefined) return yield* Effect.die("run this under Bun")
  const pki = yield* TestPki.generate
  const servers = yield* LocalServers.start(pki, size)
  const ca = pki.ca.pem
  const { plainSource, tlsSource, good } = servers.ports
  const rows = yield* Effect.promise(async () => [
    ["plaintext MiB/s", await median(() => nodePlain(plainSource)), await median(() => nativePlain(bun, plainSource))],
    ["TLS MiB/s", await median(() => nodeTls(tlsSource, ca)), await median(() => nativeTls(bun, tlsSource, ca))],
    [
      "connect + TLS ms",
      await median(() => handshakes(nodeHandshake(good, ca))),
      await median(() => handshakes(nativeHandshake(bun, good, ca)))
    ]
  ])
  console.log(`${"".padEnd(18)} ${"node:net/tls".padStart(12)} ${"Bun.connect".padStart(12)}`)
  for (const [name, node, native] of rows) {
    console.log(
      `${String(name).padEnd(18)} ${Number(node).toFixed(2).padStart(12)} ${Number(native).toFixed(2).padStart(12)}`
    )
  }
}).pipe(Effect.scoped)

Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
