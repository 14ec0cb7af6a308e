/**
 * Capability flags: what client and server announce in the connection phase, and what the layout
 * of many packets depends on afterwards.
 *
 * MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/group__group__cs__capabilities__flags.html
 * MariaDB: https://mariadb.com/kb/en/connection/#capabilities
 *
 * MySQL's flags fill 32 bits. MariaDB reuses bit 0 (`CLIENT_LONG_PASSWORD`) as `CLIENT_MYSQL`: a
 * MariaDB server clears it in its greeting and then carries 32 more "extended" capability bits in
 * the last 4 of the greeting's 10 reserved bytes (and a MariaDB-aware client answers the same way
 * in the last 4 of the handshake response's 23 filler bytes). Since JavaScript bit operations are
 * 32-bit, the two halves are kept as two unsigned numbers in a `CapabilitySet`.
 *
 * Pure data: no IO.
 *
 * @module
 */

/** The `CLIENT_*` flags of MySQL 8/9 (lower 32 bits; MariaDB agrees on all but bit 0 and bit 29). */
export const Capability = {
  /** Old "long password" flag; MariaDB: `CLIENT_MYSQL`, set by MySQL peers, cleared by MariaDB servers. */
  CLIENT_LONG_PASSWORD: 0x00000001,
  /** MariaDB's name for bit 0: cleared by a MariaDB server to announce extended capabilities. */
  CLIENT_MYSQL: 0x00000001,
  /** Affected rows are "found" (matched) rows, not changed rows. */
  CLIENT_FOUND_ROWS: 0x00000002,
  /** Get all column flags. */
  CLIENT_LONG_FLAG: 0x00000004,
  /** A database name may follow in the handshake response. */
  CLIENT_CONNECT_WITH_DB: 0x00000008,
  /** Deprecated: don't allow database.table.column. */
  CLIENT_NO_SCHEMA: 0x00000010,
  /** Compression protocol (zlib). */
  CLIENT_COMPRESS: 0x00000020,
  /** Deprecated ODBC behaviour. */
  CLIENT_ODBC: 0x00000040,
  /** LOAD DATA LOCAL INFILE. */
  CLIENT_LOCAL_FILES: 0x00000080,
  /** Ignore spaces before '('. */
  CLIENT_IGNORE_SPACE: 0x00000100,
  /** The 4.1 protocol. Required. */
  CLIENT_PROTOCOL_41: 0x00000200,
  /** wait_timeout versus wait_interactive_timeout. */
  CLIENT_INTERACTIVE: 0x00000400,
  /** Switch to TLS after the SSL Request. */
  CLIENT_SSL: 0x00000800,
  /** Client only: don't issue SIGPIPE. */
  CLIENT_IGNORE_SIGPIPE: 0x00001000,
  /** Status flags in EOF and OK packets. */
  CLIENT_TRANSACTIONS: 0x00002000,
  /** Deprecated (old 4.1 protocol flag). */
  CLIENT_RESERVED: 0x00004000,
  /** 4.1 authentication (scramble of 20 bytes, 1-byte auth response length). Also `CLIENT_RESERVED2`. */
  CLIENT_SECURE_CONNECTION: 0x00008000,
  /** Multiple statements per COM_QUERY. */
  CLIENT_MULTI_STATEMENTS: 0x00010000,
  /** Multiple result sets. */
  CLIENT_MULTI_RESULTS: 0x00020000,
  /** Multiple result sets from COM_STMT_EXECUTE. */
  CLIENT_PS_MULTI_RESULTS: 0x00040000,
  /** Authentication plugins. */
  CLIENT_PLUGIN_AUTH: 0x00080000,
  /** Connection attributes in the handshake response. */
  CLIENT_CONNECT_ATTRS: 0x00100000,
  /** Length-encoded auth response in the handshake response (and longer than 255 bytes). */
  CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: 0x00200000,
  /** The client can handle expired passwords (sandbox mode). */
  CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS: 0x00400000,
  /** Session-state change information in OK packets. */
  CLIENT_SESSION_TRACK: 0x00800000,
  /** OK packets instead of EOF packets (result set terminators are OK packets with header 0xFE). */
  CLIENT_DEPRECATE_EOF: 0x01000000,
  /** MySQL: the result set metadata may be left out (`resultset_metadata` variable). */
  CLIENT_OPTIONAL_RESULTSET_METADATA: 0x02000000,
  /** MySQL: zstd compression, with a level byte in the handshake response. */
  CLIENT_ZSTD_COMPRESSION_ALGORITHM: 0x04000000,
  /** MySQL: query attributes in COM_QUERY and COM_STMT_EXECUTE. */
  CLIENT_QUERY_ATTRIBUTES: 0x08000000,
  /** MySQL: multi-factor authentication (AuthNextFactor). */
  MULTI_FACTOR_AUTHENTICATION: 0x10000000,
  /** MySQL: reserved for extending the 32-bit flags. */
  CLIENT_CAPABILITY_EXTENSION: 0x20000000,
  /** MariaDB's name for bit 29 (obsolete progress flag, now an extended capability). */
  CLIENT_PROGRESS_OBSOLETE: 0x20000000,
  /** Client only: verify the server certificate (deprecated in favour of ssl-mode). */
  CLIENT_SSL_VERIFY_SERVER_CERT: 0x40000000,
  /** Client only: don't reset options after a failed connect. */
  CLIENT_REMEMBER_OPTIONS: 0x80000000
} as const

/**
 * MariaDB extended capabilities (bits 32..63 of MariaDB's 64-bit capability set, numbered here from
 * bit 0 of the upper half).
 */
export const MariaDbCapability = {
  /** Progress reports: ERR packets with errno 0xFFFF during long statements. */
  MARIADB_CLIENT_PROGRESS: 0x00000001,
  /** COM_MULTI (removed in MariaDB 10.6; listed for completeness). */
  MARIADB_CLIENT_COM_MULTI: 0x00000002,
  /** Bulk operations: COM_STMT_BULK_EXECUTE. */
  MARIADB_CLIENT_STMT_BULK_OPERATIONS: 0x00000004,
  /** Extended type information in column definitions (data type name such as "json", format name). */
  MARIADB_CLIENT_EXTENDED_METADATA: 0x00000008,
  /** Result set metadata may be skipped when unchanged (prepared statements). */
  MARIADB_CLIENT_CACHE_METADATA: 0x00000010,
  /** Bulk operations return one result per parameter set. */
  MARIADB_CLIENT_BULK_UNIT_RESULTS: 0x00000020
} as const

/** Both halves of a capability set: MySQL's 32 bits and MariaDB's 32 extended bits. */
export interface CapabilitySet {
  /** `CLIENT_*` flags (unsigned 32-bit). */
  readonly capabilities: number
  /** MariaDB extended capabilities (unsigned 32-bit); 0 against MySQL. */
  readonly mariadbCapabilities: number
}

/** A capability set; `mariadbCapabilities` defaults to 0. */
export const makeCapabilitySet = (capabilities: number, mariadbCapabilities = 0): CapabilitySet => ({
  capabilities: capabilities >>> 0,
  mariadbCapabilities: mariadbCapabilities >>> 0
})

/** No capability at all. */
export const emptyCapabilitySet: CapabilitySet = makeCapabilitySet(0, 0)

/** `true` when every bit of `flag` is in `flags`. */
export const hasFlag = (flags: number, flag: number): boolean => (flags & flag) >>> 0 === flag >>> 0

/** `true` when the `CLIENT_*` `flag` is set. */
export const has = (set: CapabilitySet, flag: number): boolean => hasFlag(set.capabilities, flag)

/** `true` when the MariaDB extended `flag` is set. */
export const hasMariaDb = (set: CapabilitySet, flag: number): boolean => hasFlag(set.mariadbCapabilities, flag)

/**
 * What client and server share: the intersection of both sets. MariaDB extended bits count only when
 * both sides cleared `CLIENT_MYSQL`.
 */
export const intersect = (client: CapabilitySet, server: CapabilitySet): CapabilitySet => {
  const capabilities = (client.capabilities & server.capabilities) >>> 0
  const mariadb =
    (client.capabilities & Capability.CLIENT_MYSQL) === 0 && (server.capabilities & Capability.CLIENT_MYSQL) === 0
      ? (client.mariadbCapabilities & server.mariadbCapabilities) >>> 0
      : 0
  return { capabilities, mariadbCapabilities: mariadb }
}

/** Names of the `CLIENT_*` flags set in `flags`, for logs and messages. */
export const capabilityNames = (flags: number): ReadonlyArray<string> => {
  const out: Array<string> = []
  const seen = new Set<number>()
  for (const [name, bit] of Object.entries(Capability)) {
    if (seen.has(bit)) continue
    seen.add(bit)
    if ((flags & bit) !== 0) out.push(name)
  }
  return out
}

/** Names of the MariaDB extended flags set in `flags`. */
export const mariaDbCapabilityNames = (flags: number): ReadonlyArray<string> =>
  Object.entries(MariaDbCapability)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name)

// ---------------------------------------------------------------------------------------------
// Server version
// ---------------------------------------------------------------------------------------------

/** The prefix MariaDB puts in front of its version so that old clients see a 5.5-compatible server. */
export const MARIADB_VERSION_PREFIX = "5.5.5-"

/** A server version string, understood. */
export interface ServerVersion {
  readonly flavor: "mariadb" | "mysql"
  /** The version as the server means it ("10.11.6-MariaDB-0+deb12u1"), without `5.5.5-`. */
  readonly version: string
  readonly major: number
  readonly minor: number
  readonly patch: number
}

/**
 * Reads the greeting's server version: strips MariaDB's `5.5.5-` prefix, tells MariaDB from MySQL
 * and extracts major.minor.patch (0 where absent). Total: any string gives an answer.
 */
export const parseServerVersion = (raw: string): ServerVersion => {
  const prefixed = raw.startsWith(MARIADB_VERSION_PREFIX) && /mariadb/i.test(raw)
  const version = prefixed ? raw.slice(MARIADB_VERSION_PREFIX.length) : raw
  const flavor = /mariadb/i.test(version) ? "mariadb" : "mysql"
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version)
  return {
    flavor,
    version,
    major: m ? Number(m[1]) : 0,
    minor: m?.[2] ? Number(m[2]) : 0,
    patch: m?.[3] ? Number(m[3]) : 0
  }
}
