/**
 * The Node layer: node:net for TCP and Unix sockets, node:tls for the upgrade on the same socket.
 * Each layer built keeps its own TLS sessions for resumption.
 */
import { Layer } from "effect"
import { acquire } from "../internal/NodeSocketTransport.ts"
import { TlsSessionCache } from "../internal/TlsSessionCache.ts"
import { nodeTlsLimits } from "../internal/TlsSupport.ts"
import { Transport } from "../Transport.ts"

export const layer: Layer.Layer<Transport> = Layer.sync(Transport, () =>
  Transport.of({ connect: acquire({ name: "Node", limits: nodeTlsLimits.Node }, new TlsSessionCache()) })
)
