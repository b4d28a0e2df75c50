/**
 * Shared helpers for the omq ↔ libzmq (zeromq.js 6) interop tests.
 *
 * Every helper is bounded: receives and sends rely on the sockets'
 * receiveTimeout/sendTimeout (so a failure is an EAGAIN error, not a hang),
 * and polling loops have a deadline.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { afterEach } from "vitest"
import { all, isEagain, tryReceive, uniqueIpc, withTimeout } from "../helpers.js"

export { all, bindRetry, delay, isEagain, tryReceive, withTimeout } from "../helpers.js"

export type Transport = "tcp" | "ipc"
export const TRANSPORTS: readonly Transport[] = ["tcp", "ipc"]
export type Side = "omq" | "libzmq"
export const SIDES: readonly Side[] = ["omq", "libzmq"]

/** What both omq and zeromq.js sockets offer (the subset the tests use). */
export interface AnySocket {
  bind(address: string): Promise<void>
  connect(address: string): void
  close(): void
  readonly lastEndpoint: string | null
}
export interface Sender extends AnySocket {
  send(message: unknown): Promise<void>
  sendTimeout: number
}
export interface Receiver extends AnySocket {
  receive(): Promise<Buffer[]>
  receiveTimeout: number
}

/** Default bound for a single send/receive: generous for a loaded 2-core machine. */
export const IO_TIMEOUT = 5000

/** Options every socket in these tests gets (bounded I/O, no lingering on close). */
export const BOUNDED = { linger: 0, sendTimeout: IO_TIMEOUT, receiveTimeout: IO_TIMEOUT }

/**
 * Registers an afterEach hook that closes every tracked socket and removes
 * the ipc socket files handed out by `endpoint()`.
 */
export function socketTracker() {
  const open: { close(): void }[] = []
  const ipcPaths: string[] = []
  afterEach(() => {
    for (const s of open.splice(0)) {
      try {
        s.close()
      } catch {
        /* already closed */
      }
    }
    for (const p of ipcPaths.splice(0)) fs.rmSync(p, { force: true })
  })
  return {
    track<T extends { close(): void }>(sock: T): T {
      open.push(sock)
      return sock
    },
    /** A wildcard tcp endpoint or a fresh, unique ipc endpoint. */
    endpoint(transport: Transport): string {
      if (transport === "tcp") return "tcp://127.0.0.1:*"
      const ep = uniqueIpc()
      ipcPaths.push(ep.slice("ipc://".length))
      return ep
    },
  }
}

/**
 * Sends numbered probe messages (`${prefix}${i}`) until `receiver` gets one,
 * polling with short receive timeouts, within `ms`. Used after a peer
 * restart: messages written into the dying connection may be lost, later
 * ones must arrive once the connection is re-established.
 * Returns the probe index that arrived.
 */
export async function probeUntilDelivered(sender: Sender, receiver: Receiver, prefix: string, ms = 10_000): Promise<number> {
  const end = Date.now() + ms
  const savedSendTimeout = sender.sendTimeout
  sender.sendTimeout = 100
  try {
    for (let i = 0; ; i++) {
      if (Date.now() > end) throw new Error(`no probe "${prefix}*" delivered within ${ms} ms (${i} tried)`)
      try {
        await sender.send(`${prefix}${i}`)
      } catch (err) {
        // A binding libzmq sender has nowhere to queue until the peer is back.
        if (isEagain(err)) continue
        throw err
      }
      const msg = await tryReceive(receiver, 100)
      if (msg !== undefined) {
        const text = String(msg[0])
        if (!text.startsWith(prefix)) throw new Error(`expected a probe "${prefix}*", got ${JSON.stringify(text)}`)
        return Number(text.slice(prefix.length))
      }
    }
  } finally {
    sender.sendTimeout = savedSendTimeout
  }
}

/**
 * Sends `count` numbered single-frame messages (`${prefix}${i}`) while the
 * receiver checks they all arrive, in order. Messages starting with
 * `skipPrefix` (left-over probes) are ignored by the receiver.
 */
export async function transferNumbered(
  sender: Sender,
  receiver: Receiver,
  count: number,
  opts: { prefix?: string; skipPrefix?: string; timeoutMs?: number } = {},
): Promise<void> {
  const prefix = opts.prefix ?? ""
  const sending = (async () => {
    for (let i = 0; i < count; i++) await sender.send(`${prefix}${i}`)
  })()
  const receiving = (async () => {
    let next = 0
    while (next < count) {
      const msg = await receiver.receive()
      const text = String(msg[0])
      if (opts.skipPrefix !== undefined && text.startsWith(opts.skipPrefix)) continue
      if (msg.length !== 1 || text !== `${prefix}${next}`) {
        throw new Error(`message ${next} of ${count}: expected ["${prefix}${next}"], got ${JSON.stringify(msg.map(String))}`)
      }
      next++
    }
  })()
  await withTimeout(all([sending, receiving]), opts.timeoutMs ?? 18_000, `transfer of ${count} messages`)
}

/** Random bytes of the given length (contents differ per call). */
export function randomFrame(length: number): Buffer {
  return randomBytes(length)
}

/** Asserts two messages are equal frame by frame, byte for byte, without dumping MiBs in the diff. */
export function assertSameMessage(actual: Buffer[], expected: Buffer[]): void {
  if (actual.length !== expected.length) {
    throw new Error(`expected ${expected.length} frames, got ${actual.length} (sizes ${actual.map((f) => f.length)})`)
  }
  expected.forEach((exp, i) => {
    const act = actual[i]!
    if (!Buffer.isBuffer(act)) throw new Error(`frame ${i} is not a Buffer`)
    if (act.length !== exp.length) throw new Error(`frame ${i}: expected ${exp.length} bytes, got ${act.length}`)
    if (!act.equals(exp)) {
      let at = 0
      while (act[at] === exp[at]) at++
      throw new Error(`frame ${i} (${exp.length} bytes) differs first at byte ${at}`)
    }
  })
}
