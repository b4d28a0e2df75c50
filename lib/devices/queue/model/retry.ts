/**
 * Retry policies: how many deliveries a message gets and how long it waits
 * between them. A queue has a policy (CONFIG); a message may override any
 * field of it (PUT `retry`); unset fields fall back to DEFAULT_RETRY. (The
 * wire form is checked by the server: parseRetry in server/protocol.ts.)
 */
import type { RetryPolicy } from "../backend.js"

export type { RetryPolicy }

export const DEFAULT_RETRY: Readonly<RetryPolicy> = { maxAttempts: 0, backoff: "fixed", delay: 0, maxDelay: 0, jitter: 0 }

const MAX_MS = 2 ** 40

/** The effective policy of a message: its own fields over its queue's over the defaults. */
export function effectiveRetry(queue: Partial<RetryPolicy> | undefined, message: Partial<RetryPolicy> | undefined): RetryPolicy {
  return { ...DEFAULT_RETRY, ...queue, ...message }
}

/** How long to wait before delivery number `attempts + 1`, after `attempts` failed ones (ms). */
export function backoffDelay(p: RetryPolicy, attempts: number, random: () => number = Math.random): number {
  let d = p.backoff === "exponential" ? p.delay * 2 ** Math.max(0, Math.min(attempts - 1, 60)) : p.delay
  if (p.maxDelay > 0 && d > p.maxDelay) d = p.maxDelay
  if (d > MAX_MS) d = MAX_MS
  if (p.jitter > 0) d -= d * p.jitter * random()
  return Math.round(d)
}
