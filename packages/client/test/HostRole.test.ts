// The role a server's answer to the role query stands for, and which targets it meets: read_only
// and innodb_read_only, and a Galera node's readiness (golden rows, no IO).
import { assert, describe, it } from "@effect/vitest"
import { Endpoint } from "@effect-mysql/transport"
import * as HostRole from "../src/internal/HostRole.ts"

const host = Endpoint.tcp("db1", 3306)

/** read_only, innodb_read_only, wsrep_on, wsrep_ready, wsrep_local_state, wsrep_cluster_status */
const synced = ["0", "0", "ON", "ON", "4", "Primary"]

describe("HostRole.report", () => {
  it("read_only or innodb_read_only make a replica, in any form the values arrive in", () => {
    assert.strictEqual(HostRole.report([0n, 0n, "OFF", null, null, null]).role, "primary")
    assert.strictEqual(HostRole.report([1n, 0n, "OFF", null, null, null]).role, "replica")
    assert.strictEqual(HostRole.report(["0", "1", "OFF", null, null, null]).role, "replica")
    assert.strictEqual(HostRole.report([1, 0, null, null, null, null]).role, "replica")
  })

  it("a Galera node is usable only when ready, Synced and in the primary component", () => {
    assert.isUndefined(HostRole.report(synced).galeraProblem)
    const problem = (index: number, value: unknown) =>
      HostRole.report(synced.map((v, i) => (i === index ? value : v))).galeraProblem
    assert.strictEqual(problem(3, "OFF"), "wsrep_ready is OFF")
    assert.strictEqual(problem(4, "2"), "wsrep_local_state is 2, not 4 (Synced)")
    assert.strictEqual(problem(5, "non-Primary"), "wsrep_cluster_status is non-Primary, not Primary")
    assert.strictEqual(problem(3, null), "wsrep_ready is null")
    // wsrep_on OFF: whatever the status says, no Galera judgement.
    assert.isUndefined(problem(2, "OFF"))
  })
})

describe("HostRole.refusal", () => {
  it("read-write refuses a replica, read-only a primary, both a Galera node that is not ready", () => {
    const primary = HostRole.report(synced)
    const replica = HostRole.report(["1", "0", "OFF", null, null, null])
    const donor = HostRole.report(["0", "0", "ON", "ON", "2", "Primary"])
    assert.isUndefined(HostRole.refusal(primary, "read-write", host))
    assert.isUndefined(HostRole.refusal(replica, "read-only", host))
    assert.deepStrictEqual(
      [
        HostRole.refusal(replica, "read-write", host)?.reason,
        HostRole.refusal(primary, "read-only", host)?.reason,
        HostRole.refusal(donor, "read-write", host)?.reason,
        HostRole.refusal(donor, "read-only", host)?.reason
      ],
      ["read-only", "read-write", "galera-not-ready", "galera-not-ready"]
    )
    const error = HostRole.refusal(replica, "read-write", host)!
    assert.strictEqual(error.host, "db1:3306")
    assert.strictEqual(error.target, "read-write")
    assert.include(error.message, "db1:3306 is read-only")
  })
})

describe("HostRole.roleQuery", () => {
  it("reads status from information_schema on MariaDB and performance_schema on MySQL", () => {
    assert.strictEqual(
      HostRole.roleQuery("mariadb"),
      "SELECT @@global.read_only, @@global.innodb_read_only, " +
        "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'wsrep_on'), " +
        "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'wsrep_ready'), " +
        "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'wsrep_local_state'), " +
        "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'wsrep_cluster_status')"
    )
    assert.include(HostRole.roleQuery("mysql"), "performance_schema.global_status")
    assert.notInclude(HostRole.roleQuery("mysql"), "information_schema")
  })
})
