// The host list's entries as written, and the order a connect tries its hosts in: sequential,
// seeded random, and the backoff that puts a failed host last (golden values, no IO).
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { backoffMillis, HostList, parseHost } from "../src/internal/HostList.ts"

/** A small deterministic generator (mulberry32), so the shuffles below are the same on every run. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe("parseHost", () => {
  it("reads host, host:port, [ipv6] and [ipv6]:port", () => {
    const ok = (text: string) => Result.getOrThrow(parseHost(text))
    assert.deepStrictEqual(ok("db1"), { host: "db1" })
    assert.deepStrictEqual(ok(" db1:3307 "), { host: "db1", port: 3307 })
    assert.deepStrictEqual(ok("10.0.0.5:3306"), { host: "10.0.0.5", port: 3306 })
    assert.deepStrictEqual(ok("[::1]"), { host: "::1" })
    assert.deepStrictEqual(ok("[::1]:3307"), { host: "::1", port: 3307 })
    assert.deepStrictEqual(ok("fe80::1"), { host: "fe80::1" })
  })

  it("refuses what is not a host, saying why", () => {
    const problem = (text: string) => Result.getOrThrow(Result.flip(parseHost(text)))
    assert.include(problem(""), "is empty")
    assert.include(problem("db:0"), "no TCP port")
    assert.include(problem("db:70000"), "no TCP port")
    assert.include(problem("db:"), "no TCP port")
    assert.include(problem("db:x"), "is not a host")
    assert.include(problem("[::1"), "is not a host")
    assert.include(problem("a b"), "is not a host")
    assert.include(problem("u@db"), "is not a host")
  })
})

describe("HostList", () => {
  it("backs off 1 s after a failure, doubling to at most 30 s", () => {
    assert.deepStrictEqual(
      [1, 2, 3, 4, 5, 6, 7, 100].map(backoffMillis),
      [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
    )
  })

  it("sequential: the list's order, a failed host last until its backoff ends", () => {
    const list = new HostList(3, "sequential")
    assert.deepStrictEqual(list.order(0), [0, 1, 2])
    list.failed(0, 0)
    assert.deepStrictEqual(list.order(10), [1, 2, 0])
    list.failed(1, 500)
    // Both back off: the one free sooner comes first among them.
    assert.deepStrictEqual(list.order(600), [2, 0, 1])
    assert.deepStrictEqual(list.order(1000), [0, 2, 1])
    assert.deepStrictEqual(list.order(1500), [0, 1, 2])
  })

  it("a failure in a row doubles the backoff; a success clears it", () => {
    const list = new HostList(2, "sequential")
    list.failed(0, 0)
    list.failed(0, 1000)
    assert.deepStrictEqual(list.order(2999), [1, 0])
    assert.deepStrictEqual(list.order(3000), [0, 1])
    list.failed(0, 3000)
    assert.deepStrictEqual(list.order(6999), [1, 0])
    list.succeeded(0)
    assert.deepStrictEqual(list.order(3001), [0, 1])
    list.failed(0, 4000)
    assert.deepStrictEqual(list.order(5000), [0, 1], "after a success the backoff starts again at 1 s")
  })

  it("random: a seeded generator gives the same shuffles, spread over every host", () => {
    const list = new HostList(3, "random", seeded(42))
    const orders = Array.from({ length: 6 }, () => list.order(0).join(""))
    assert.deepStrictEqual(orders, ["201", "012", "210", "210", "102", "210"])
    const firsts = new Map<number, number>()
    const many = new HostList(3, "random", seeded(7))
    for (let i = 0; i < 3000; i++) {
      const first = many.order(0)[0]!
      firsts.set(first, (firsts.get(first) ?? 0) + 1)
    }
    for (const host of [0, 1, 2]) assert.isAbove(firsts.get(host) ?? 0, 900, `host ${host} first often enough`)
  })

  it("random: a host that backs off still comes after every other", () => {
    const list = new HostList(3, "random", seeded(1))
    list.failed(1, 0)
    for (let i = 0; i < 20; i++) assert.strictEqual(list.order(10)[2], 1)
  })
})
