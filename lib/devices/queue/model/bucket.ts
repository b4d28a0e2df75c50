/** A token bucket: `rate` tokens per second, holding at most `burst`. Used for group and per-key rate limits. */
export class TokenBucket {
  private tokens: number
  private at: number
  /** Takes refused since it was made (stats: how often the limit held deliveries back). */
  throttled = 0

  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst
    this.at = now
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000)
      this.at = now
    }
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.refill(now)
    if (this.tokens >= 1) {
      this.tokens -= 1
      return true
    }
    this.throttled++
    return false
  }

  /** When the next token is there (ms since the epoch). */
  nextAt(now: number): number {
    this.refill(now)
    return this.tokens >= 1 ? now : now + Math.ceil(((1 - this.tokens) * 1000) / this.rate)
  }

  /** Tokens now (stats). */
  available(now: number): number {
    this.refill(now)
    return Math.floor(this.tokens)
  }
}
