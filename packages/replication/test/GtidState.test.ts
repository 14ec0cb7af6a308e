import { assert, describe, it } from "@effect/vitest"
import { GtidState } from "../src/internal/GtidState.ts"

describe("GtidState", () => {
  it("MariaDB: the last GTID of each domain, after a GTID list", () => {
    const state = new GtidState(false)
    assert.isUndefined(state.text())
    state.seedMariadb([
      { domainId: 0, serverId: 1, sequence: 41n },
      { domainId: 5, serverId: 2, sequence: 7n }
    ])
    assert.strictEqual(state.text(), "0-1-41,5-2-7")
    assert.strictEqual(state.mariadb(0, 3, 42n), "0-3-42")
    assert.strictEqual(state.text(), "0-3-42,5-2-7")
    // A later file's list says what the state already holds: it changes nothing.
    state.seedMariadb([{ domainId: 0, serverId: 1, sequence: 1n }])
    assert.strictEqual(state.text(), "0-3-42,5-2-7")
  })

  it("MySQL: intervals per source, merged as transactions follow each other", () => {
    const uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
    const state = new GtidState(true)
    state.seedMysql([
      {
        uuid,
        intervals: [
          { start: 1n, end: 6n },
          { start: 8n, end: 9n }
        ]
      }
    ])
    assert.strictEqual(state.text(), `${uuid}:1-5:8`)
    assert.strictEqual(state.mysql(uuid, 6n), `${uuid}:6`)
    assert.strictEqual(state.text(), `${uuid}:1-6:8`)
    state.mysql(uuid, 7n)
    assert.strictEqual(state.text(), `${uuid}:1-8`)
    state.mysql("00000000-0000-0000-0000-000000000001", 1n)
    assert.strictEqual(state.text(), `${uuid}:1-8,00000000-0000-0000-0000-000000000001:1`)
  })
})
