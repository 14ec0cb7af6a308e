/**
 * mysql_clear_password: the password in clear, NUL-terminated (for PAM and LDAP accounts). Only
 * ever send it to a server whose certificate was verified, or over a Unix socket.
 *
 * MySQL: https://dev.mysql.com/doc/refman/8.4/en/cleartext-pluggable-authentication.html
 * MariaDB: https://mariadb.com/kb/en/authentication-plugin-pam/#mysql_clear_password
 *
 * Pure; no IO.
 */
import { concatBytes } from "../Bytes.ts"
import { passwordBytes } from "./internal/crypto.ts"

export const pluginName = "mysql_clear_password"

/** The auth response: password <concat> NUL. */
export const response = (password: string | Uint8Array): Uint8Array =>
  concatBytes([passwordBytes(password), Uint8Array.of(0)])
