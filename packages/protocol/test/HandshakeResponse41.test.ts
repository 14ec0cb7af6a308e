import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { Capability } from "../src/Capabilities.ts"
import { HandshakeResponse41 } from "../src/HandshakeResponse41.ts"

describe("HandshakeResponse41", () => {
  it("reads a response that announces CLIENT_CONNECT_ATTRS but carries none, and writes it back as it was", () => {
    // The mariadb 10.11 CLI's response to a server without TLS, as captured: the flags announce
    // connection attributes, and the packet ends after the plugin name.
    const hex =
      "85a2bf0000001000210000000000000000000000000000000000000000000000616e7900006d7973716c5f6e61746976655f70617373776f726400"
    const bytes = Uint8Array.from(hex.match(/../g)!.map((b) => Number.parseInt(b, 16)))
    const decoded = Result.getOrThrow(HandshakeResponse41.decode(bytes))
    assert.isTrue((decoded.capabilities & Capability.CLIENT_CONNECT_ATTRS) !== 0)
    assert.isUndefined(decoded.connectAttributes)
    assert.strictEqual(decoded.username, "any")
    assert.strictEqual(decoded.authPluginName, "mysql_native_password")
    assert.deepStrictEqual(Result.getOrThrow(HandshakeResponse41.encode(decoded)), bytes)
  })
})
