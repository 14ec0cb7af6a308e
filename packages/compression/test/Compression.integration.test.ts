// The compressed protocol against the real MariaDB (zlib only: MariaDB has no zstd), in a bare
// session driven by the protocol codecs, over plaintext and over TLS.

import { createHash } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { inject } from "vitest"
import { type CompressionCodec, zlib } from "../src/CompressionCodec.ts"
import { connect } from "./support/RawSession.ts"

const target = inject("mysqlTarget")

/** zlib, counting the packets this side compressed and the ones the server had compressed. */
const counting = () => {
  const codec = zlib()
  const counts = { compressed: 0, decompressed: 0 }
  const counted: CompressionCodec = {
    ...codec,
    compress: (input) => {
      counts.compressed++
      return codec.compress(input)
    },
    decompress: (input, length) => {
      counts.decompressed++
      return codec.decompress(input, length)
    }
  }
  return { codec: counted, counts }
}

const session = (codec: CompressionCodec, tls: boolean) =>
  Effect.acquireRelease(
    connect({
      host: target.host,
      port: target.port,
      user: "plain",
      password: "plain-secret",
      database: target.database,
      codec,
      ...(tls ? { ca: target.tls.ca.pem } : {})
    }),
    (s) => s.close
  )

const decode = (bytes: Uint8Array | null) => (bytes === null ? null : new TextDecoder().decode(bytes))

describe.each([
  ["plaintext", false],
  ["TLS", true]
])("compressed protocol with MariaDB over %s", (_, tls) => {
  it.effect("the server reports Compression ON", () =>
    Effect.gen(function* () {
      const s = yield* session(zlib(), tls)
      expect(s.compression).toBe("zlib")
      const rows = yield* s.query("SHOW SESSION STATUS LIKE 'Compression'")
      expect(rows.map((r) => r.map(decode))).toEqual([["Compression", "ON"]])
      const cipher = yield* s.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
      expect(decode(cipher[0][1])!.length > 0).toBe(tls)
    }).pipe(Effect.scoped)
  )

  it.effect("a 100k-row result set arrives intact", () =>
    Effect.gen(function* () {
      const { codec, counts } = counting()
      const s = yield* session(codec, tls)
      const rows = yield* s.query("SELECT seq, CONCAT('row-', seq, '-', REPEAT('abc', seq % 50)) FROM seq_1_to_100000")
      expect(rows.length).toBe(100_000)
      for (const i of [0, 1, 49, 50, 99_999]) {
        const n = i + 1
        expect(rows[i].map(decode)).toEqual([String(n), `row-${n}-${"abc".repeat(n % 50)}`])
      }
      expect(counts.decompressed).toBeGreaterThan(10)
    }).pipe(Effect.scoped)
  )

  it.effect(
    "a 17 MiB blob goes in and comes back intact",
    () =>
      Effect.gen(function* () {
        const { codec, counts } = counting()
        const s = yield* session(codec, tls)
        const size = 17 * 1024 * 1024 + 123
        const blob = new Uint8Array(size)
        for (let i = 0; i < size; i++) blob[i] = 97 + ((i * 7 + (i >> 10)) % 26)
        yield* s.query("CREATE TEMPORARY TABLE big (b LONGBLOB)")
        const prefix = new TextEncoder().encode("INSERT INTO big VALUES ('")
        const statement = new Uint8Array(prefix.length + size + 2)
        statement.set(prefix)
        statement.set(blob, prefix.length)
        statement.set([0x27, 0x29], prefix.length + size)
        yield* s.query(statement)
        expect(counts.compressed).toBeGreaterThan(16)
        const md5 = createHash("md5").update(blob).digest("hex")
        const check = yield* s.query("SELECT LENGTH(b), MD5(b) FROM big")
        expect(check[0].map(decode)).toEqual([String(size), md5])
        const back = yield* s.query("SELECT b FROM big")
        expect(back[0][0]!.length).toBe(size)
        expect(Buffer.compare(back[0][0]!, blob)).toBe(0)
      }).pipe(Effect.scoped),
    120_000
  )
})
