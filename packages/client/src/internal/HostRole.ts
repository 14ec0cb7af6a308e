/**
 * A server's role, read after login in one round trip, and whether it meets a
 * `targetSessionAttrs`.
 *
 * A server is a `replica` when `read_only` or `innodb_read_only` is on (as MariaDB's and MySQL's
 * replicas are set up), else a `primary`. A Galera node (`wsrep_on`) is usable only while it is
 * ready (`wsrep_ready`), Synced (`wsrep_local_state` 4) and in the primary component
 * (`wsrep_cluster_status` Primary): otherwise it refuses statements (errno 1047) or serves stale
 * reads. The status values come from information_schema.GLOBAL_STATUS on MariaDB and
 * performance_schema.global_status on MySQL (which dropped the former in 8.0). MariaDB 10.11
 * without a Galera provider answers `wsrep_on` OFF, `wsrep_ready` OFF, `wsrep_cluster_status`
 * Disconnected and no `wsrep_local_state` row (NULL): only `wsrep_on` tells a Galera node from the
 * rest, and the status is judged only when it is on.
 */
import { Endpoint } from "@effect-mysql/transport"
import type { TargetSessionAttrs } from "../ConnectionOptions.ts"
import { HostRoleError } from "../Errors.ts"

export type Role = "primary" | "replica"

export interface RoleReport {
  readonly role: Role
  /** Why a Galera node cannot be used; undefined when it can, or the server is no Galera node. */
  readonly galeraProblem: string | undefined
}

/** wsrep_local_state of a node that is part of the cluster and up to date. */
const SYNCED = "4"

const tables = {
  mariadb: { variables: "information_schema.GLOBAL_VARIABLES", status: "information_schema.GLOBAL_STATUS" },
  mysql: { variables: "performance_schema.global_variables", status: "performance_schema.global_status" }
} as const

/** The one statement that reads the role; its columns are in the order `report` reads them. */
export const roleQuery = (flavor: "mysql" | "mariadb"): string => {
  const { variables, status } = tables[flavor]
  const value = (table: string, name: string) => `(SELECT VARIABLE_VALUE FROM ${table} WHERE VARIABLE_NAME = '${name}')`
  return [
    "SELECT @@global.read_only",
    "@@global.innodb_read_only",
    value(variables, "wsrep_on"),
    value(status, "wsrep_ready"),
    value(status, "wsrep_local_state"),
    value(status, "wsrep_cluster_status")
  ].join(", ")
}

const isOn = (value: unknown) => value !== null && ["1", "ON", "TRUE"].includes(String(value).toUpperCase())

const galeraProblem = (ready: unknown, state: unknown, status: unknown): string | undefined => {
  if (!isOn(ready)) return `wsrep_ready is ${String(ready)}`
  if (String(state) !== SYNCED) return `wsrep_local_state is ${String(state)}, not 4 (Synced)`
  if (String(status).toUpperCase() !== "PRIMARY") return `wsrep_cluster_status is ${String(status)}, not Primary`
  return undefined
}

/** The role in the row `roleQuery` answers (values as text, numbers or bigints: compared as text). */
export const report = (row: ReadonlyArray<unknown>): RoleReport => {
  const [readOnly, innodbReadOnly, wsrepOn, ready, state, status] = row
  return {
    role: isOn(readOnly) || isOn(innodbReadOnly) ? "replica" : "primary",
    galeraProblem: isOn(wsrepOn) ? galeraProblem(ready, state, status) : undefined
  }
}

/** Why a server with this role does not meet `target`; undefined when it does. */
export const refusal = (
  found: RoleReport,
  target: Exclude<TargetSessionAttrs, "any" | "prefer-replica">,
  endpoint: Endpoint.Endpoint
): HostRoleError | undefined => {
  const host = Endpoint.format(endpoint)
  if (found.galeraProblem !== undefined)
    return new HostRoleError({
      host,
      target,
      reason: "galera-not-ready",
      message: `${host} is a Galera node that cannot serve: ${found.galeraProblem}`
    })
  const wanted: Role = target === "read-write" ? "primary" : "replica"
  if (found.role === wanted) return undefined
  return new HostRoleError({
    host,
    target,
    reason: found.role === "replica" ? "read-only" : "read-write",
    message:
      found.role === "replica"
        ? `${host} is read-only (read_only or innodb_read_only is on), and targetSessionAttrs is ${target}`
        : `${host} takes writes (read_only is off), and targetSessionAttrs is ${target}`
  })
}
