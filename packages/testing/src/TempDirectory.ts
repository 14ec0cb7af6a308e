/** Temporary directories for the harness, each removed with everything in it when its scope closes. */
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import { Effect } from "effect"
import { HarnessError } from "./HarnessError.ts"

/** A new directory under the system's temporary directory, named `<prefix>XXXXXX`. */
export const make = (prefix: string) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => Fs.mkdtemp(Path.join(Os.tmpdir(), prefix)),
      catch: (cause) => new HarnessError({ message: "cannot create a temporary directory", cause })
    }),
    (dir) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
  )
