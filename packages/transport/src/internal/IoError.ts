import { TransportError } from "../TransportError.ts"

/** A socket error as a `TransportError`, keeping the runtime's code (`ECONNRESET`, `EPIPE`, …). */
export const ioError = (error: unknown, what: string): TransportError => {
  const code = (error as { code?: unknown } | null)?.code
  return new TransportError({
    reason: "io-error",
    message: `${what}: ${error instanceof Error ? error.message : String(error)}`,
    ...(typeof code === "string" ? { code } : {}),
    cause: error
  })
}

/** The peer ended the stream: an orderly close, where a command still waited for an answer. */
export const closedByPeer = (): TransportError =>
  new TransportError({ reason: "closed-by-peer", message: "the server closed the connection" })
