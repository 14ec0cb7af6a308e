/**
 * The local test servers, run as a Node program so that they behave the same whichever runtime
 * runs the suite. Prints one JSON line with its ports once listening, then a progress line each
 * time a source connection has to wait for the client to read.
 *
 * argv[2]: JSON `{ pki: TestPki, unixPath: string, sourceBytes: number }`
 */
import * as Net from "node:net"
import * as Tls from "node:tls"

interface Pem {
  readonly pem: string
}
interface Config {
  readonly pki: {
    readonly ca: Pem
    readonly servers: Record<"good" | "wrongName" | "untrusted" | "expired", { cert: Pem; key: Pem }>
  }
  readonly unixPath: string
  readonly sourceBytes: number
}

const config = JSON.parse(process.argv[2]) as Config
const { pki } = config

const echo = (socket: Net.Socket) => {
  socket.on("error", () => {})
  socket.pipe(socket)
}

/** Sends `sourceBytes` bytes (a counting pattern) as fast as the client takes them. */
const source = (name: string) => (socket: Net.Socket) => {
  socket.on("error", () => {})
  const chunk = new Uint8Array(64 * 1024).map((_, i) => i & 0xff)
  let sent = 0
  const pump = () => {
    while (sent < config.sourceBytes) {
      sent += chunk.length
      if (!socket.write(chunk)) {
        process.stdout.write(`${JSON.stringify({ progress: name, sent })}\n`)
        socket.once("drain", pump)
        return
      }
    }
    socket.end()
  }
  pump()
}

const tlsServer = (
  certificate: keyof Config["pki"]["servers"],
  handler: (socket: Net.Socket) => void,
  options: Tls.TlsOptions = {}
) =>
  Tls.createServer(
    { cert: pki.servers[certificate].cert.pem, key: pki.servers[certificate].key.pem, ...options },
    handler
  ).on("tlsClientError", () => {})

const mutual: Tls.TlsOptions = { ca: pki.ca.pem, requestCert: true, rejectUnauthorized: true }

const servers = {
  plain: Net.createServer(echo),
  good: tlsServer("good", echo),
  wrongName: tlsServer("wrongName", echo),
  untrusted: tlsServer("untrusted", echo),
  expired: tlsServer("expired", echo),
  mutual: tlsServer("good", echo, mutual),
  tls12: tlsServer("good", echo, { maxVersion: "TLSv1.2" }),
  plainSource: Net.createServer(source("plainSource")),
  tlsSource: tlsServer("good", source("tlsSource"))
}

const listen = (server: Net.Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as Net.AddressInfo).port))
  )

const ports: Record<string, number> = {}
for (const [name, server] of Object.entries(servers)) ports[name] = await listen(server)
await new Promise<void>((resolve) => Net.createServer(echo).listen(config.unixPath, resolve))
process.stdout.write(`${JSON.stringify({ ports })}\n`)
// The suite ends us by closing stdin, whichever runtime it runs on.
process.stdin.on("end", () => process.exit(0))
process.stdin.resume()
