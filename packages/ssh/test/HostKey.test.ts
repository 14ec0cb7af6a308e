import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import * as HostKey from "../src/HostKey.ts"
import { hashedKnownHosts, keys, type PublicKey } from "./fixtures/HostKeys.ts"

const blob = (key: PublicKey) => Uint8Array.from(atob(key.base64), (char) => char.charCodeAt(0))
const line = (hosts: string, key: PublicKey) => `${hosts} ${key.type} ${key.base64}`

const verdictFor = (knownHosts: string, host: string, port: number, key: PublicKey) =>
  HostKey.verify(HostKey.parseKnownHosts(knownHosts), host, port, blob(key))

const tagFor = (knownHosts: string, host: string, port: number, key: PublicKey) =>
  Effect.map(verdictFor(knownHosts, host, port, key), (verdict) =>
    verdict._tag === "Mismatch" ? `Mismatch:${verdict.reason}` : verdict._tag
  )

describe("HostKey", () => {
  it.effect("fingerprints every key type as ssh-keygen -lf does", () =>
    Effect.gen(function* () {
      for (const key of Object.values(keys)) {
        assert.strictEqual(yield* HostKey.fingerprint(blob(key)), key.fingerprint)
        assert.strictEqual(HostKey.keyType(blob(key)), key.type)
      }
    })
  )

  it("reads no key type from a blob that lies about its length", () => {
    assert.isUndefined(HostKey.keyType(new Uint8Array([])))
    assert.isUndefined(HostKey.keyType(new Uint8Array([0, 0, 0])))
    assert.isUndefined(HostKey.keyType(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x61])))
    assert.isUndefined(HostKey.keyType(new Uint8Array([0, 0, 0, 2, 0x61])))
    assert.isUndefined(HostKey.keyType(new Uint8Array([0, 0, 0, 0])))
    assert.isUndefined(HostKey.keyType(new Uint8Array([0, 0, 0, 1, 0x0a])))
    assert.strictEqual(HostKey.keyType(new Uint8Array([0, 0, 0, 1, 0x61, 0xff])), "a")
  })

  it.effect("takes SHA256 fingerprints and refuses MD5 and malformed ones", () =>
    Effect.gen(function* () {
      const pinned = yield* HostKey.policy({ fingerprints: [keys.ed25519.fingerprint, ` ${keys.rsa.fingerprint}= `] })
      assert.deepStrictEqual(pinned, {
        _tag: "Fingerprints",
        fingerprints: [keys.ed25519.fingerprint, keys.rsa.fingerprint]
      })
      const md5 = yield* Effect.flip(
        HostKey.policy({ fingerprints: ["MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48"] })
      )
      assert.include(md5.message, "MD5")
      const bare = yield* Effect.flip(
        HostKey.policy({ fingerprints: ["16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48"] })
      )
      assert.include(bare.message, "MD5")
      for (const bad of [
        "SHA256:short",
        `sha256:${keys.ed25519.fingerprint.slice(7)}`,
        keys.ed25519.fingerprint.slice(7),
        ""
      ]) {
        const error = yield* Effect.flip(HostKey.policy({ fingerprints: [bad] }))
        assert.strictEqual(error._tag, "HostKeyOptionError")
        assert.include(error.message, "SHA256:")
      }
    })
  )

  it.effect("verifies against pinned fingerprints", () =>
    Effect.gen(function* () {
      const pinned = yield* HostKey.policy({ fingerprints: [keys.ed25519.fingerprint] })
      const accepted = yield* HostKey.verify(pinned, "db", 22, blob(keys.ed25519))
      assert.deepStrictEqual(accepted, {
        _tag: "Accepted",
        fingerprint: keys.ed25519.fingerprint,
        keyType: "ssh-ed25519"
      })
      const refused = yield* HostKey.verify(pinned, "db", 22, blob(keys.rsa))
      assert.strictEqual(refused._tag, "Mismatch")
      if (refused._tag !== "Mismatch") return
      assert.strictEqual(refused.reason, "notPinned")
      assert.strictEqual(refused.fingerprint, keys.rsa.fingerprint)
      assert.include(refused.message, keys.ed25519.fingerprint)
      const none = yield* HostKey.verify(yield* HostKey.policy({ fingerprints: [] }), "db", 22, blob(keys.rsa))
      assert.strictEqual(none._tag, "Unknown")
    })
  )

  it.effect("shows the fingerprint to pin and the line to add for an unknown host", () =>
    Effect.gen(function* () {
      const verdict = yield* verdictFor("", "Bastion.example.com", 2222, keys.ed25519)
      assert.strictEqual(verdict._tag, "Unknown")
      if (verdict._tag !== "Unknown") return
      assert.strictEqual(verdict.fingerprint, keys.ed25519.fingerprint)
      assert.strictEqual(verdict.knownHostsLine, line("[bastion.example.com]:2222", keys.ed25519))
      assert.include(verdict.message, keys.ed25519.fingerprint)
      assert.include(verdict.message, verdict.knownHostsLine)
      // The line it proposes is one this module then accepts.
      assert.strictEqual(yield* tagFor(verdict.knownHostsLine, "bastion.example.com", 2222, keys.ed25519), "Accepted")
    })
  )

  it.effect("matches plain, bracketed-port, wildcard and negated names", () =>
    Effect.gen(function* () {
      const text = [
        "# comment",
        "",
        `   ${line("db.example.com,10.0.0.5", keys.ed25519)} a comment`,
        line("[db.example.com]:2222", keys.rsa),
        line("*.internal,!secret.internal", keys.ecdsa256),
        line("web?.example.com", keys.ecdsa384)
      ].join("\n")
      assert.strictEqual(yield* tagFor(text, "db.example.com", 22, keys.ed25519), "Accepted")
      assert.strictEqual(yield* tagFor(text, "DB.Example.COM", 22, keys.ed25519), "Accepted")
      assert.strictEqual(yield* tagFor(text, "10.0.0.5", 22, keys.ed25519), "Accepted")
      // Port 22 and any other port are different names.
      assert.strictEqual(yield* tagFor(text, "db.example.com", 2222, keys.ed25519), "Mismatch:otherType")
      assert.strictEqual(yield* tagFor(text, "db.example.com", 2222, keys.rsa), "Accepted")
      assert.strictEqual(yield* tagFor(text, "10.0.0.5", 2222, keys.ed25519), "Unknown")
      assert.strictEqual(yield* tagFor(text, "a.b.internal", 22, keys.ecdsa256), "Accepted")
      assert.strictEqual(yield* tagFor(text, "secret.internal", 22, keys.ecdsa256), "Unknown")
      assert.strictEqual(yield* tagFor(text, "web1.example.com", 22, keys.ecdsa384), "Accepted")
      assert.strictEqual(yield* tagFor(text, "web10.example.com", 22, keys.ecdsa384), "Unknown")
      assert.strictEqual(yield* tagFor(text, "example.com", 22, keys.ed25519), "Unknown")
    })
  )

  it.effect("matches names hashed by ssh-keygen -H", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* tagFor(hashedKnownHosts, "db.example.com", 22, keys.ed25519), "Accepted")
      assert.strictEqual(yield* tagFor(hashedKnownHosts, "127.0.0.1", 2222, keys.rsa), "Accepted")
      assert.strictEqual(yield* tagFor(hashedKnownHosts, "127.0.0.1", 22, keys.rsa), "Unknown")
      assert.strictEqual(yield* tagFor(hashedKnownHosts, "db.example.com", 22, keys.ed25519b), "Mismatch:changed")
    })
  )

  it.effect("tells a changed key from a host known only by other key types", () =>
    Effect.gen(function* () {
      const text = [line("db", keys.ed25519), line("db", keys.rsa)].join("\n")
      const changed = yield* verdictFor(text, "db", 22, keys.ed25519b)
      assert.strictEqual(changed._tag, "Mismatch")
      if (changed._tag !== "Mismatch") return
      assert.strictEqual(changed.reason, "changed")
      assert.deepStrictEqual(changed.known, [`${keys.ed25519.fingerprint} (line 1)`])
      assert.include(changed.message, "has changed")
      assert.include(changed.message, keys.ed25519b.fingerprint)
      const other = yield* verdictFor(text, "db", 22, keys.ecdsa256)
      assert.strictEqual(other._tag, "Mismatch")
      if (other._tag !== "Mismatch") return
      assert.strictEqual(other.reason, "otherType")
      assert.include(other.message, "ssh-ed25519, ssh-rsa")
      assert.lengthOf(other.known, 2)
      // A host with keys of several types accepts each of them.
      assert.strictEqual(yield* tagFor(text, "db", 22, keys.rsa), "Accepted")
      assert.strictEqual(yield* tagFor(text, "db", 22, keys.ed25519), "Accepted")
    })
  )

  it.effect("refuses a revoked key even where another line trusts it", () =>
    Effect.gen(function* () {
      const text = [
        `@revoked * ${keys.rsa.type} ${keys.rsa.base64}`,
        line("db", keys.rsa),
        line("db", keys.ed25519)
      ].join("\n")
      const verdict = yield* verdictFor(text, "db", 22, keys.rsa)
      assert.strictEqual(verdict._tag, "Revoked")
      assert.strictEqual(verdict.fingerprint, keys.rsa.fingerprint)
      if (verdict._tag === "Revoked") assert.include(verdict.message, "line 1")
      assert.strictEqual(yield* tagFor(text, "db", 22, keys.ed25519), "Accepted")
      // A revocation alone does not make a host known.
      assert.strictEqual(yield* tagFor(text, "other", 22, keys.ed25519), "Unknown")
    })
  )

  it.effect("sets aside the lines it cannot use, with their reasons, and keeps the rest", () =>
    Effect.gen(function* () {
      const text = [
        `@cert-authority *.example.com ${keys.ed25519.type} ${keys.ed25519.base64}`,
        `@sometimes db ${keys.ed25519.type} ${keys.ed25519.base64}`,
        "db ssh-ed25519",
        "db ssh-ed25519 not*base64",
        "db ssh-ed25519 AAAA",
        `db ssh-rsa ${keys.ed25519.base64}`,
        `|2|abc|def ${keys.ed25519.type} ${keys.ed25519.base64}`,
        `|1|AAAA|AAAA ${keys.ed25519.type} ${keys.ed25519.base64}`,
        `, ${keys.ed25519.type} ${keys.ed25519.base64}`,
        "1024 35 1234567 old-rsa1@host",
        line("db", keys.rsa)
      ].join("\r\n")
      const policy = HostKey.parseKnownHosts(text)
      assert.strictEqual(policy._tag, "KnownHosts")
      if (policy._tag !== "KnownHosts") return
      assert.deepStrictEqual(
        policy.entries.map((entry) => entry.line),
        [11]
      )
      assert.deepStrictEqual(
        policy.ignored.map((ignored) => ignored.line),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
      )
      assert.include(policy.ignored[0]!.reason, "@cert-authority")
      assert.include(policy.ignored[5]!.reason, "ssh-rsa")
      assert.strictEqual(yield* tagFor(text, "db", 22, keys.rsa), "Accepted")
      assert.strictEqual(yield* tagFor(text, "db", 22, keys.ed25519), "Mismatch:otherType")
    })
  )

  it.effect("never throws on arbitrary known_hosts text or key bytes", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.oneof(
              fc.string(),
              fc.constantFrom("@revoked", "@cert-authority", "|1|", "[db]:22", "*", "!", "?", "#", ",", "\t", "\n"),
              fc.constant(line("db", keys.ed25519))
            ),
            { maxLength: 20 }
          ),
          fc.uint8Array({ maxLength: 64 }),
          async (parts, bytes) => {
            const policy = HostKey.parseKnownHosts(parts.join(" "))
            const verdict = await Effect.runPromise(HostKey.verify(policy, "db", 22, bytes))
            const pinned = await Effect.runPromise(Effect.result(HostKey.policy({ fingerprints: parts })))
            return verdict._tag !== "Accepted" && (pinned._tag === "Failure" || parts.length === 0)
          }
        ),
        { numRuns: 300 }
      )
    )
  )
})
