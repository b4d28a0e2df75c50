/**
 * Retry policies: how many deliveries a message gets and how long it waits
 * between them. A queue has a policy (CONFIG); a message may override any
 * field of it (PUT `retry`); unset fields fall back to DEFAULT_RETRY.
 */
import { QueueError } from "../errors.js"

export interface RetryPolicy {
  /** Deliveries allowed before the message is dead-lettered; 0 = unlimited. Default 0. */
  maxAttempts: number
  /** "fixed": every retry waits `delay`; "exponential": delay * 2^(attempt-1). Default "fixed". */
  backoff: "fixed" | "exponential"
  /** Base wait before a retry, ms. Default 0 (at once). */
  delay: number
  /** Upper bound of the wait, ms (0 = no bound). Default 0. */
  maxDelay: number
  /** 0..1: each wait is shortened by a random fraction up to this (spreads retries). Default 0. */
  jitter: number
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = { maxAttempts: 0, backoff: "fixed", delay: 0, maxDelay: 0, jitter: 0 }

const MAX_MS = 2 ** 40

/** Reads an integer option (CBOR may carry a bigint), or throws BAD_OPTION. */
export function intOption(v: unknown, name: string, min: number, max: number): number {
  const n = typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new QueueError("BAD_OPTION", `${name} must be an integer from ${min} to ${max}`)
  }
  return n
}

/** Validates a (partial) retry policy from the wire. */
export function parseRetry(v: unknown, name = "retry"): Partial<RetryPolicy> {
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array) {
    throw new QueueError("BAD_OPTION", `${name} must be a map`)
  }
  const o = v as Record<string, unknown>
  const out: Partial<RetryPolicy> = {}
  for (const key of Object.keys(o)) {
    const x = o[key]
    if (x === undefined || x === null) continue
    switch (key) {
      case "maxAttempts":
        out.maxAttempts = intOption(x, `${name}.maxAttempts`, 0, 2 ** 31)
        break
      case "backoff":
        if (x !== "fixed" && x !== "exponential") throw new QueueError("BAD_OPTION", `${name}.backoff must be "fixed" or "exponential"`)
        out.backoff = x
        break
      case "delay":
        out.delay = intOption(x, `${name}.delay`, 0, MAX_MS)
        break
      case "maxDelay":
        out.maxDelay = intOption(x, `${name}.maxDelay`, 0, MAX_MS)
        break
      case "jitter":
        if (typeof x !== "number" || !(x >= 0 && x <= 1)) throw new QueueError("BAD_OPTION", `${name}.jitter must be a number from 0 to 1`)
        out.jitter = x
        break
      default:
        throw new QueueError("BAD_OPTION", `unknown option ${name}.${key}`)
    }
  }
  return out
}

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
