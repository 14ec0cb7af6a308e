/**
 * Polling for a reply instead of sleeping until it comes. A process asleep in epoll pays the
 * kernel's wake-up on every round trip (about 100 µs on a virtual machine); while a turn of the
 * event loop is queued (`setImmediate`), the loop polls its sockets without sleeping and takes the
 * reply as it lands. The price is a core kept busy for up to `millis` per wait, so the polling
 * starts only where a reply is due: in the first wait for bytes after a write.
 */
export class BusyPoll {
  readonly millis: number
  /** Turns of the event loop spent polling, over the connection's life. */
  turns = 0
  private armed = false
  private spinning = false
  private deadline = 0

  constructor(millis: number) {
    this.millis = millis
  }

  get polling(): boolean {
    return this.spinning
  }

  /** Bytes were sent: the next wait for bytes expects a reply. */
  wrote(): void {
    this.armed = true
  }

  /** Bytes arrived: what was due has come, and later waits (an idle connection's) do not poll. */
  received(): void {
    this.armed = false
  }

  /** A read found nothing buffered: poll until bytes arrive or the bound passes, then sleep. */
  waiting(): void {
    if (!this.armed || this.spinning) return
    this.spinning = true
    this.deadline = performance.now() + this.millis
    setImmediate(this.turn)
  }

  private readonly turn = (): void => {
    this.turns++
    if (this.armed && performance.now() < this.deadline) {
      setImmediate(this.turn)
      return
    }
    // Past the bound without a reply the server is working, not answering: wait asleep.
    this.armed = false
    this.spinning = false
  }
}
