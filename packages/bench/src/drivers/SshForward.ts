/**
 * The peers' way through an SSH server: what their documentation shows, an ssh2 client of its own
 * (over its own node:net socket, with Nagle off as ssh2 allows) and a `forwardOut` channel handed
 * to the driver as its `stream`. The host key is checked against the target's fingerprint, as our
 * tunnel checks it, so both pay for the same work.
 */
import { createHash } from "node:crypto"
import type { Duplex } from "node:stream"
import { Client } from "ssh2"
import type { Target } from "../Workload.ts"

export interface Forward {
  readonly stream: Duplex
  readonly close: () => void
}

const fingerprintOf = (key: Buffer) => `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`

export const forward = (target: Target): Promise<Forward> => {
  const ssh = target.ssh
  if (ssh === undefined) throw new Error("the target names no SSH server")
  const client = new Client()
  return new Promise((resolve, reject) => {
    client
      .on("ready", () => {
        client.setNoDelay(true)
        client.forwardOut("127.0.0.1", 0, target.host, target.port, (error, stream) =>
          error ? reject(error) : resolve({ stream, close: () => client.end() })
        )
      })
      .on("error", reject)
      .connect({
        host: ssh.host,
        port: ssh.port,
        username: ssh.user,
        privateKey: ssh.privateKey,
        hostVerifier: (key: Buffer) => fingerprintOf(key) === ssh.fingerprint
      })
  })
}
