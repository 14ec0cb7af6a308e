// The options as the client checks them before anything opens: unknown keys with a did-you-mean,
// values of the wrong type, durations a timer can wait, collations the client can encode for, the
// exact ssl option at fault, and passwords no printer shows.
import { inspect } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import { RuntimeTransport } from "@effect-mysql/transport"
import { Cause, Effect, Formatter, Layer, Redacted, Result } from "effect"
import { ConfigError, ConnectionOptions, MysqlClient, MysqlPool } from "../src/index.ts"
import { fromSqlMysql2 } from "../src/internal/SqlMysql2Options.ts"

const refusal = (options: object): ConfigError => {
  const result = ConnectionOptions.resolve(options as ConnectionOptions.ConnectionOptions)
  if (Result.isSuccess(result)) throw new Error(`${JSON.stringify(options)} was accepted`)
  return result.failure
}

const poolRefusal = (options: object): ConfigError => {
  const result = MysqlPool.resolvePoolOptions(options as MysqlPool.PoolOptions)
  if (!(result instanceof ConfigError)) throw new Error(`${JSON.stringify(options)} was accepted`)
  return result
}

/** What building the client layer fails with, unwrapped from its SqlError; nothing listens on port 1. */
const clientRefusal = (options: object, where: object = { host: "127.0.0.1", port: 1 }) =>
  Effect.gen(function* () {
    const layer = MysqlClient.layer({ ...where, ...options } as MysqlClient.MysqlClientOptions).pipe(
      Layer.provide(RuntimeTransport.layer)
    )
    const error = yield* Effect.flip(Effect.scoped(Layer.build(layer)))
    const cause = (error as { reason?: { cause?: unknown } }).reason?.cause
    assert.instanceOf(cause, ConfigError, String(Cause.pretty(Cause.fail(error))))
    return cause as ConfigError
  })

describe("unknown options", () => {
  it("are refused with the option other drivers' spelling stands for", () => {
    const cases: ReadonlyArray<readonly [object, string, string]> = [
      [{ username: "app" }, "username", "did you mean user?"],
      [{ user: "app", rejectUnauthorized: false }, "rejectUnauthorized", "did you mean ssl.mode"],
      [{ user: "app", ssl: { rejectUnauthorized: false } }, "ssl.rejectUnauthorized", "did you mean ssl.mode"],
      [{ user: "app", ssl: { mdoe: "required" } }, "ssl.mdoe", "did you mean ssl.mode?"],
      [{ user: "app", types: { timezone: "Z" } }, "types.timezone", "did you mean types.timeZone?"],
      [{ user: "app", compression: { zstdlevel: 3 } }, "compression.zstdlevel", "did you mean compression.zstdLevel?"],
      [{ user: "app", maxConnections: 4 }, "maxConnections", "not of a single connection"]
    ]
    for (const [options, option, hint] of cases) {
      const error = refusal(options)
      assert.strictEqual(error.option, option)
      assert.include(error.message, hint)
    }
  })

  it("of the pool are refused the same way", () => {
    assert.include(
      poolRefusal({ connectionLimit: 5 }).message,
      "connectionLimit: unknown option; did you mean maxConnections?"
    )
    assert.include(poolRefusal({ connectionTTL: 5 }).message, "did you mean maxLifetime?")
  })

  it.effect("given to MysqlClient fail the layer before any connection is tried", () =>
    Effect.gen(function* () {
      const limit = yield* clientRefusal({ user: "app", connectionLimit: 5 })
      assert.strictEqual(limit.option, "connectionLimit")
      assert.include(limit.message, "did you mean maxConnections?")
      const ttl = yield* clientRefusal({ user: "app", connectionTtl: 5 })
      assert.include(ttl.message, "did you mean connectionTTL?")
    })
  )

  it.effect("the effect/sql options stay known to MysqlClient", () =>
    Effect.gen(function* () {
      // Accepted: the layer gets as far as connecting, where nothing listens.
      const error = yield* Effect.flip(
        Effect.scoped(
          Layer.build(
            MysqlClient.layer({
              host: "127.0.0.1",
              port: 1,
              user: "app",
              spanAttributes: { service: "shop" },
              transformQueryNames: (name) => name,
              transformResultNames: (name) => name,
              maxConnections: 2
            }).pipe(Layer.provide(RuntimeTransport.layer))
          )
        )
      )
      assert.notInstanceOf((error as { reason?: { cause?: unknown } }).reason?.cause, ConfigError)
    })
  )

  it.effect("a host list's options are checked before any host is", () =>
    Effect.gen(function* () {
      const hosts = { hosts: ["127.0.0.1:1", "127.0.0.1:2"] }
      const typo = yield* clientRefusal({ user: "app", replicaReads: { maxLagg: "1 second" } }, hosts)
      assert.strictEqual(typo.option, "replicaReads.maxLagg")
      assert.include(typo.message, "did you mean replicaReads.maxLag?")
      const negative = yield* clientRefusal({ user: "app", hostCheckInterval: -5 }, hosts)
      assert.strictEqual(negative.option, "hostCheckInterval")
      const zero = yield* clientRefusal({ user: "app", replicaReads: { waitTimeout: 0 } }, hosts)
      assert.strictEqual(zero.option, "replicaReads.waitTimeout")
      const wrongType = yield* clientRefusal({ user: "app", replicaReads: { readYourWrites: "yes" } }, hosts)
      assert.strictEqual(wrongType.option, "replicaReads.readYourWrites")
    })
  )

  it("values of the wrong type are refused, naming the option", () => {
    assert.strictEqual(refusal({ user: "app", port: "3306" }).option, "port")
    assert.strictEqual(refusal({ user: "app", types: { bigint: "int" } }).option, "types.bigint")
    assert.strictEqual(refusal({ user: "app", ssl: "required" }).option, "ssl")
    assert.strictEqual(refusal({ user: "app", localInfile: { source: "/tmp/data.csv" } }).option, "localInfile.source")
  })
})

describe("@effect/sql-mysql2's config", () => {
  const mapped = (options: object) => {
    const result = fromSqlMysql2(options as MysqlClient.MysqlClientOptions)
    if (Result.isFailure(result)) throw new Error(result.failure.message)
    return result.success
  }
  const mappingRefusal = (options: object) => {
    const result = fromSqlMysql2(options as MysqlClient.MysqlClientOptions)
    if (Result.isSuccess(result)) throw new Error(`${JSON.stringify(options)} was accepted`)
    return result.failure
  }

  it("maps username to user and connectionTTL to maxLifetime, keeping ours as they are", () => {
    const password = Redacted.make("secret")
    const { options, url } = mapped({
      host: "db",
      port: 3307,
      database: "shop",
      username: "app",
      password,
      maxConnections: 4,
      connectionTTL: "10 minutes",
      spanAttributes: { service: "shop" }
    })
    assert.isUndefined(url)
    assert.deepStrictEqual(options, {
      host: "db",
      port: 3307,
      database: "shop",
      user: "app",
      password,
      maxConnections: 4,
      maxLifetime: "10 minutes",
      spanAttributes: { service: "shop" }
    })
  })

  it("puts poolConfig beneath the options beside it, and leaves the url for the client to read", () => {
    const url = Redacted.make("mysql://app:secret@db:3306/shop")
    const result = mapped({ url, poolConfig: { maxConnections: 8, connectTimeout: 2000, host: "a" }, host: "b" })
    assert.strictEqual(result.url, url)
    assert.deepStrictEqual(result.options, { maxConnections: 8, connectTimeout: 2000, host: "b" })
  })

  it("refuses a name of theirs given with ours and a different value", () => {
    const both = mappingRefusal({ username: "app", user: "other" })
    assert.strictEqual(both.option, "username")
    assert.include(both.message, "means user")
    assert.strictEqual(mapped({ username: "app", user: "app" }).options.user, "app")
    assert.strictEqual(mappingRefusal({ connectionTTL: 5, maxLifetime: 6 }).option, "connectionTTL")
  })

  it("refuses mysql2's names inside poolConfig, naming ours, and values of the wrong type", () => {
    const limit = mappingRefusal({ username: "app", poolConfig: { connectionLimit: 5 } })
    assert.strictEqual(limit.option, "poolConfig.connectionLimit")
    assert.include(limit.message, "did you mean maxConnections?")
    const wait = mappingRefusal({ username: "app", poolConfig: { waitForConnections: true } })
    assert.include(wait.message, "did you mean acquireTimeout")
    assert.strictEqual(mappingRefusal({ url: 42 }).option, "url")
    assert.strictEqual(mappingRefusal({ username: 7 }).option, "username")
    assert.strictEqual(mappingRefusal({ connectionTTL: "soon" }).option, "connectionTTL")
    assert.strictEqual(mappingRefusal({ poolConfig: { port: "3306" } }).option, "poolConfig.port")
  })

  it("leaves every other unknown key refused", () => {
    const json = mappingRefusal({ username: "app", transformJson: true })
    assert.strictEqual(json.option, "transformJson")
    assert.include(json.message, "unknown option")
  })

  it.effect("reach the client, which refuses them with a typed error before connecting", () =>
    Effect.gen(function* () {
      const both = yield* clientRefusal({ username: "app", user: "other" })
      assert.strictEqual(both.option, "username")
      const badUrl = yield* clientRefusal({ url: Redacted.make("postgres://app@db/shop") })
      assert.strictEqual(badUrl.option, "url")
      const noUser = yield* clientRefusal({})
      assert.strictEqual(noUser.option, "user")
      const nested = yield* clientRefusal({ username: "app", poolConfig: { ssl: { rejectUnauthorized: false } } })
      assert.strictEqual(nested.option, "ssl.rejectUnauthorized")
      const text = yield* clientRefusal({ user: "app", disablePreparedStatements: "yes" })
      assert.strictEqual(text.option, "disablePreparedStatements")
    })
  )

  it("a single connection still refuses them, naming ours", () => {
    assert.include(refusal({ username: "app" }).message, "did you mean user?")
    assert.include(refusal({ user: "app", url: "mysql://db" }).message, "layerFromUrl")
  })
})

describe("durations", () => {
  it("a timer cannot wait are refused: Infinity, above 2^31-1 ms, invalid text", () => {
    assert.include(
      refusal({ user: "app", connectTimeout: Infinity }).message,
      "connectTimeout: Infinity is longer than"
    )
    assert.include(refusal({ user: "app", connectTimeout: 2 ** 31 }).message, "2147483647 ms")
    assert.include(refusal({ user: "app", readTimeout: "30 days" }).message, "readTimeout")
    assert.include(refusal({ user: "app", keepAlive: "soon" }).message, "keepAlive: soon is not a positive duration")
    assert.strictEqual(refusal({ user: "app", keepAlive: Infinity }).option, "keepAlive")
    assert.strictEqual(refusal({ user: "app", statementTimeout: Infinity }).option, "statementTimeout")
    assert.strictEqual(refusal({ user: "app", cancelTimeout: 2 ** 40 }).option, "cancelTimeout")
    assert.include(poolRefusal({ acquireTimeout: Infinity }).message, "acquireTimeout: Infinity is longer than")
    assert.strictEqual(poolRefusal({ heartbeatInterval: "often" }).option, "heartbeatInterval")
  })

  it("up to 2^31-1 ms, or keepAlive false, are accepted", () => {
    const result = ConnectionOptions.resolve({ user: "app", connectTimeout: 2 ** 31 - 1, keepAlive: false })
    assert.isTrue(Result.isSuccess(result))
  })
})

describe("collation", () => {
  it("with a character set other than UTF-8 is refused, saying which to use", () => {
    const error = refusal({ user: "app", collation: 8 })
    assert.strictEqual(error.option, "collation")
    assert.include(error.message, "latin1")
    assert.include(error.message, "45 (utf8mb4_general_ci)")
    assert.strictEqual(refusal({ user: "app", collation: 63 }).option, "collation")
  })

  it("of utf8mb4 or utf8mb3 is accepted", () => {
    for (const collation of [45, 46, 224, 33, 83]) {
      assert.isTrue(Result.isSuccess(ConnectionOptions.resolve({ user: "app", collation })), String(collation))
    }
  })
})

describe("ssl refusals", () => {
  it("name the exact ssl option and keep the whole message", () => {
    const ca = refusal({ user: "app", ssl: { mode: "verify-ca", ca: "/etc/mysql/ca.pem" } })
    assert.strictEqual(ca.option, "ssl.ca")
    assert.include(ca.message, "ssl.ca must be PEM text")
    const mode = refusal({ user: "app", ssl: { mode: "strict" } })
    assert.strictEqual(mode.option, "ssl.mode")
    assert.include(mode.message, 'ssl.mode "strict"')
  })
})

describe("secrets", () => {
  const secrets = ["hunter2", "second-factor", "third-factor", "pass-phrase", "the-private-key"]
  const printers = {
    inspect: (value: unknown) => inspect(value, { depth: 10 }),
    JSON: (value: unknown) => JSON.stringify(value),
    Formatter: (value: unknown) => Formatter.format(value)
  }

  it("passwords and the client key given as strings are Redacted in the resolved options", () => {
    const resolved = ConnectionOptions.resolve({
      user: "app",
      password: "hunter2",
      password2: "second-factor",
      password3: "third-factor",
      ssl: {
        mode: "required",
        cert: "-----BEGIN CERTIFICATE-----\n",
        key: "-----BEGIN PRIVATE KEY-----\nthe-private-key\n",
        passphrase: "pass-phrase"
      }
    })
    if (Result.isFailure(resolved)) throw new Error(resolved.failure.message)
    for (const [name, print] of Object.entries(printers)) {
      const text = print(resolved.success)
      for (const secret of secrets) assert.notInclude(text, secret, name)
    }
  })

  it.effect("a URL's password is Redacted in the options it stands for", () =>
    Effect.gen(function* () {
      const options = yield* MysqlClient.optionsFromUrl("mysql://app:hunter2@db.internal/shop")
      for (const [name, print] of Object.entries(printers)) assert.notInclude(print(options), "hunter2", name)
    })
  )
})

describe("host lists", () => {
  const resolved = (options: object) =>
    Result.getOrThrow(ConnectionOptions.resolve({ user: "u", ...options } as ConnectionOptions.ConnectionOptions))

  it("give one endpoint per entry, strings and objects, port 3306 by default, each with its own TLS identity", () => {
    const options = resolved({
      hosts: ["db1", "db2:3307", "[::1]:3308", { host: "db4" }, { host: "db5", port: 3309 }],
      ssl: { mode: "verify-identity", ca: "-----BEGIN CERTIFICATE-----" }
    })
    assert.deepStrictEqual(
      options.hosts.map((h) => h.endpoint),
      [
        { _tag: "Tcp", host: "db1", port: 3306 },
        { _tag: "Tcp", host: "db2", port: 3307 },
        { _tag: "Tcp", host: "::1", port: 3308 },
        { _tag: "Tcp", host: "db4", port: 3306 },
        { _tag: "Tcp", host: "db5", port: 3309 }
      ]
    )
    assert.deepStrictEqual(options.endpoint, options.hosts[0]!.endpoint)
    assert.deepStrictEqual(
      options.hosts.map((h) => (h.ssl.mode === "disabled" ? undefined : h.ssl.tls.identity)),
      ["db1", "db2", "::1", "db4", "db5"]
    )
    assert.strictEqual(options.hostOrder, "sequential")
    assert.strictEqual(options.targetSessionAttrs, "any")
  })

  it("exclude host, port and socketPath, naming them", () => {
    for (const [extra, named] of [
      [{ host: "h" }, "host"],
      [{ port: 3307 }, "port"],
      [{ socketPath: "/run/mysqld.sock" }, "socketPath"]
    ] as const) {
      const error = refusal({ user: "u", hosts: ["a", "b"], ...extra })
      assert.strictEqual(error.option, "hosts")
      assert.include(error.message, `give either hosts or ${named}, not both`)
    }
  })

  it("refuse an empty list, a bad entry by its index, and unknown order or target", () => {
    assert.include(refusal({ user: "u", hosts: [] }).message, "hosts: is empty")
    const bad = refusal({ user: "u", hosts: ["a", "b:0"] })
    assert.strictEqual(bad.option, "hosts[1]")
    assert.include(
      refusal({ user: "u", hosts: ["a", { host: "b", port: 0 }] }).message,
      "hosts[1]: 0 is not a TCP port"
    )
    assert.include(refusal({ user: "u", hosts: ["a", { host: "" }] }).message, "hosts[1]: has an empty host")
    assert.strictEqual(refusal({ user: "u", hosts: ["a"], hostOrder: "roundrobin" }).option, "hostOrder")
    assert.strictEqual(refusal({ user: "u", hosts: ["a"], targetSessionAttrs: "standby" }).option, "targetSessionAttrs")
    assert.include(refusal({ user: "u", load_balance_hosts: "random" }).message, "hostOrder")
  })
})
