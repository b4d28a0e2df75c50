/**
 * One waiting send() or receive() of a socket. zeromq.js allows at most one
 * per direction (a second call throws EBUSY), so a socket holds one of these
 * for each. While waiting it keeps the process alive and, with a timeout,
 * rejects with EAGAIN when the time is up.
 */
import { errAgain } from "../errors.js"
import { holdLoop, releaseLoop } from "../engine/keepalive.js"

interface Waiter<T, D> {
  resolve(value: T): void
  reject(err: Error): void
  timer: NodeJS.Timeout | undefined
  data: D
}

export class Pending<T, D = undefined> {
  private waiter: Waiter<T, D> | null = null

  /** A call is waiting. */
  get busy(): boolean {
    return this.waiter !== null
  }

  /** What the waiting call carries (the message of a waiting send). Only valid while busy. */
  get data(): D {
    return this.waiter!.data
  }

  /** Starts waiting; `timeoutMs` > 0 rejects with EAGAIN after that long (-1: no limit). */
  wait(timeoutMs: number, data: D): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T, D> = { resolve, reject, timer: undefined, data }
      if (timeoutMs > 0) {
        w.timer = setTimeout(() => {
          if (this.waiter === w) this.settle()?.reject(errAgain())
        }, timeoutMs)
      }
      holdLoop()
      this.waiter = w
    })
  }

  resolve(value: T): void {
    this.settle()?.resolve(value)
  }

  reject(err: Error): void {
    this.settle()?.reject(err)
  }

  /** Ends the wait (timer, loop hold) and returns the waiter to settle, if any. */
  private settle(): Waiter<T, D> | null {
    const w = this.waiter
    if (w === null) return null
    this.waiter = null
    if (w.timer) clearTimeout(w.timer)
    releaseLoop()
    return w
  }
}
