/**
 * vitest `globalSetup` of the integration and release projects: starts the run's server (see
 * TestTarget) once, hands it to the tests as `inject("mysqlTarget")`, and stops it when the run ends.
 */
import { Effect, Exit, Scope } from "effect"
import type { TestProject } from "vitest/node"
import * as TestTarget from "../TestTarget.ts"

export default async function setup(project: TestProject) {
  const scope = Effect.runSync(Scope.make())
  const target = await Effect.runPromise(Scope.provide(TestTarget.acquire, scope))
  project.provide("mysqlTarget", target)
  return () => Effect.runPromise(Scope.close(scope, Exit.void))
}
