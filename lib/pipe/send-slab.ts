/**
 * Where a socket copies the small one-frame messages it sends to connections (see
 * message-queue.ts): one buffer filled from the front, replaced by a fresh one when full and
 * never written again where it was, so a range handed out stays valid for as long as anyone
 * holds it.
 */
const SLAB_SIZE = 32 * 1024

export class SendSlab {
  /** The current buffer (read it after put(): a put may replace it). */
  buf: Buffer | null = null
  private pos = 0

  /** Copies `data` (at most SLAB_SIZE bytes) into the slab; returns where it starts in `buf`. */
  put(data: Uint8Array): number {
    const len = data.byteLength
    let buf = this.buf
    if (buf === null || this.pos + len > buf.length) {
      buf = this.buf = Buffer.allocUnsafeSlow(SLAB_SIZE)
      this.pos = 0
    }
    const start = this.pos
    buf.set(data, start)
    this.pos = start + len
    return start
  }
}
