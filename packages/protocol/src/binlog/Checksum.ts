/**
 * CRC32 of binlog events: the IEEE polynomial (reflected 0xEDB88320), as zlib's `crc32()` computes
 * it, which is what both servers append to every event when `binlog_checksum=CRC32`.
 *
 * MySQL: https://dev.mysql.com/doc/refman/8.4/en/replication-options-binary-log.html#sysvar_binlog_checksum
 * MariaDB: https://mariadb.com/kb/en/replication-and-binary-log-system-variables/#binlog_checksum
 *
 * Written here rather than imported because this package imports no runtime module (no `node:zlib`):
 * it must run unchanged in Node, Deno, Bun and browsers. Pure code, no IO.
 *
 * @module
 */

const table = ((): Uint32Array => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC32 (IEEE) of `bytes[start, end)`, as an unsigned 32-bit number. */
export const crc32 = (bytes: Uint8Array, start = 0, end = bytes.length): number => {
  let c = 0xffffffff
  for (let i = start; i < end; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
