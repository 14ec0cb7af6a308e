import { describe, expect, it } from "@effect/vitest"
import { Capability, HandshakeResponse41 } from "@effect-mysql/protocol"
import { Result } from "effect"
import {
  CompressionNegotiationError,
  type CompressionOptions,
  negotiate,
  offeredAlgorithms,
  selectedAlgorithm
} from "../src/Negotiation.ts"

const ZLIB = Capability.CLIENT_COMPRESS
const ZSTD = Capability.CLIENT_ZSTD_COMPRESSION_ALGORITHM
const BASE = Capability.CLIENT_PROTOCOL_41 | Capability.CLIENT_PLUGIN_AUTH | Capability.CLIENT_SSL

type Row = readonly [
  label: string,
  server: number,
  options: CompressionOptions,
  expected: { algorithm: string; level: number; clientFlags: number; zstdCompressionLevel?: number } | "error"
]

const table: ReadonlyArray<Row> = [
  [
    "default list, server with both",
    BASE | ZLIB | ZSTD,
    {},
    { algorithm: "zstd", level: 3, clientFlags: ZSTD, zstdCompressionLevel: 3 }
  ],
  ["default list, MariaDB (zlib only)", BASE | ZLIB, {}, { algorithm: "zlib", level: 6, clientFlags: ZLIB }],
  ["default list, server with none", BASE, {}, { algorithm: "uncompressed", level: 0, clientFlags: 0 }],
  [
    "zlib first",
    BASE | ZLIB | ZSTD,
    { algorithms: ["zlib", "zstd"] },
    { algorithm: "zlib", level: 6, clientFlags: ZLIB }
  ],
  [
    "zstd only, server without zstd",
    BASE | ZLIB,
    { algorithms: ["zstd"] },
    { algorithm: "uncompressed", level: 0, clientFlags: 0 }
  ],
  ["zstd only, required, server without zstd", BASE | ZLIB, { algorithms: ["zstd"], required: true }, "error"],
  ["required, server with none", BASE, { required: true }, "error"],
  [
    "required, zlib offered",
    BASE | ZLIB,
    { algorithms: ["zstd", "zlib"], required: true },
    { algorithm: "zlib", level: 6, clientFlags: ZLIB }
  ],
  [
    "uncompressed listed first",
    BASE | ZLIB | ZSTD,
    { algorithms: ["uncompressed", "zlib"] },
    { algorithm: "uncompressed", level: 0, clientFlags: 0 }
  ],
  [
    "uncompressed as the fallback, even with required",
    BASE,
    { algorithms: ["zlib", "uncompressed"], required: true },
    { algorithm: "uncompressed", level: 0, clientFlags: 0 }
  ],
  ["empty list", BASE | ZLIB, { algorithms: [] }, { algorithm: "uncompressed", level: 0, clientFlags: 0 }],
  ["empty list, required", BASE | ZLIB, { algorithms: [], required: true }, "error"],
  [
    "zstd level",
    BASE | ZSTD,
    { zstdLevel: 19 },
    { algorithm: "zstd", level: 19, clientFlags: ZSTD, zstdCompressionLevel: 19 }
  ],
  ["zlib level", BASE | ZLIB, { zlibLevel: 1 }, { algorithm: "zlib", level: 1, clientFlags: ZLIB }],
  ["zstd level out of range", BASE | ZSTD, { zstdLevel: 23 }, "error"],
  ["zstd level 0", BASE | ZSTD, { zstdLevel: 0 }, "error"],
  ["zlib level not an integer", BASE | ZLIB, { zlibLevel: 2.5 }, "error"],
  ["unknown algorithm", BASE | ZLIB, { algorithms: ["lz4" as never] }, "error"]
]

describe("negotiate", () => {
  it.each(table)("%s", (_, server, options, expected) => {
    const result = negotiate(server, options)
    if (expected === "error") {
      expect(Result.isFailure(result)).toBe(true)
      const error = (result as Result.Failure<unknown, CompressionNegotiationError>).failure
      expect(error).toBeInstanceOf(CompressionNegotiationError)
      return
    }
    expect(Result.isSuccess(result) && result.success).toEqual(expected)
  })

  it("tells why it failed", () => {
    const unsupported = negotiate(BASE | ZLIB, { algorithms: ["zstd"], required: true })
    expect(Result.isFailure(unsupported) && unsupported.failure).toMatchObject({
      _tag: "CompressionNegotiationError",
      reason: "unsupported",
      requested: ["zstd"],
      offered: ["zlib"]
    })
    const options = negotiate(BASE | ZSTD, { zstdLevel: 99 })
    expect(Result.isFailure(options) && options.failure.reason).toBe("options")
  })

  it("never sets both flags, so the server cannot fall back to zlib against the caller's order", () => {
    for (const [, server, options] of table) {
      const result = negotiate(server, options)
      if (Result.isSuccess(result)) expect(result.success.clientFlags & (ZLIB | ZSTD)).not.toBe(ZLIB | ZSTD)
    }
  })

  it("gives what the handshake response needs, which then reads back as the same choice", () => {
    const result = negotiate(BASE | ZSTD | ZLIB, { zstdLevel: 7 })
    if (Result.isFailure(result)) throw result.failure
    const { clientFlags, zstdCompressionLevel } = result.success
    // zstd is MySQL's: a MySQL client sets CLIENT_MYSQL (bit 0), so no MariaDB extended capabilities follow
    const capabilities = BASE | Capability.CLIENT_MYSQL | clientFlags
    const encoded = HandshakeResponse41.encode({
      capabilities,
      maxPacketSize: 1 << 24,
      characterSet: 45,
      username: "app",
      authResponse: new Uint8Array(0),
      authPluginName: "mysql_native_password",
      ...(zstdCompressionLevel === undefined ? {} : { zstdCompressionLevel })
    })
    if (Result.isFailure(encoded)) throw encoded.failure
    const decoded = HandshakeResponse41.decode(encoded.success)
    if (Result.isFailure(decoded)) throw decoded.failure
    expect(decoded.success.zstdCompressionLevel).toBe(7)
    expect(selectedAlgorithm(decoded.success.capabilities)).toBe("zstd")
  })
})

describe("offeredAlgorithms and selectedAlgorithm", () => {
  it("read the flags", () => {
    expect(offeredAlgorithms(BASE)).toEqual([])
    expect(offeredAlgorithms(BASE | ZLIB | ZSTD)).toEqual(["zstd", "zlib"])
    expect(selectedAlgorithm(BASE)).toBe("uncompressed")
    expect(selectedAlgorithm(BASE | ZSTD)).toBe("zstd")
    expect(selectedAlgorithm(BASE | ZLIB)).toBe("zlib")
  })

  it("both flags set means zlib", () => {
    expect(selectedAlgorithm(BASE | ZLIB | ZSTD)).toBe("zlib")
  })
})
