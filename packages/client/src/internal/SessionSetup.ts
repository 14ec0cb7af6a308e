/**
 * What a session gets right after login and again after every reset (COM_RESET_CONNECTION and
 * COM_CHANGE_USER return it to the server's defaults): with `trackGtids`, the session tracking that
 * makes the server report each commit's GTID; `sessionVariables` in one `SET SESSION`; then each
 * `initSql` statement in order.
 */
import { Effect } from "effect"
import type { MysqlError } from "../Errors.ts"
import type { ConnectionCore } from "./ConnectionCore.ts"
import { textCommand } from "./TextCommands.ts"

/** The statement that makes the server put each commit's GTID in its OK packet. */
const gtidTracking = {
  mariadb:
    "SET SESSION session_track_system_variables = CONCAT_WS(',', NULLIF(@@session.session_track_system_variables, ''), 'last_gtid')",
  mysql: "SET SESSION session_track_gtids = OWN_GTID"
} as const

export const setUpSession = (core: ConnectionCore): Effect.Effect<void, MysqlError> => {
  const { sessionVariables, initSql, trackGtids } = core.options
  if (!trackGtids && sessionVariables.length === 0 && initSql.length === 0) return Effect.void
  const tracking = trackGtids ? [gtidTracking[core.session.serverVersion.flavor]] : []
  // The values are written in as literals, escaped for the session's sql_mode.
  const set =
    sessionVariables.length === 0
      ? Effect.void
      : textCommand(core, `SET SESSION ${sessionVariables.map(([name]) => `${name} = ?`).join(", ")}`, {
          params: sessionVariables.map(([, value]) => value)
        })
  const run = (statements: ReadonlyArray<string>) =>
    Effect.forEach(statements, (sql) => textCommand(core, sql, undefined), { discard: true })
  return Effect.andThen(Effect.andThen(run(tracking), set), run(initSql))
}
