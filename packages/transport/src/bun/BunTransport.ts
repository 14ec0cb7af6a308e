/**
 * The Bun layer: Bun's node:net and node:tls. `Bun.connect` with `upgradeTLS` was measured against
 * them and not chosen; docs/transport.md gives the numbers and the reasons.
 */
import { Layer } from "effect"
import { acquire } from "../internal/NodeSocketTransport.ts"
import { Transport } from "../Transport.ts"

export const layer: Layer.Layer<Transport> = Layer.succeed(
  Transport,
  Transport.of({
    connect: acquire({
      name: "Bun",
      limits: { ciphersuites: "its TLS stack (BoringSSL) does not let TLS 1.3 suites be chosen" }
    })
  })
)
