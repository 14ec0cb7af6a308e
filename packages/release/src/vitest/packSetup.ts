/**
 * vitest `globalSetup` of the release project: builds and packs the public packages once per run
 * and hands the tarballs to the tests as `inject("tarballs")`.
 */
import { TempDirectory } from "@effect-mysql/testing"
import { Effect, Exit, Scope } from "effect"
import type { TestProject } from "vitest/node"
import * as Tarballs from "../Tarballs.ts"

declare module "vitest" {
  export interface ProvidedContext {
    tarballs: ReadonlyArray<Tarballs.Tarball>
  }
}

export default async function setup(project: TestProject) {
  const scope = Effect.runSync(Scope.make())
  const packed = TempDirectory.make("effect-mysql-packs-").pipe(Effect.flatMap(Tarballs.buildAndPack))
  project.provide("tarballs", await Effect.runPromise(Scope.provide(packed, scope)))
  return () => Effect.runPromise(Scope.close(scope, Exit.void))
}
