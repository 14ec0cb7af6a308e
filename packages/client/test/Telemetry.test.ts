import { assert, describe, it } from "@effect/vitest"
import { TimeoutError } from "@effect-mysql/transport"
import { ServerError } from "../src/index.ts"
import { toSqlError } from "../src/internal/SqlErrors.ts"
import { errorAttributes, operationName } from "../src/internal/Telemetry.ts"

describe("operationName", () => {
  it("is the first keyword, upper-cased, after blanks, parentheses and comments", () => {
    assert.strictEqual(operationName("select 1"), "SELECT")
    assert.strictEqual(operationName("  \n(SELECT 1) UNION (SELECT 2)"), "SELECT")
    assert.strictEqual(operationName("/* app=shop */ INSERT INTO t VALUES (?)"), "INSERT")
    assert.strictEqual(operationName("-- note\n# other\nCALL p()"), "CALL")
    assert.strictEqual(operationName("INSERT INTO t VALUES (1); SELECT 1"), "INSERT")
    assert.isUndefined(operationName(""))
    assert.isUndefined(operationName("?"))
  })
})

describe("errorAttributes", () => {
  it("names a server's refusal by its errno, anything else by its tag", () => {
    const server = new ServerError({ errno: 1146, sqlState: "42S02", message: "Table 'test.t' doesn't exist" })
    assert.deepStrictEqual(errorAttributes(toSqlError(server, "execute")), {
      "error.type": "1146",
      "db.response.status_code": "1146"
    })
    const timeout = new TimeoutError({ operation: "read", timeoutMillis: 5, message: "no answer" })
    assert.deepStrictEqual(errorAttributes(timeout), { "error.type": "TimeoutError" })
    assert.deepStrictEqual(errorAttributes(undefined), { "error.type": "_OTHER" })
  })
})
