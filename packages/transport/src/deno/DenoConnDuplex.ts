/**
 * A native Deno connection seen as a node:stream duplex, so that node:tls can run over it when
 * `Deno.startTls` cannot do the job. Deno's TLSSocket ignores `pause()`, so the brake is here
 * instead: while held, the duplex stops reading from the kernel, and the kernel's window stops the
 * sender.
 */
import { Duplex } from "node:stream"
import type { DenoConn } from "./DenoApi.ts"

const chunkSize = 64 * 1024

export class DenoConnDuplex extends Duplex {
  private readonly conn: DenoConn
  private held = false
  private wanted = false
  private reading = false

  constructor(conn: DenoConn) {
    super()
    this.conn = conn
  }

  hold(): void {
    this.held = true
  }

  release(): void {
    this.held = false
    if (this.wanted) this.pull()
  }

  private pull(): void {
    if (this.reading || this.held) return
    this.wanted = false
    this.reading = true
    const buffer = new Uint8Array(chunkSize)
    this.conn.read(buffer).then(
      (n) => {
        this.reading = false
        this.push(n === null ? null : buffer.subarray(0, n))
      },
      (error: Error) => {
        this.reading = false
        this.destroy(error)
      }
    )
  }

  override _read(): void {
    this.wanted = true
    this.pull()
  }

  override _write(chunk: Uint8Array, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const write = async () => {
      let offset = 0
      while (offset < chunk.length) offset += await this.conn.write(chunk.subarray(offset))
    }
    write().then(() => callback(), callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.conn.closeWrite().then(() => callback(), callback)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    try {
      this.conn.close()
    } catch {
      // Already closed.
    }
    callback(error)
  }
}
