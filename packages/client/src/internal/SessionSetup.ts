/**
 * What a session gets right after login and again after every reset (COM_RESET_CONNECTION and
 * COM_CHANGE_USER return it to the server's defaults): `sessionVariables` in one `SET SESSION`,
 * then each `initSql` statement in order.
 */
import { Effect } from "effect"
import type { MysqlError } from "../Errors.ts"
import type { ConnectionCore } from "./ConnectionCore.ts"
import { textCommand } from "./TextCommands.ts"

export const setUpSession = (core: ConnectionCore): Effect.Effect<void, MysqlError> => {
  const { sessionVariables, initSql } = core.options
  if (sessionVariables.length === 0 && initSql.length === 0) return Effect.void
  // The values are written in as literals, escaped for the session's sql_mode.
  const set =
    sessionVariables.length === 0
      ? Effect.void
      : textCommand(core, `SET SESSION ${sessionVariables.map(([name]) => `${name} = ?`).join(", ")}`, {
          params: sessionVariables.map(([, value]) => value)
        })
  return Effect.andThen(
    set,
    Effect.forEach(initSql, (sql) => textCommand(core, sql, undefined), { discard: true })
  )
}
