/**
 * A TCP listener on 127.0.0.1 that the test servers (the fault proxy here, the fake and replay
 * servers elsewhere) share, so each ends its connections the same way when its scope closes.
 */
import type * as Net from "node:net"
import { Effect } from "effect"
import { HarnessError } from "./HarnessError.ts"

/**
 * Listens on 127.0.0.1 at a free port for the life of the scope. Closing the scope destroys the
 * open connections in `sockets` (which the caller keeps) and closes the server.
 */
export const listenOnLoopback = (server: Net.Server, sockets: ReadonlySet<Net.Socket>, what: string) =>
  Effect.acquireRelease(
    Effect.callback<number, HarnessError>((resume) => {
      server.once("error", (cause) =>
        resume(Effect.fail(new HarnessError({ message: `${what} cannot listen`, cause })))
      )
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as Net.AddressInfo).port)))
    }),
    () =>
      Effect.callback<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  )
