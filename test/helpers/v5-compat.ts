/**
 * Helpers for the tests of `omq/v5-compat`: callback- and event-style sockets turned into
 * bounded promises, unique endpoints, and sockets closed after each test.
 */
import { randomBytes } from "node:crypto"
import type { EventEmitter } from "node:events"
import { afterEach } from "vitest"
import * as zmq from "../../lib/entry/v5-compat.js"

/** Bound for one expected event in these tests: generous for a loaded 2-core machine. */
export const EVENT_TIMEOUT = 5000

/** A unique inproc endpoint. */
export function inproc(): string {
  return `inproc://v5-${randomBytes(6).toString("hex")}`
}

/** Resolves with the arguments of the next `event`, rejects after `ms` (or on "error" if asked). */
export function nextEvent(emitter: EventEmitter, event: string, ms = EVENT_TIMEOUT): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on)
      reject(new Error(`no "${event}" event within ${ms} ms`))
    }, ms)
    const on = (...args: unknown[]) => {
      clearTimeout(timer)
      resolve(args)
    }
    emitter.once(event, on)
  })
}

/**
 * Collects the next `n` "message" events, each as its frames turned into strings; messages
 * that `keep` refuses are left out.
 */
export function messages(
  sock: zmq.Socket,
  n: number,
  keep: (frames: string[]) => boolean = () => true,
  ms = EVENT_TIMEOUT,
): Promise<string[][]> {
  return new Promise((resolve, reject) => {
    const got: string[][] = []
    const timer = setTimeout(() => {
      sock.off("message", on)
      reject(new Error(`got ${got.length} of ${n} messages within ${ms} ms: ${JSON.stringify(got)}`))
    }, ms)
    const on = (...frames: Buffer[]) => {
      const strings = frames.map((f) => f.toString())
      if (!keep(strings)) return
      got.push(strings)
      if (got.length === n) {
        clearTimeout(timer)
        sock.off("message", on)
        resolve(got)
      }
    }
    sock.on("message", on)
  })
}

/** bind() with its callback as a promise; resolves with the bound endpoint (wildcards resolved). */
export function bound(sock: zmq.Socket, address = "tcp://127.0.0.1:*"): Promise<string> {
  return new Promise((resolve, reject) => {
    sock.bind(address, (err) => (err ? reject(err) : resolve(sock.getsockopt(zmq.ZMQ_LAST_ENDPOINT) as string)))
  })
}

/** send() with its callback as a promise (rejects with the error given to the callback, or after `ms`). */
export function sent(sock: zmq.Socket, message: zmq.Frame | zmq.Frame[], flags?: number, ms = EVENT_TIMEOUT): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`send callback not called within ${ms} ms`)), ms)
    sock.send(message, flags ?? 0, (err) => {
      clearTimeout(timer)
      if (err) reject(err)
      else resolve()
    })
  })
}

/** Polls `cond` until true or `ms` passed (then throws). */
export async function until(cond: () => boolean, what: string, ms = EVENT_TIMEOUT): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** One turn of the event loop: what is already queued (ticks, microtasks, I/O callbacks) has run. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Runs `fn` with the process's uncaughtException listeners (vitest's) replaced by a recorder,
 * restoring them afterwards; returns what was thrown meanwhile.
 */
export async function catchingUncaught(fn: (thrown: unknown[]) => Promise<void>): Promise<unknown[]> {
  const saved = process.listeners("uncaughtException")
  process.removeAllListeners("uncaughtException")
  const thrown: unknown[] = []
  const record = (err: unknown) => thrown.push(err)
  process.on("uncaughtException", record)
  try {
    await fn(thrown)
  } finally {
    process.off("uncaughtException", record)
    for (const l of saved) process.on("uncaughtException", l)
  }
  return thrown
}

/** Creates compat sockets that are closed after each test. */
export function compatSockets() {
  const open: zmq.Socket[] = []
  afterEach(() => {
    for (const s of open.splice(0)) s.close()
  })
  return (type: zmq.SocketType | number, options?: Record<string, unknown>): zmq.Socket => {
    const s = zmq.socket(type, { linger: 0, ...options })
    open.push(s)
    return s
  }
}
