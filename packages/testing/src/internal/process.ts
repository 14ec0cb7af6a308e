import { execFile } from "node:child_process"
import * as Net from "node:net"
import { Effect } from "effect"
import { HarnessError } from "../HarnessError.ts"

/** Runs a program to completion and yields its stdout; a non-zero exit fails with its stderr. */
export const run = (file: string, args: ReadonlyArray<string>, options: { readonly cwd?: string } = {}) =>
  Effect.callback<string, HarnessError>((resume) => {
    const child = execFile(file, args, { cwd: options.cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) return resume(Effect.succeed(stdout))
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT"
      resume(
        Effect.fail(
          new HarnessError({
            message: missing
              ? `${file} is not installed or not on the PATH`
              : `${file} ${args.join(" ")} failed: ${stderr.trim() || error.message}`,
            cause: error
          })
        )
      )
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** A TCP port on 127.0.0.1 that was free a moment ago (the caller retries if it is taken meanwhile). */
export const freePort = Effect.callback<number, HarnessError>((resume) => {
  const server = Net.createServer()
  server.once("error", (cause) => resume(Effect.fail(new HarnessError({ message: "no free TCP port", cause }))))
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as Net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})
