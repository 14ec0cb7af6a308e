/**
 * Starts test/support/tls-server.ts under Node for the length of a scope: TLS echo servers with
 * each certificate of the test PKI, one that requires a client certificate, a TLS 1.2-only one,
 * plaintext echo over TCP and a Unix socket, and sources that send as fast as the client reads.
 */
import { spawn } from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { HarnessError, type TestPki } from "@effect-mysql/testing"
import { Effect, type Scope } from "effect"

export interface LocalServers {
  readonly ports: {
    readonly plain: number
    readonly good: number
    readonly wrongName: number
    readonly untrusted: number
    readonly expired: number
    readonly mutual: number
    readonly tls12: number
    readonly plainSource: number
    readonly tlsSource: number
  }
  readonly unixPath: string
  /** Bytes a source connection had handed to its socket when it last had to wait for the client. */
  readonly sentBeforeWaiting: (source: "plainSource" | "tlsSource") => number
}

const here = Path.dirname(fileURLToPath(import.meta.url))
const node = Path.resolve(here, "../../../../node_modules/.bin/node")

export const start = (
  pki: TestPki.TestPki,
  sourceBytes: number
): Effect.Effect<LocalServers, HarnessError, Scope.Scope> =>
  Effect.gen(function* () {
    const unixPath = Path.join(pki.dir, `echo-${process.pid}.sock`)
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(node, [Path.join(here, "tls-server.ts"), JSON.stringify({ pki, unixPath, sourceBytes })], {
          stdio: ["pipe", "pipe", "inherit"]
        })
      ),
      (child) => Effect.sync(() => child.stdin?.end())
    )
    const progress = new Map<string, number>()
    const ports = yield* Effect.callback<LocalServers["ports"], HarnessError>((resume) => {
      let pending = ""
      child.stdout?.setEncoding("utf8")
      child.stdout?.on("data", (text: string) => {
        pending += text
        const lines = pending.split("\n")
        pending = lines.pop() ?? ""
        for (const line of lines) {
          const message = JSON.parse(line) as { ports?: LocalServers["ports"]; progress?: string; sent?: number }
          if (message.ports !== undefined) resume(Effect.succeed(message.ports))
          if (message.progress !== undefined) progress.set(message.progress, message.sent ?? 0)
        }
      })
      child.once("exit", (code) =>
        resume(Effect.fail(new HarnessError({ message: `the local test servers exited (code ${code})` })))
      )
    }).pipe(
      Effect.timeout("20 seconds"),
      Effect.mapError((cause) => new HarnessError({ message: String(cause), cause }))
    )
    return { ports, unixPath, sentBeforeWaiting: (source) => progress.get(source) ?? 0 }
  })
