/**
 * The transport of whichever runtime the program runs on, for code that runs everywhere (a test
 * suite, a library): each runtime loads only its own layer, on first use. An application that
 * knows its runtime provides `NodeTransport.layer`, `DenoTransport.layer` or `BunTransport.layer`.
 */
import { Effect, Layer } from "effect"
import type { Transport } from "./Transport.ts"

export type Runtime = "node" | "deno" | "bun"

export const runtime: Runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node"

export const layer: Layer.Layer<Transport> = Layer.unwrap(
  Effect.promise(async () => {
    switch (runtime) {
      case "deno":
        return (await import("./deno/index.ts")).DenoTransport.layer
      case "bun":
        return (await import("./bun/index.ts")).BunTransport.layer
      case "node":
        return (await import("./node/index.ts")).NodeTransport.layer
    }
  })
)
