/**
 * What a runtime's TLS stack cannot do. A setting it would silently drop is refused before the
 * handshake instead: a connection that quietly ignores a CRL or a cipher choice is less safe than
 * the user asked for, and nothing would tell them.
 */
import { SslConfigError } from "../SslConfigError.ts"
import type { TlsSettings } from "../SslPolicy.ts"

export type TlsSetting =
  | "ca"
  | "cert"
  | "fingerprints"
  | "minVersion"
  | "maxVersion"
  | "crl"
  | "ciphers"
  | "ciphersuites"

/** The settings a runtime ignores, each with the reason, for the message. */
export type TlsLimits = Partial<Record<TlsSetting, string>>

const alternative: Record<TlsSetting, string> = {
  ca: "leave ssl.ca out and give the server a certificate from a publicly trusted CA, or run on Node, Deno or Bun",
  cert: "use an account without REQUIRE X509, or run on Node, Deno or Bun",
  fingerprints: "leave ssl.fingerprints out and use verify-identity, or run on Node, Deno or Bun",
  minVersion: "leave ssl.minVersion out to use the runtime's defaults, or run on Node, Deno or Bun",
  maxVersion: "leave ssl.maxVersion out to use the runtime's defaults, or run on Node, Deno or Bun",
  crl: "run on Node or Bun, or pin the server's certificate with ssl.fingerprints instead",
  ciphers: "leave ssl.ciphers out to use the runtime's defaults, or run on Node or Bun",
  ciphersuites: "leave ssl.ciphersuites out to use the runtime's defaults, or run on Node"
}

/** What node:tls ignores on each runtime that has it (Deno's is rustls underneath, Bun's BoringSSL). */
export const nodeTlsLimits: Record<"Node" | "Deno" | "Bun", TlsLimits> = {
  Node: {},
  Deno: {
    crl: "neither Deno.startTls nor Deno's node:tls checks certificate revocation lists",
    ciphers: "Deno's TLS stack (rustls) does not let ciphers be chosen",
    ciphersuites: "Deno's TLS stack (rustls) does not let TLS 1.3 suites be chosen"
  },
  Bun: { ciphersuites: "its TLS stack (BoringSSL) does not let TLS 1.3 suites be chosen" }
}

/** Pinned fingerprints are always a list, empty when none were given. */
const isGiven = (value: unknown) => value !== undefined && !(Array.isArray(value) && value.length === 0)

export const refuseUnsupported = (
  runtime: string,
  limits: TlsLimits,
  settings: TlsSettings
): SslConfigError | undefined => {
  for (const setting of Object.keys(limits) as ReadonlyArray<TlsSetting>) {
    if (isGiven(settings[setting])) {
      return new SslConfigError({
        message: `ssl.${setting} cannot be honoured on ${runtime}: ${limits[setting]}; ${alternative[setting]}`
      })
    }
  }
  return undefined
}
