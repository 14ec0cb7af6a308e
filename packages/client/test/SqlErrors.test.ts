// Our errors as effect/sql reasons: errno first, SQLSTATE second, the original as cause.
import { assert, describe, it } from "@effect/vitest"
import { TimeoutError, TransportError } from "@effect-mysql/transport"
import {
  AuthenticationError,
  HostRoleError,
  HostsUnavailableError,
  PoolTimeoutError,
  ServerError,
  StatementTimeoutError
} from "../src/index.ts"
import { classify, duplicateKeyName } from "../src/internal/SqlErrors.ts"

const server = (errno: number, sqlState: string, code?: string, message = "m") =>
  new ServerError({ errno, sqlState, message, ...(code === undefined ? {} : { code }) })

describe("classify", () => {
  const cases: ReadonlyArray<readonly [ServerError, string]> = [
    [server(1064, "42000", "ER_PARSE_ERROR"), "SqlSyntaxError"],
    [server(1142, "42000", "ER_TABLEACCESS_DENIED_ERROR"), "AuthorizationError"],
    [server(1044, "42000"), "AuthorizationError"],
    [server(1146, "42S02", "ER_NO_SUCH_TABLE"), "SqlSyntaxError"],
    [server(1054, "42S22"), "SqlSyntaxError"],
    [server(1045, "28000"), "AuthenticationError"],
    [server(1048, "23000", "ER_BAD_NULL_ERROR"), "ConstraintError"],
    [server(1452, "23000"), "ConstraintError"],
    [server(4025, "23000", "ER_CONSTRAINT_FAILED"), "ConstraintError"],
    [server(3819, "HY000", "ER_CHECK_CONSTRAINT_VIOLATED"), "ConstraintError"],
    [server(1213, "40001"), "DeadlockError"],
    [server(1205, "HY000"), "LockTimeoutError"],
    [server(3572, "HY000", "ER_LOCK_NOWAIT"), "LockTimeoutError"],
    [server(1969, "70100", "ER_STATEMENT_TIMEOUT"), "StatementTimeoutError"],
    [server(3024, "HY000", "ER_QUERY_TIMEOUT"), "StatementTimeoutError"],
    [server(1040, "08004"), "ConnectionError"],
    [server(1927, "70100", "ER_CONNECTION_KILLED"), "ConnectionError"],
    [server(4031, "HY000", "ER_CLIENT_INTERACTION_TIMEOUT"), "ConnectionError"],
    [server(1290, "HY000"), "AuthorizationError"],
    [server(1792, "25006"), "AuthorizationError"],
    // 4031 on MariaDB is a trigger error, not a timeout: the flavor-resolved name decides.
    [server(4031, "HY000", "ER_REFERENCED_TRG_DOES_NOT_EXIST"), "UnknownError"],
    [server(1317, "70100", "ER_QUERY_INTERRUPTED"), "StatementTimeoutError"],
    [server(9999, "08S01"), "ConnectionError"],
    [server(9999, "42000"), "SqlSyntaxError"],
    [server(9999, "HY000"), "UnknownError"]
  ]
  for (const [error, reason] of cases) {
    it(`${error.errno} ${error.sqlState} ${error.code ?? ""} is ${reason}`, () => {
      const classified = classify(error, "execute")
      assert.strictEqual(classified._tag, reason)
      assert.strictEqual(classified.cause, error)
      assert.strictEqual(classified.operation, "execute")
    })
  }

  it("an unknown database is a ConnectionError when opening a connection, a SqlSyntaxError in a statement", () => {
    const unknown = server(1049, "42000", "ER_BAD_DB_ERROR", "Unknown database 'shop'")
    assert.strictEqual(classify(unknown, "connect")._tag, "ConnectionError")
    assert.strictEqual(classify(unknown, "acquire")._tag, "ConnectionError")
    assert.strictEqual(classify(unknown, "executeUnprepared")._tag, "SqlSyntaxError")
  })

  it("ER_DUP_ENTRY is a UniqueViolation naming the key", () => {
    const mariadb = server(1062, "23000", "ER_DUP_ENTRY", "Duplicate entry 'a@b' for key 'email_key'")
    const reason = classify(mariadb, "execute")
    assert.strictEqual(reason._tag, "UniqueViolation")
    if (reason._tag === "UniqueViolation") assert.strictEqual(reason.constraint, "email_key")
  })

  it("reads the key name from the end, whatever the entry holds", () => {
    assert.strictEqual(duplicateKeyName("Duplicate entry 'a' for key 'users.email'"), "users.email")
    assert.strictEqual(duplicateKeyName("Duplicate entry 'x' for key 'y' for key 'PRIMARY'"), "PRIMARY")
    assert.strictEqual(duplicateKeyName("Duplicate entry '1-2' for key 'it''s'"), "it's")
    assert.strictEqual(duplicateKeyName("Duplicate entry '1' for key 2"), "2")
    assert.strictEqual(duplicateKeyName("something else"), "unknown")
  })

  it("client-side failures", () => {
    assert.strictEqual(
      classify(new TransportError({ reason: "closed", message: "x" }), "execute")._tag,
      "ConnectionError"
    )
    assert.strictEqual(
      classify(new TimeoutError({ operation: "read", timeoutMillis: 5, message: "x" }), "execute")._tag,
      "ConnectionError"
    )
    assert.strictEqual(
      classify(new AuthenticationError({ user: "u", message: "x" }), "connect")._tag,
      "AuthenticationError"
    )
    assert.strictEqual(
      classify(new StatementTimeoutError({ timeoutMillis: 5, message: "x" }), "execute")._tag,
      "StatementTimeoutError"
    )
    assert.strictEqual(
      classify(new PoolTimeoutError({ timeoutMillis: 5, size: 1, borrowed: 1, waiting: 0, message: "x" }), "acquire")
        ._tag,
      "ConnectionError"
    )
    const refused = new HostRoleError({ host: "db1:3306", target: "read-write", reason: "read-only", message: "x" })
    assert.strictEqual(classify(refused, "connect")._tag, "ConnectionError")
    assert.strictEqual(
      classify(new HostsUnavailableError({ failures: [{ host: "db1:3306", error: refused }], message: "x" }), "acquire")
        ._tag,
      "ConnectionError"
    )
    assert.strictEqual(classify(new Error("boom"), "execute")._tag, "UnknownError")
  })
})
