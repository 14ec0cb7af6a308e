/**
 * Large socket chunks cut into copies of a bounded size, with the runtime's buffer freed at once.
 *
 * Bun's sockets hand out whatever the kernel has, up to 512 KiB per `data` event, each in a
 * buffer of its own. Freed only by the garbage collector, those buffers pile up between
 * collections: streaming 1M rows grew Bun's resident set by 72–78 MB, and a bare socket reader
 * that drops each chunk at once by 34–38 MB. Copied into 64 KiB pieces, with the 512 KiB buffer
 * detached (which frees its memory now), the stream grew by 44–49 MB; docs/performance.md has
 * the measurements. Node reads 64 KiB at a time and never gets here.
 */

/** What `ArrayBuffer.prototype.transfer` (ES2024) looks like, where the runtime has it. */
interface Transferable {
  readonly transfer?: (newLength?: number) => ArrayBuffer
}

/**
 * Frees the memory of `chunk`'s buffer now instead of at the next collection, when the chunk
 * spans its whole buffer (so no other view can see it). Nothing happens where the runtime cannot
 * detach the buffer: the collector frees it as before.
 */
const release = (chunk: Uint8Array): void => {
  const buffer = chunk.buffer
  if (!(buffer instanceof ArrayBuffer) || chunk.byteOffset !== 0 || buffer.byteLength !== chunk.byteLength) return
  const transfer = (buffer as Transferable).transfer
  if (transfer === undefined) return
  try {
    transfer.call(buffer, 0)
  } catch {
    // A buffer that cannot be detached (the runtime's own, say) stays for the collector.
  }
}

/**
 * `chunk` cut into plain `Uint8Array` copies of at most `size` bytes, in order, after which the chunk itself must not
 * be used again: its buffer is detached when it spans the whole of it. Whoever calls this must be
 * the chunk's only reader (a socket's only `data` listener).
 */
export const cutAndRelease = (chunk: Uint8Array, size: number): Array<Uint8Array> => {
  const pieces: Array<Uint8Array> = []
  for (let start = 0; start < chunk.length; start += size) {
    // A plain `Uint8Array` copy: a `Buffer`'s `slice` would be a view, and its copies Buffers.
    const length = Math.min(size, chunk.length - start)
    pieces.push(new Uint8Array(chunk.buffer, chunk.byteOffset + start, length).slice())
  }
  release(chunk)
  return pieces
}
