/**
 * Round-robin over pipes that have room (libzmq's `lb_t`): each whole
 * message goes to the next pipe in turn; full pipes are skipped. When every
 * pipe is full (or there is none) the message is not taken and the socket
 * waits for `pipeWritable`.
 */
import type { Message, Pipe } from "../pipe/pipe.js"
import { SendSlab } from "../pipe/send-slab.js"

export class LoadBalancer {
  private pipes: Pipe[] = []
  private cursor = 0
  /** Where sendSmall's messages are copied (for the pipes that queue ranges). */
  private readonly slab = new SendSlab()
  /** The pipe that took the last message (REQ waits for its reply there). */
  lastUsed: Pipe | undefined

  get size(): number {
    return this.pipes.length
  }

  add(pipe: Pipe): void {
    this.pipes.push(pipe)
  }

  remove(pipe: Pipe): void {
    const i = this.pipes.indexOf(pipe)
    if (i < 0) return
    this.pipes.splice(i, 1)
    if (this.cursor > i) this.cursor--
    if (this.cursor >= this.pipes.length) this.cursor = 0
  }

  /** True if some pipe would take a message now. */
  get writable(): boolean {
    for (const p of this.pipes) if (!p.full) return true
    return false
  }

  /** Queues `msg` on the next pipe with room; false when none has room. */
  send(msg: Message): boolean {
    const n = this.pipes.length
    for (let tries = 0; tries < n; tries++) {
      if (this.cursor >= n) this.cursor = 0
      const pipe = this.pipes[this.cursor]!
      this.cursor++
      if (pipe.write(msg)) {
        this.lastUsed = pipe
        return true
      }
    }
    return false
  }

  /** send() of a small one-frame message, copied by the pipe that takes it (Pipe.writeSmall). */
  sendSmall(data: Uint8Array): boolean {
    const slab = this.slab
    const n = this.pipes.length
    for (let tries = 0; tries < n; tries++) {
      if (this.cursor >= n) this.cursor = 0
      const pipe = this.pipes[this.cursor]!
      this.cursor++
      if (pipe.writeSmall(data, slab)) {
        this.lastUsed = pipe
        return true
      }
    }
    return false
  }
}
