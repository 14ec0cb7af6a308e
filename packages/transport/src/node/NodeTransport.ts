/** The Node layer: node:net for TCP and Unix sockets, node:tls for the upgrade on the same socket. */
import { Layer } from "effect"
import { acquire } from "../internal/NodeSocketTransport.ts"
import { nodeTlsLimits } from "../internal/TlsSupport.ts"
import { Transport } from "../Transport.ts"

export const layer: Layer.Layer<Transport> = Layer.succeed(
  Transport,
  Transport.of({ connect: acquire({ name: "Node", limits: nodeTlsLimits.Node }) })
)
