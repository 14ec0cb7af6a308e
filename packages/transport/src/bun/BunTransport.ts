/**
 * The Bun layer: Bun's node:net and node:tls. `Bun.connect` with `upgradeTLS` was measured against
 * them and not chosen; docs/transport.md gives the numbers and the reasons.
 *
 * Bun's sockets deliver up to 512 KiB per read; they are cut into 64 KiB copies (Node's read
 * size) and freed at once, which keeps a long stream's resident set down (internal/ChunkPieces.ts).
 *
 * Each layer built keeps its own TLS sessions for resumption.
 */
import { Layer } from "effect"
import { acquire } from "../internal/NodeSocketTransport.ts"
import { TlsSessionCache } from "../internal/TlsSessionCache.ts"
import { nodeTlsLimits } from "../internal/TlsSupport.ts"
import { Transport } from "../Transport.ts"

export const layer: Layer.Layer<Transport> = Layer.sync(Transport, () =>
  Transport.of({
    connect: acquire(
      {
        name: "Bun",
        limits: nodeTlsLimits.Bun,
        pieceSize: 64 * 1024
      },
      new TlsSessionCache()
    )
  })
)
