/** The layer of the runtime the suite runs on, so that one suite covers Node, Deno and Bun. */
import { Effect, Layer } from "effect"
import type { Transport } from "../../src/Transport.ts"

export const runtime: "node" | "deno" | "bun" = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node"

export const layer: Layer.Layer<Transport> = Layer.unwrap(
  Effect.promise(async () => {
    switch (runtime) {
      case "deno":
        return (await import("../../src/deno/index.ts")).DenoTransport.layer
      case "bun":
        return (await import("../../src/bun/index.ts")).BunTransport.layer
      case "node":
        return (await import("../../src/node/index.ts")).NodeTransport.layer
    }
  })
)
