/**
 * Field codecs shared by HandshakeResponse41 and COM_CHANGE_USER: connection attributes and the
 * auth response in its 1-byte-length and NUL-terminated forms.
 *
 * Building blocks for `define`: their `read`/`write` throw `WireError`, caught by the packet codecs.
 * Pure code, no IO.
 *
 * @internal
 */
import type { ConnectAttributes } from "../HandshakeResponse41.ts"
import type { FieldCodec } from "../Packet.ts"
import { Reader, WireError, Writer } from "../Wire.ts"

/**
 * Connection attributes: `int<lenenc>` total length, then `string<lenenc>` key and value pairs.
 * Shared with COM_CHANGE_USER.
 */
export const connectAttributes: FieldCodec<ConnectAttributes> = {
  read: (r) => {
    const n = r.lenencLength()
    const end = r.pos + n
    const inner = new Reader(r.buf, r.pos, end)
    const out: Array<readonly [string, string]> = []
    while (!inner.atEnd()) {
      const key = inner.lenencString()
      const value = inner.lenencString()
      out.push([key, value])
    }
    r.pos = end
    return out
  },
  write: (w, attributes) => {
    const inner = new Writer(256)
    for (const [key, value] of attributes) inner.lenencString(key).lenencString(value)
    w.lenencBytes(inner.finish())
  }
}

/** `int<1>` length then that many bytes: the auth response under CLIENT_SECURE_CONNECTION. */
export const authResponse1: FieldCodec<Uint8Array> = {
  read: (r) => r.fixedBytes(r.int1()).slice(),
  write: (w, v) => {
    if (v.length > 255) {
      throw new WireError(
        `auth response of ${v.length} bytes needs CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA (1-byte length)`,
        w.pos
      )
    }
    w.int1(v.length).bytes(v)
  }
}

/** The auth response as a NUL-terminated string (neither SECURE_CONNECTION nor LENENC flags). */
export const authResponseNul: FieldCodec<Uint8Array> = {
  read: (r) => r.nulBytes().slice(),
  write: (w, v) => {
    w.nulBytes(v)
  }
}
