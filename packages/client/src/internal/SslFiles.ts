/**
 * Reads the certificate and key files a URL or the environment names (`ssl-ca`, `ssl-cert`,
 * `ssl-key`, `ssl-crl`) into the PEM text the `ssl` options take. Effect's `FileSystem` is used when the
 * application provides one; otherwise `node:fs`, which Node, Deno and Bun all have.
 */
import { Effect, FileSystem } from "effect"
import { ConfigError } from "../Errors.ts"
import type { SslFiles } from "../Url.ts"

type Pem = { -readonly [K in keyof SslFiles]: string }

const readText = (path: string): Effect.Effect<string, unknown> =>
  Effect.flatMap(
    Effect.serviceOption(FileSystem.FileSystem),
    (fs): Effect.Effect<string, unknown> =>
      fs._tag === "Some"
        ? fs.value.readFileString(path)
        : Effect.tryPromise({
            try: async () => (await import("node:fs/promises")).readFile(path, "utf8"),
            catch: (error) => error
          })
  )

const messageOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)

export const readSslFiles = (files: SslFiles): Effect.Effect<Pem, ConfigError> =>
  Effect.gen(function* () {
    const pem: Pem = {}
    for (const name of ["ca", "cert", "key", "crl"] as const) {
      const path = files[name]
      if (path === undefined) continue
      pem[name] = yield* Effect.mapError(
        readText(path),
        (error) =>
          new ConfigError({ option: `ssl-${name}`, message: `ssl-${name}: cannot read ${path}: ${messageOf(error)}` })
      )
    }
    return pem
  })
