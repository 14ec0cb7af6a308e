/**
 * The tunnel's `hostKeys` / `knownHosts` options as the check ssh2 runs during the key exchange.
 * Without either, every key is refused as unknown: the error then shows the fingerprint to pin,
 * which is how a first connection learns it, never by trusting it.
 */
import { Effect } from "effect"
import * as HostKey from "../HostKey.ts"
import type { SshTunnelOptions } from "../SshTunnel.ts"
import type { HostKeyRefusal } from "./Session.ts"

export type HostKeyCheck = (key: Uint8Array) => Effect.Effect<HostKeyRefusal | undefined>

const optionOf = (options: SshTunnelOptions): HostKey.HostKeyOption | string => {
  if (options.hostKeys !== undefined && options.knownHosts !== undefined) {
    return "give hostKeys or knownHosts, not both"
  }
  return options.knownHosts === undefined
    ? { fingerprints: options.hostKeys ?? [] }
    : { knownHosts: options.knownHosts }
}

const refusalOf = (verdict: HostKey.Verdict): HostKeyRefusal | undefined =>
  verdict._tag === "Accepted"
    ? undefined
    : {
        reason: verdict._tag === "Unknown" ? "host-key-unknown" : "host-key-mismatch",
        message: verdict.message,
        fingerprint: verdict.fingerprint
      }

export const hostKeyCheck = (
  options: SshTunnelOptions,
  host: string,
  port: number
): Effect.Effect<HostKeyCheck, string> => {
  const option = optionOf(options)
  if (typeof option === "string") return Effect.fail(option)
  return Effect.map(
    Effect.mapError(HostKey.policy(option), (error) => error.message),
    (policy) => (key) => Effect.map(HostKey.verify(policy, host, port, key), refusalOf)
  )
}
