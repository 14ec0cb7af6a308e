/**
 * The TLS upgrade through node:tls, over any node:stream duplex: a node:net socket on Node and
 * Bun, a native Deno connection wrapped as a duplex on Deno when `Deno.startTls` cannot do the job.
 */
import type { Buffer } from "node:buffer"
import type { Duplex } from "node:stream"
import * as Tls from "node:tls"
import { Effect, Redacted } from "effect"
import { type TlsSettings, verificationOf } from "../SslPolicy.ts"
import type { TlsError } from "../TlsError.ts"
import type { TlsInfo } from "../Transport.ts"
import { checkClientKey } from "./ClientKey.ts"
import { peerCertificate, verifyPeer } from "./PeerVerification.ts"
import { StreamChannel, type StreamChannelOptions } from "./StreamChannel.ts"
import { fromRuntimeError, tlsError } from "./TlsFailure.ts"
import { sessionKey, type TlsSessionCache, type VerifiedPeer } from "./TlsSessionCache.ts"

const defaultCipherFamilies = () => {
  const names = Tls.DEFAULT_CIPHERS.split(":")
  return {
    tls12: names.filter((name) => !name.startsWith("TLS_")).join(":"),
    tls13: names.filter((name) => name.startsWith("TLS_")).join(":")
  }
}

/**
 * node:tls takes one cipher string for both versions and drops the TLS 1.3 suites when none is
 * named in it, so a setting for one version keeps the defaults of the other.
 */
const cipherString = (settings: TlsSettings) => {
  if (settings.ciphers === undefined && settings.ciphersuites === undefined) return undefined
  const defaults = defaultCipherFamilies()
  return [settings.ciphersuites ?? defaults.tls13, settings.ciphers ?? defaults.tls12].join(":")
}

export const connectionOptions = (socket: Duplex, settings: TlsSettings): Tls.ConnectionOptions => {
  const ciphers = cipherString(settings)
  return {
    socket,
    // We verify after the handshake (see PeerVerification) so that every runtime reports alike.
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
    ...(settings.ca === undefined ? {} : { ca: [...settings.ca] }),
    ...(settings.cert === undefined ? {} : { cert: settings.cert }),
    ...(settings.key === undefined ? {} : { key: Redacted.value(settings.key) }),
    ...(settings.passphrase === undefined ? {} : { passphrase: Redacted.value(settings.passphrase) }),
    ...(settings.servername === undefined ? {} : { servername: settings.servername }),
    ...(settings.minVersion === undefined ? {} : { minVersion: settings.minVersion }),
    ...(settings.maxVersion === undefined ? {} : { maxVersion: settings.maxVersion }),
    ...(ciphers === undefined ? {} : { ciphers }),
    ...(settings.crl === undefined ? {} : { crl: [...settings.crl] })
  }
}

export interface Upgraded {
  readonly channel: StreamChannel
  readonly info: TlsInfo
}

/** Where the sessions of a connection are kept, and the route they are kept under. */
export interface Resumption {
  readonly cache: TlsSessionCache
  /**
   * How the server is reached, e.g. `Tcp:db.internal:3306`, as the carrier of the connection
   * reaches it: a cache belongs to one carrier (a layer, an SSH tunnel), since two SSH servers may
   * each reach a different `localhost:3306`.
   */
  readonly route: string
}

/**
 * Sessions arrive in 'session' events, TLS 1.3 tickets after the handshake and often more than
 * one: each replaces the last, but only once the peer has passed the checks.
 */
const recordSessions = (tls: Tls.TLSSocket, cache: TlsSessionCache, key: string) => {
  let pending: Buffer | undefined
  let peer: VerifiedPeer | undefined
  tls.on("session", (session: Buffer) => {
    if (peer === undefined) pending = session
    else cache.set(key, { session, peer })
  })
  return (verified: VerifiedPeer) => {
    peer = verified
    if (pending !== undefined) cache.set(key, { session: pending, peer })
    pending = undefined
  }
}

/** What a full handshake showed of the server. */
const presentedPeer = (tls: Tls.TLSSocket): VerifiedPeer => ({
  authorized: tls.authorized,
  authorizationError: tls.authorizationError === undefined ? undefined : String(tls.authorizationError),
  certificate: tls.getPeerCertificate()
})

/**
 * Runs the handshake over `socket` and the checks `settings` ask for; nothing is written before
 * they pass. With `resumption`, the session of an earlier connection with the same route and
 * settings is offered, and a resumed handshake is checked against the certificate that
 * connection verified.
 */
export const upgrade = (
  socket: Duplex,
  settings: TlsSettings,
  channelOptions: Omit<StreamChannelOptions, "tls">,
  resumption?: Resumption
): Effect.Effect<Upgraded, TlsError> =>
  Effect.callback((resume) => {
    const keyProblem = checkClientKey(settings)
    if (keyProblem !== undefined) return resume(Effect.fail(keyProblem))
    const store =
      settings.sessionReuse && resumption !== undefined
        ? { cache: resumption.cache, key: sessionKey(resumption.route, settings) }
        : undefined
    const offered = store?.cache.get(store.key, new Date())
    let tls: Tls.TLSSocket
    try {
      tls = Tls.connect({
        ...connectionOptions(socket, settings),
        ...(offered === undefined ? {} : { session: offered.session })
      })
    } catch (error) {
      // Bad PEM text or a wrong passphrase throw before any byte is sent.
      return resume(Effect.fail(fromRuntimeError(error)))
    }
    const verified = store === undefined ? undefined : recordSessions(tls, store.cache, store.key)
    // A session that led to a failed handshake is not offered again.
    const forget = () => {
      if (offered !== undefined) store?.cache.delete(store.key)
    }
    const done = () => {
      tls.off("secureConnect", onSecure)
      tls.off("error", onError)
      tls.off("close", onClose)
    }
    const onSecure = () => {
      done()
      const reused = offered !== undefined && tls.isSessionReused()
      const peer = reused ? offered.peer : presentedPeer(tls)
      const failure = verifyPeer(settings, {
        ...peer,
        checkIdentity: (host) => Tls.checkServerIdentity(host, peer.certificate),
        now: new Date()
      })
      if (failure !== undefined) {
        forget()
        tls.removeAllListeners("session")
        tls.on("error", () => {})
        tls.destroy()
        return resume(Effect.fail(failure))
      }
      verified?.(peer)
      const channel = new StreamChannel(tls, { ...channelOptions, tls: true })
      resume(
        Effect.succeed({
          channel,
          info: {
            version: tls.getProtocol() ?? undefined,
            cipher: tls.getCipher()?.name,
            peerCertificate: peerCertificate(peer.certificate),
            verification: verificationOf(settings),
            implementation: "node:tls",
            sessionReused: reused
          }
        })
      )
    }
    const onError = (error: unknown) => {
      done()
      forget()
      tls.on("error", () => {})
      tls.destroy()
      resume(Effect.fail(fromRuntimeError(error)))
    }
    const onClose = () => {
      done()
      forget()
      resume(Effect.fail(tlsError("handshake-failed", "the server closed the connection during the TLS handshake")))
    }
    tls.on("secureConnect", onSecure)
    tls.on("error", onError)
    tls.on("close", onClose)
    return Effect.sync(() => {
      done()
      tls.on("error", () => {})
      tls.destroy()
    })
  })
