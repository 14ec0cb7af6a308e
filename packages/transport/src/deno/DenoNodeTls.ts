/**
 * The upgrade through Deno's node:tls, for what `Deno.startTls` cannot do (no verification, client
 * certificates, pinned fingerprints, TLS versions, Unix sockets). Loaded only when needed.
 */
import { Effect } from "effect"
import type { Channel } from "../internal/Channel.ts"
import { upgrade } from "../internal/NodeTlsUpgrade.ts"
import type { TlsSettings } from "../SslPolicy.ts"
import type { TlsError } from "../TlsError.ts"
import type { TlsInfo } from "../Transport.ts"
import type { DenoConn } from "./DenoApi.ts"
import { DenoConnDuplex } from "./DenoConnDuplex.ts"

export const upgradeWithNodeTls = (
  conn: DenoConn,
  settings: TlsSettings,
  limit: number
): Effect.Effect<{ readonly channel: Channel; readonly info: TlsInfo }, TlsError> => {
  const duplex = new DenoConnDuplex(conn)
  return upgrade(duplex, settings, { limit, hold: () => duplex.hold(), release: () => duplex.release() }).pipe(
    Effect.map(({ channel, info }) => ({ channel, info: { ...info, implementation: "node:tls over Deno.connect" } }))
  )
}
