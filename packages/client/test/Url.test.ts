// URLs and Config as client options: every parameter, percent-decoding, refusals that name the parameter.
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Redacted, Result } from "effect"
import { ClientConfig, MysqlClient, Url } from "../src/index.ts"

const parsed = (url: string) => {
  const result = Url.parse(url)
  if (Result.isFailure(result)) throw new Error(result.failure.message)
  return result.success
}

const refusal = (url: string) => {
  const result = Url.parse(url)
  if (Result.isSuccess(result)) throw new Error(`${url} was accepted`)
  return result.failure
}

describe("Url.parse", () => {
  it("reads user, password, host, port and database, percent-decoded", () => {
    const { options } = parsed("mysql://app%40corp:p%40ss%3Aw%2Frd@db.internal:3307/shop%2Dmain")
    assert.strictEqual(options.user, "app@corp")
    assert.strictEqual(Redacted.value(options.password as Redacted.Redacted<string>), "p@ss:w/rd")
    assert.strictEqual(options.host, "db.internal")
    assert.strictEqual(options.port, 3307)
    assert.strictEqual(options.database, "shop-main")
  })

  it("takes IPv6 hosts, and leaves out what the URL does not say", () => {
    const { options } = parsed("mysql://root@[::1]")
    assert.strictEqual(options.host, "::1")
    assert.isUndefined(options.port)
    assert.isUndefined(options.password)
    assert.isUndefined(options.database)
  })

  it("reads the MySQL URI option names", () => {
    const { options, sslFiles } = parsed(
      "mysql://u:p@h/db?ssl-mode=VERIFY_IDENTITY&ssl-ca=/etc/ca.pem&ssl-cert=/etc/c.pem&ssl-key=/etc/k.pem" +
        "&ssl-fingerprint=AB:" +
        "CD".repeat(31) +
        "&tls-version=TLSv1.3,TLSv1.2&compression-algorithms=zstd,zlib&zstd-compression-level=7" +
        "&connect-timeout=3&get-server-public-key=true"
    )
    assert.deepStrictEqual(sslFiles, { ca: "/etc/ca.pem", cert: "/etc/c.pem", key: "/etc/k.pem" })
    assert.strictEqual(options.ssl?.mode, "verify-identity")
    assert.deepStrictEqual(options.ssl?.fingerprints, [`AB:${"CD".repeat(31)}`])
    assert.strictEqual(options.ssl?.minVersion, "TLSv1.2")
    assert.strictEqual(options.ssl?.maxVersion, "TLSv1.3")
    assert.deepStrictEqual(options.compression, { algorithms: ["zstd", "zlib"], zstdLevel: 7 })
    assert.strictEqual(Duration.toMillis(options.connectTimeout as Duration.Duration), 3000)
    assert.strictEqual(options.allowPublicKeyRetrieval, true)
  })

  it("reads the socket, pool and timeout parameters", () => {
    const { options } = parsed(
      "mysql://u@localhost/db?socket=/run/mysqld/mysqld.sock&min-connections=2&max-connections=20" +
        "&acquire-timeout=500%20millis&idle-timeout=120&max-lifetime=1800&validate-after=5" +
        "&heartbeat-interval=false&reset-on-release=1&read-timeout=30&statement-timeout=10&multi-statements=off"
    )
    assert.strictEqual(options.socketPath, "/run/mysqld/mysqld.sock")
    assert.strictEqual(options.minConnections, 2)
    assert.strictEqual(options.maxConnections, 20)
    assert.strictEqual(Duration.toMillis(options.acquireTimeout as Duration.Duration), 500)
    assert.strictEqual(Duration.toMillis(options.idleTimeout as Duration.Duration), 120_000)
    assert.strictEqual(Duration.toMillis(options.maxLifetime as Duration.Duration), 1_800_000)
    assert.strictEqual(options.heartbeatInterval, false)
    assert.strictEqual(options.resetOnRelease, true)
    assert.strictEqual(Duration.toMillis(options.statementTimeout as Duration.Duration), 10_000)
    assert.strictEqual(options.multipleStatements, false)
  })

  it("reads busy-poll, a duration below a millisecond", () => {
    const { options } = parsed("mysql://u@localhost/db?busy-poll=200%20micros")
    assert.strictEqual(Duration.toMicros(options.busyPoll as Duration.Duration), 200)
    assert.include(refusal("mysql://u@localhost/db?busy-poll=soon").message, "busy-poll")
  })

  it("refuses a bad URL or parameter, naming it, and never repeats the password", () => {
    assert.include(refusal("not a url").message, "url: is not a URL")
    assert.include(refusal("postgres://u:secret@h/db").message, "scheme postgres:")
    assert.include(refusal("mysql://u:secret@h/db?ssl-mode=sometimes").message, "url parameter ssl-mode: sometimes")
    assert.include(refusal("mysql://u:secret@h/db?zstd-compression-level=40").message, "zstd-compression-level")
    assert.include(refusal("mysql://u:secret@h/db?connect-timeout=soon").message, "connect-timeout")
    assert.include(refusal("mysql://u:secret@h/db?tls-version=TLSv1.0").message, "tls-version: TLSv1.0")
    assert.include(refusal("mysql://u:secret@h/db?ssl-fingerprint=abc").message, "ssl-fingerprint")
    assert.include(refusal("mysql://u:secret@h/db?sslmode=required").message, "url parameter sslmode: unknown")
    assert.include(refusal("mysql://u:%ZZ@h/db").message, "url.password")
    for (const url of ["mysql://u:secret@h/db?ssl-mode=x", "mysql://u:secret@h/db?x=1", "mysql://u:%ZZsecret@h"]) {
      assert.notInclude(refusal(url).message, "secret")
    }
  })
})

describe("Url.parse refuses a URL that overrides itself", () => {
  it("a parameter given twice, instead of letting the last one win", () => {
    const error = refusal("mysql://u:secret@h/db?ssl-mode=VERIFY_IDENTITY&ssl-mode=DISABLED")
    assert.strictEqual(error.option, "url parameter ssl-mode")
    assert.include(error.message, "more than once")
  })

  it("a fragment, which the URL parser drops with what follows it", () => {
    assert.include(refusal("mysql://u:secret@h/db?ssl-mode=REQUIRED#ssl-mode=DISABLED").message, "fragment")
    assert.include(refusal("mysql://u:pa#ss@h/db").message, "%23")
  })

  it("an unencoded @ in the password, saying how to encode it", () => {
    const error = refusal("mysql://u:p@ss@h/db")
    assert.include(error.message, "%40")
    assert.notInclude(error.message, "p@ss")
    assert.include(refusal("mysql://u:p@ss/x@h/db").message, "%40")
  })

  it("a duration no timer can wait", () => {
    assert.include(
      refusal("mysql://u@h/db?connect-timeout=Infinity").message,
      "url parameter connect-timeout: Infinity"
    )
    assert.include(refusal("mysql://u@h/db?read-timeout=9999999999").message, "2147483647 ms")
    assert.include(refusal("mysql://u@h/db?heartbeat-interval=Infinity").message, "heartbeat-interval")
  })
})

describe("MysqlClient.optionsFromUrl", () => {
  it.effect("a CA file that cannot be read keeps its path and the system's reason", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(MysqlClient.optionsFromUrl("mysql://u@h/db?ssl-ca=/nonexistent/ca.pem"))
      assert.strictEqual(error.option, "ssl-ca")
      assert.include(error.message, "/nonexistent/ca.pem")
      assert.include(error.message, "ENOENT")
    })
  )
})

describe("ClientConfig", () => {
  const read = (env: Record<string, string>) => ClientConfig.settings().parse(ConfigProvider.fromEnv({ env }))

  it.effect("reads MYSQL_URL, and variables override it", () =>
    Effect.gen(function* () {
      const { options, sslFiles } = yield* read({
        MYSQL_URL: "mysql://app:from-url@db:3306/shop?ssl-mode=REQUIRED",
        MYSQL_PASSWORD: "from-env",
        MYSQL_SSL_MODE: "VERIFY_CA",
        MYSQL_SSL_CA: "/etc/ca.pem",
        MYSQL_MAX_CONNECTIONS: "4"
      })
      assert.strictEqual(options.user, "app")
      assert.strictEqual(options.host, "db")
      assert.strictEqual(Redacted.value(options.password as Redacted.Redacted<string>), "from-env")
      assert.strictEqual(options.ssl?.mode, "verify-ca")
      assert.strictEqual(options.maxConnections, 4)
      assert.deepStrictEqual(sslFiles, { ca: "/etc/ca.pem" })
    })
  )

  it.effect("reads separate variables without a URL", () =>
    Effect.gen(function* () {
      const { options } = yield* read({ MYSQL_HOST: "h", MYSQL_PORT: "3310", MYSQL_USER: "u", MYSQL_DATABASE: "d" })
      assert.deepStrictEqual(
        { host: options.host, port: options.port, user: options.user, database: options.database },
        { host: "h", port: 3310, user: "u", database: "d" }
      )
    })
  )

  it.effect("a bad value fails naming the variable, without the secrets", () =>
    Effect.gen(function* () {
      const badMode = yield* Effect.flip(read({ MYSQL_USER: "u", MYSQL_SSL_MODE: "maybe" }))
      assert.include(badMode.message, "MYSQL_SSL_MODE: maybe")
      const badUrl = yield* Effect.flip(read({ MYSQL_URL: "mysql://u:hunter2@h/db?ssl-mode=x" }))
      assert.include(badUrl.message, "MYSQL_URL")
      assert.notInclude(badUrl.message, "hunter2")
      const badPort = yield* Effect.flip(read({ MYSQL_PORT: "99999" }))
      assert.include(badPort.message, "MYSQL_PORT")
    })
  )

  it.effect("with nothing set names the variables to set", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(read({}))
      assert.include(error.message, "MYSQL_URL")
      assert.include(error.message, "MYSQL_USER")
      const hostOnly = yield* Effect.flip(read({ MYSQL_HOST: "db" }))
      assert.include(hostOnly.message, "MYSQL_USER")
    })
  )
})

describe("host lists", () => {
  it("a URL with several hosts gives the hosts option, IPv6 and ports kept", () => {
    const { options } = parsed("mysql://app:secret@h1:3306,h2:3307,[::1]/shop?host-order=random")
    assert.deepStrictEqual(options.hosts, [{ host: "h1", port: 3306 }, { host: "h2", port: 3307 }, { host: "::1" }])
    assert.isUndefined(options.host)
    assert.isUndefined(options.port)
    assert.strictEqual(options.user, "app")
    assert.strictEqual(Redacted.value(options.password as Redacted.Redacted<string>), "secret")
    assert.strictEqual(options.database, "shop")
    assert.strictEqual(options.hostOrder, "random")
  })

  it("reads target-session-attrs, and a host list without user information", () => {
    const { options } = parsed("mariadb://h1,h2/db?target-session-attrs=READ-WRITE")
    assert.deepStrictEqual(options.hosts, [{ host: "h1" }, { host: "h2" }])
    assert.strictEqual(options.targetSessionAttrs, "read-write")
  })

  it("reads the host checks and the replica reads' settings", () => {
    const { options } = parsed(
      "mysql://h1,h2/db?host-check-interval=0.5&host-check-timeout=1&max-replica-lag=10&read-your-writes=false&replica-wait-timeout=0.25"
    )
    assert.strictEqual(Duration.toMillis(Duration.fromInputUnsafe(options.hostCheckInterval!)), 500)
    assert.strictEqual(Duration.toMillis(Duration.fromInputUnsafe(options.hostCheckTimeout!)), 1000)
    const replicaReads = options.replicaReads!
    assert.strictEqual(Duration.toMillis(Duration.fromInputUnsafe(replicaReads.maxLag as Duration.Input)), 10_000)
    assert.strictEqual(replicaReads.readYourWrites, false)
    assert.strictEqual(Duration.toMillis(Duration.fromInputUnsafe(replicaReads.waitTimeout!)), 250)
    assert.strictEqual(parsed("mysql://h1,h2/db?max-replica-lag=off").options.replicaReads?.maxLag, false)
    assert.include(refusal("mysql://h1,h2/db?max-replica-lag=soon").message, "url parameter max-replica-lag")
  })

  it("refuses a bad entry, order or target, naming it, without the password", () => {
    const empty = refusal("mysql://u:secret@h1,,h2/db")
    assert.strictEqual(empty.option, "url.hosts")
    assert.include(empty.message, "is empty")
    assert.include(refusal("mysql://u:secret@h1,h2:99999/db").message, "url.hosts: h2:99999 has no TCP port")
    assert.include(refusal("mysql://u@h1,h2/db?host-order=roundrobin").message, "url parameter host-order: roundrobin")
    assert.include(refusal("mysql://u@h1,h2/db?target-session-attrs=standby").message, "target-session-attrs")
    for (const url of ["mysql://u:secret@h1,,h2/db", "mysql://u:secret@h1,h2/db?host-order=x"]) {
      assert.notInclude(refusal(url).message, "secret")
    }
    // A second @ stays refused before the host list is read.
    assert.include(refusal("mysql://u:p@ss@h1,h2/db").message, "%40")
  })
})

describe("ClientConfig host lists", () => {
  const read = (env: Record<string, string>) => ClientConfig.settings().parse(ConfigProvider.fromEnv({ env }))

  it.effect("reads MYSQL_HOSTS, MYSQL_HOST_ORDER and MYSQL_TARGET_SESSION_ATTRS", () =>
    Effect.gen(function* () {
      const { options } = yield* read({
        MYSQL_HOSTS: "h1:3306,h2",
        MYSQL_USER: "u",
        MYSQL_HOST_ORDER: "random",
        MYSQL_TARGET_SESSION_ATTRS: "prefer-replica"
      })
      assert.deepStrictEqual(options.hosts, [{ host: "h1", port: 3306 }, { host: "h2" }])
      assert.strictEqual(options.hostOrder, "random")
      assert.strictEqual(options.targetSessionAttrs, "prefer-replica")
    })
  )

  it.effect("MYSQL_HOSTS replaces the URL's host, and MYSQL_HOST the URL's host list", () =>
    Effect.gen(function* () {
      const hosts = yield* read({ MYSQL_URL: "mysql://u@db:3310/shop", MYSQL_HOSTS: "a,b:3307" })
      assert.deepStrictEqual(hosts.options.hosts, [{ host: "a" }, { host: "b", port: 3307 }])
      assert.isUndefined(hosts.options.host)
      assert.isUndefined(hosts.options.port)
      const host = yield* read({ MYSQL_URL: "mysql://u@a,b/shop", MYSQL_HOST: "c" })
      assert.isUndefined(host.options.hosts)
      assert.strictEqual(host.options.host, "c")
    })
  )

  it.effect("a bad MYSQL_HOSTS entry fails naming the variable", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(read({ MYSQL_USER: "u", MYSQL_HOSTS: "a,b:0" }))
      assert.include(error.message, "MYSQL_HOSTS: b:0 has no TCP port")
    })
  )
})
