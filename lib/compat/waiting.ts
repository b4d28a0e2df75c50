/**
 * What the compat socket waits for when the core socket says "not now" where 5.x simply
 * waited: its turn on a REQ/REP socket (EFSM), or the end of a bind/unbind (EBUSY).
 */

/**
 * REQ and REP strictly alternate send and receive. omq's sockets (like zeromq.js's) refuse an
 * out-of-turn call with EFSM, while the 5.x API sent and received in the background and simply
 * waited for its turn: `req.send()` ten times in a row sends the next request when the previous
 * reply came in. The compat socket parks its send queue or its receive loop here on EFSM and
 * wakes it when the other direction has moved.
 */
export class Alternation {
  private waitingForSend: Array<() => void> = []
  private waitingForReceive: Array<(moved: boolean) => void> = []

  /** A message was sent: wakes a parked receive loop. */
  sent(): void {
    const waiting = this.waitingForSend
    this.waitingForSend = []
    for (const wake of waiting) wake()
  }

  /** A message was received: wakes a parked send queue. */
  received(): void {
    const waiting = this.waitingForReceive
    this.waitingForReceive = []
    for (const wake of waiting) wake(true)
  }

  /** Resolves after the next send (or wakeAll). */
  afterSend(): Promise<void> {
    return new Promise((resolve) => this.waitingForSend.push(resolve))
  }

  /**
   * Resolves true after the next receive (or wakeAll), false if `timeoutMs` passed first
   * (ZMQ_SNDTIMEO: -1 waits forever, 0 does not wait).
   */
  afterReceive(timeoutMs: number): Promise<boolean> {
    if (timeoutMs === 0) return Promise.resolve(false)
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const wake = (moved: boolean) => {
        if (timer !== undefined) clearTimeout(timer)
        resolve(moved)
      }
      this.waitingForReceive.push(wake)
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.waitingForReceive = this.waitingForReceive.filter((w) => w !== wake)
          resolve(false)
        }, timeoutMs)
      }
    })
  }

  /** Wakes everything parked (the socket closed: the loops see it and stop). */
  wakeAll(): void {
    this.sent()
    this.received()
  }
}

/**
 * The bind()/unbind() calls of a compat socket that are running. Meanwhile the core socket
 * refuses sends and receives with EBUSY (as zeromq.js's does); 5.x queued them, so the compat
 * socket waits for the calls to end and retries.
 */
export class EndpointCalls {
  private running = 0
  private waiting: Array<() => void> = []

  /** Counts `operation` until it settles; returns it. */
  track(operation: Promise<void>): Promise<void> {
    this.running++
    const done = () => {
      if (--this.running > 0) return
      const waiting = this.waiting
      this.waiting = []
      for (const wake of waiting) wake()
    }
    operation.then(done, done)
    return operation
  }

  /** True, once the running calls have ended, if `err` is EBUSY and calls were running: retry then. */
  async blocked(err: unknown): Promise<boolean> {
    if ((err as { code?: unknown } | null)?.code !== "EBUSY" || this.running === 0) return false
    await new Promise<void>((resolve) => this.waiting.push(resolve))
    return true
  }
}
