/**
 * sha256_password: MySQL's older SHA-256 plugin (deprecated in 8.0, still present in 8.4).
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods_sha256_password_authentication.html
 *        https://dev.mysql.com/doc/refman/8.4/en/sha256-pluggable-authentication.html
 *
 * There is no challenge-response: the password itself travels.
 *   secure channel (TLS, Unix socket): password <concat> NUL, in clear;
 *   plaintext channel: RSA encryption of ((password <concat> NUL) XOR nonce) with the server's
 *   public key (configured, or fetched by sending [0x01]). MySQL >= 8.0.5 pads with RSA-OAEP
 *   (SHA-1); older servers used PKCS#1 v1.5, which WebCrypto does not offer on any runtime: asking
 *   for it fails with a `ProtocolError` that says so.
 *
 * Pure functions over WebCrypto; no IO.
 */
import type { Effect } from "effect"
import { concatBytes } from "../Bytes.ts"
import type { ProtocolError } from "../ProtocolError.ts"
import { passwordBytes, xorCyclic } from "./internal/crypto.ts"
import { type RsaPadding, rsaEncrypt } from "./internal/rsa.ts"

export type { RsaPadding } from "./internal/rsa.ts"

export const pluginName = "sha256_password"

/** Length of the server's nonce (without the trailing NUL an AuthSwitchRequest adds). */
export const NONCE_LENGTH = 20

/** Client → server: "send me your RSA public key" (the client's whole auth response). */
export const REQUEST_PUBLIC_KEY = 0x01

/** The response over a secure channel: password <concat> NUL. */
export const secureResponse = (password: string | Uint8Array): Uint8Array =>
  concatBytes([passwordBytes(password), Uint8Array.of(0)])

/**
 * The response over a plaintext channel: RSA encryption of (password <concat> NUL) XOR nonce.
 * `padding` defaults to "oaep"; "pkcs1-v1_5" (MySQL before 8.0.5) always fails, see the module doc.
 */
export const encryptPassword = (
  password: string | Uint8Array,
  nonce: Uint8Array,
  publicKeyPem: string | Uint8Array,
  padding: RsaPadding = "oaep"
): Effect.Effect<Uint8Array, ProtocolError> =>
  rsaEncrypt(
    pluginName,
    xorCyclic(secureResponse(password), nonce.length > NONCE_LENGTH ? nonce.subarray(0, NONCE_LENGTH) : nonce),
    publicKeyPem,
    padding
  )
