/**
 * The commands about the session rather than a statement: COM_PING, COM_INIT_DB,
 * COM_RESET_CONNECTION, COM_CHANGE_USER, COM_SET_OPTION and COM_QUIT. Each runs alone on the
 * connection; all but COM_CHANGE_USER and COM_QUIT are answered by one OK (or ERR).
 */
import {
  ComChangeUser,
  ComInitDb,
  ComPing,
  ComQuit,
  ComRegisterSlave,
  ComResetConnection,
  ComSetOption,
  decodeStatusResponse,
  SetOption
} from "@effect-mysql/protocol"
import { type Duration, Effect } from "effect"
import { passwordText } from "../ConnectionOptions.ts"
import type { MysqlError } from "../Errors.ts"
import type { ChangeUserOptions, ReplicaRegistration } from "../MysqlConnection.ts"
import type { ConnectionCore } from "./ConnectionCore.ts"
import { authenticate, connectAttributes, firstPlugin } from "./Handshake.ts"
import { serverError } from "./ServerErrors.ts"

/** A command whose whole answer is one OK (or ERR), not yet run. */
const simpleCommand = (core: ConnectionCore, payload: Uint8Array): Effect.Effect<void, MysqlError> => {
  const wire = core.wire
  const { capabilities, serverVersion } = core.session
  return Effect.gen(function* () {
    yield* wire.sendCommand(payload)
    const response = yield* Effect.fromResult(decodeStatusResponse(yield* wire.nextPayload, capabilities))
    // COM_SET_OPTION answers with an EOF where other commands answer with an OK.
    if (response._tag === "ErrPacket") return yield* serverError(response, serverVersion.flavor, undefined, undefined)
    core.statusFlags = response.statusFlags
  })
}

const simple = (core: ConnectionCore, payload: Uint8Array): Effect.Effect<void, MysqlError> =>
  core.run(simpleCommand(core, payload))

export const ping = (core: ConnectionCore): Effect.Effect<void, MysqlError> =>
  Effect.suspend(() => Effect.flatMap(Effect.fromResult(ComPing.encode({})), (payload) => simple(core, payload)))

export const pingWithin = (core: ConnectionCore, timeout: Duration.Input): Effect.Effect<void, MysqlError> =>
  Effect.flatMap(Effect.fromResult(ComPing.encode({})), (payload) =>
    core.run(core.wire.withReadTimeout(timeout, simpleCommand(core, payload)))
  )

export const useDatabase = (core: ConnectionCore, database: string): Effect.Effect<void, MysqlError> =>
  Effect.flatMap(Effect.fromResult(ComInitDb.encode({ schema: database })), (payload) => simple(core, payload))

export const resetConnection = (core: ConnectionCore): Effect.Effect<void, MysqlError> =>
  Effect.suspend(() =>
    Effect.flatMap(Effect.fromResult(ComResetConnection.encode({})), (payload) =>
      Effect.tap(simple(core, payload), () => Effect.sync(() => core.statements.clear()))
    )
  )

/** COM_REGISTER_SLAVE: announces the connection as replica `serverId` (what `SHOW SLAVE HOSTS` lists). */
export const registerReplica = (core: ConnectionCore, replica: ReplicaRegistration): Effect.Effect<void, MysqlError> =>
  Effect.suspend(() =>
    Effect.flatMap(
      Effect.fromResult(
        ComRegisterSlave.encode({
          serverId: replica.serverId,
          hostname: replica.hostname ?? "",
          user: replica.user ?? "",
          password: replica.password ?? "",
          port: replica.port ?? 0,
          replicationRank: 0,
          masterId: 0
        })
      ),
      (payload) => simple(core, payload)
    )
  )

// The password is taken before the command, once for the first answer and any auth switch after
// it, as in the handshake: a password Effect that fails leaves the connection as it was.
export const changeUser = (core: ConnectionCore, login: ChangeUserOptions): Effect.Effect<void, MysqlError> =>
  Effect.flatMap(passwordText(login.password, login.user), (password) => changeUserWith(core, login, password))

const changeUserWith = (
  core: ConnectionCore,
  login: ChangeUserOptions,
  password: string
): Effect.Effect<void, MysqlError> =>
  core.run(
    Effect.gen(function* () {
      const { capabilities, serverVersion, scramble, serverPlugin, authContext } = core.session
      const context = { ...authContext, user: login.user }
      const plugin = yield* firstPlugin(context, serverPlugin, password, scramble)
      const payload = yield* Effect.fromResult(
        ComChangeUser.encode(
          {
            username: login.user,
            authResponse: yield* plugin.initial,
            database: login.database ?? "",
            characterSet: core.options.collation,
            authPluginName: plugin.plugin,
            connectAttributes: connectAttributes(core.options)
          },
          capabilities
        )
      )
      yield* core.wire.sendCommand(payload)
      core.statements.clear()
      yield* authenticate(
        core.wire,
        { password2: undefined, password3: undefined, ...login, password },
        context,
        capabilities,
        plugin,
        serverVersion.flavor
      )
    })
  )

export const setMultipleStatements = (core: ConnectionCore, enabled: boolean): Effect.Effect<void, MysqlError> =>
  Effect.flatMap(
    Effect.fromResult(
      ComSetOption.encode({
        option: enabled ? SetOption.MYSQL_OPTION_MULTI_STATEMENTS_ON : SetOption.MYSQL_OPTION_MULTI_STATEMENTS_OFF
      })
    ),
    (payload) => simple(core, payload)
  )

/**
 * COM_QUIT, when the connection is still in a known state; the transport's scope closes the socket.
 * Bounded without a timeout of its own (which cost a seventh of a connect and close): a connection
 * in a known state has no write waiting, so COM_QUIT goes out at once, and the transport's close
 * destroys a socket whose peer takes nothing within a second.
 */
export const quit = (core: ConnectionCore): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (core.broken !== undefined) return core.stopWatching
    return core.locked(
      Effect.flatMap(Effect.fromResult(ComQuit.encode({})), (payload) => core.wire.sendCommand(payload)).pipe(
        Effect.andThen(core.session.transport.close),
        Effect.ignore
      )
    )
  })
