/**
 * Fair queueing over pipes (libzmq's `fq_t`): reads one whole message from
 * each pipe that has one, in turn, so a busy peer cannot starve the others.
 * Only pipes with queued input are kept in the active list.
 */
import type { Message, Pipe } from "../pipe/pipe.js"

export class FairQueue {
  private active: Pipe[] = []
  private cursor = 0
  /** The pipe the last message came from (ROUTER needs it for the routing id). */
  lastPipe: Pipe | undefined

  /** A pipe's input went from empty to non-empty. */
  activate(pipe: Pipe): void {
    if (!this.active.includes(pipe)) this.active.push(pipe)
  }

  remove(pipe: Pipe): void {
    const i = this.active.indexOf(pipe)
    if (i < 0) return
    this.active.splice(i, 1)
    if (this.cursor > i) this.cursor--
    if (this.cursor >= this.active.length) this.cursor = 0
  }

  get readable(): boolean {
    for (const p of this.active) if (p.in.length > 0) return true
    return false
  }

  recv(): Message | undefined {
    while (this.active.length > 0) {
      if (this.cursor >= this.active.length) this.cursor = 0
      const pipe = this.active[this.cursor]!
      const msg = pipe.read()
      if (msg === undefined) {
        this.active.splice(this.cursor, 1)
        continue
      }
      this.lastPipe = pipe
      if (pipe.in.length === 0) this.active.splice(this.cursor, 1)
      else this.cursor++
      return msg
    }
    return undefined
  }
}
