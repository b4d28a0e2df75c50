/**
 * Routing ids a ROUTER or STREAM socket gives peers that announce none:
 * 5 bytes, a zero byte then a 32-bit counter starting at a random value,
 * as libzmq generates them (a leading zero byte is reserved for these).
 */
import { randomBytes } from "node:crypto"

export class RoutingIdGenerator {
  private next = randomBytes(4).readUInt32BE(0)

  generate(): Buffer {
    const id = Buffer.allocUnsafe(5)
    id[0] = 0
    id.writeUInt32BE(this.next, 1)
    this.next = (this.next + 1) >>> 0
    return id
  }
}
