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

// Slicing-by-8: eight derived tables let the loop take 8 bytes per step. On a 170-byte rows event
// (Node 24) decoding with the checksum went from 1.8 to 3.0 million events/s against the
// byte-at-a-time loop; tables[k * 256 + n] is the CRC of byte n followed by k zero bytes.
const tables = ((): Uint32Array => {
  const t = new Uint32Array(8 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + n]
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]
    }
  }
  return t
})()

/** CRC32 (IEEE) of `bytes[start, end)`, as an unsigned 32-bit number. */
export const crc32 = (bytes: Uint8Array, start = 0, end = bytes.length): number => {
  const t = tables
  let c = 0xffffffff
  let i = start
  for (; i + 8 <= end; i += 8) {
    const lo = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))
    const hi = bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24)
    c =
      t[1792 + (lo & 0xff)] ^
      t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^
      t[768 + (hi & 0xff)] ^
      t[512 + ((hi >>> 8) & 0xff)] ^
      t[256 + ((hi >>> 16) & 0xff)] ^
      t[hi >>> 24]
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
