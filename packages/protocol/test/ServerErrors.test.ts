import { describe, expect, it } from "@effect/vitest"
import { MariaDbErrorCode, MySqlErrorCode, ServerErrorCode, serverErrorName } from "../src/ServerErrors.ts"

describe("server errors", () => {
  it("names the common errors", () => {
    expect(serverErrorName(1045)).toBe("ER_ACCESS_DENIED_ERROR")
    expect(serverErrorName(1062)).toBe("ER_DUP_ENTRY")
    expect(serverErrorName(1213)).toBe("ER_LOCK_DEADLOCK")
    expect(ServerErrorCode.ER_LOCK_WAIT_TIMEOUT).toBe(1205)
    expect(ServerErrorCode.ER_NO_REFERENCED_ROW_2).toBe(1452)
    expect(serverErrorName(99999)).toBe(undefined)
  })
  it("flavour-specific numbers", () => {
    expect(serverErrorName(1969)).toBe("ER_STATEMENT_TIMEOUT")
    expect(serverErrorName(3024, "mysql")).toBe("ER_QUERY_TIMEOUT")
    expect(serverErrorName(3024, "mariadb")).toBe(undefined)
    expect(serverErrorName(4151, "mariadb")).toBe("ER_ACCOUNT_HAS_BEEN_LOCKED")
    expect(MySqlErrorCode.ER_SECURE_TRANSPORT_REQUIRED).toBe(3159)
    expect(MariaDbErrorCode.ER_CONSTRAINT_FAILED).toBe(4025)
  })
  it("no number is used twice within a table, and the shared table does not overlap the others", () => {
    for (const table of [ServerErrorCode, MariaDbErrorCode, MySqlErrorCode]) {
      const codes = Object.values(table)
      expect(new Set(codes).size).toBe(codes.length)
    }
    const shared = new Set<number>(Object.values(ServerErrorCode))
    for (const code of [...Object.values(MariaDbErrorCode), ...Object.values(MySqlErrorCode)]) {
      expect(shared.has(code)).toBe(false)
    }
    expect(
      Object.keys(ServerErrorCode).length + Object.keys(MariaDbErrorCode).length + Object.keys(MySqlErrorCode).length
    ).toBeGreaterThan(150)
  })
})
