/**
 * The queue wire protocol (docs/queue-protocol.md is the reference): frame
 * layout, command names, argument validation and reply encoding.
 *
 * Request (client DEALER -> device ROUTER):  [command, requestId, args, ...data]
 * Reply   (device -> client):                [OK|ERR, requestId, result, ...data]
 * Delivery to a CONSUME subscription:        [MSG, subscription requestId, meta, headers, body]
 * Liveness probe (ignore it):                [PING]
 */
import { EMPTY_MAP, cborWriter, decodeCbor, encodeCbor } from "../cbor.js"
import { QueueError } from "../errors.js"
import type { DeliveredMessage, MessageInfo, PutOptions, RetryPolicy } from "../backend.js"
import { ERR, OK } from "../commands.js"

export { COMMANDS, MSG, PING, PROTOCOL_VERSION, type Command } from "../commands.js"

const EMPTY = Buffer.alloc(0)

export const MAX_REQUEST_ID = 32
export const MAX_MS = 2 ** 40
export const MAX_PRIORITY = 2 ** 32 - 1
export const MAX_TTR = 2 ** 32 - 1
export const DEFAULT_PRIORITY = 1024
const MAX_ID = 256
const MAX_QUEUE_NAME = 200
const QUEUE_NAME = /^[A-Za-z0-9._:@/-]+$/

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

/** A reply to `addr`: [addr, OK, reqId, result, ...data]. */
export function okFrames(addr: Buffer, reqId: Buffer, result: Buffer = EMPTY_MAP, data?: Buffer[]): Buffer[] {
  return data === undefined || data.length === 0 ? [addr, OK, reqId, result] : [addr, OK, reqId, result, ...data]
}

export function errFrames(addr: Buffer, reqId: Buffer, code: string, message: string): Buffer[] {
  return [addr, ERR, reqId, encodeCbor({ code, message })]
}

/** Decodes the args frame: empty means {}; anything but a CBOR map is BAD_REQUEST. */
export function decodeArgs(frame: Buffer): Record<string, unknown> {
  if (frame.length === 0) return {}
  let v: unknown
  try {
    v = decodeCbor(frame)
  } catch (err) {
    throw new QueueError("BAD_REQUEST", `args frame is not valid CBOR (${(err as Error).message})`)
  }
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array || v instanceof Map) {
    throw new QueueError("BAD_REQUEST", "args frame must be a CBOR map with text keys")
  }
  return v as Record<string, unknown>
}

/** Refuses keys outside `allowed` (a typo must not pass silently). */
export function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new QueueError("BAD_OPTION", `unknown argument "${k}" for ${where}`)
  }
}

export function queueName(v: unknown): string {
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_QUEUE_NAME || !QUEUE_NAME.test(v)) {
    throw new QueueError("BAD_OPTION", `queue must be a name of 1-${MAX_QUEUE_NAME} characters from A-Z a-z 0-9 . _ : @ / -`)
  }
  return v
}

export const opt = <T>(o: Record<string, unknown>, k: string, f: (v: unknown) => T): T | undefined => {
  const v = o[k]
  return v === undefined || v === null ? undefined : f(v)
}

/** Options of one message (PUT args, or an item of PUTB). */
export type { PutOptions }

export const PUT_KEYS = ["queue", "priority", "delay", "ttr", "ttl", "id", "retry"] as const
export const ITEM_KEYS = PUT_KEYS.filter((k) => k !== "queue")
/** Options of an item given as null: all defaults. */
export const DEFAULT_PUT: Readonly<PutOptions> = Object.freeze({
  priority: DEFAULT_PRIORITY,
  delay: 0,
  ttr: undefined,
  ttl: 0,
  id: undefined,
  retry: undefined,
})

export function putOptions(o: Record<string, unknown>, where: string): PutOptions {
  const id = opt(o, "id", (v) => {
    if (typeof v !== "string" || v.length === 0 || Buffer.byteLength(v) > MAX_ID) {
      throw new QueueError("BAD_OPTION", `${where}id must be a string of 1-${MAX_ID} bytes`)
    }
    return v
  })
  return {
    priority: opt(o, "priority", (v) => intOption(v, `${where}priority`, 0, MAX_PRIORITY)) ?? DEFAULT_PRIORITY,
    delay: opt(o, "delay", (v) => intOption(v, `${where}delay`, 0, MAX_MS)) ?? 0,
    ttr: opt(o, "ttr", (v) => intOption(v, `${where}ttr`, 1, MAX_TTR)),
    ttl: opt(o, "ttl", (v) => intOption(v, `${where}ttl`, 0, MAX_MS)) ?? 0,
    id,
    retry: opt(o, "retry", (v) => parseRetry(v, `${where}retry`)),
  }
}

/** Checks a headers frame: empty, or CBOR that is a map. */
export function checkHeaders(frame: Buffer, where: string): void {
  if (frame.length === 0) return
  const major = frame[0]! >> 5
  if (major !== 5) throw new QueueError("BAD_OPTION", `${where}headers frame must be empty or a CBOR map`)
}

/**
 * The result map of a delivery (MSG, or a RESERVE reply): `{queue, messages}`
 * where each message is the tuple [seq, attempt, priority, putAt, ttr, id or
 * null]; the message's headers and body frames follow in the same order.
 */
export function deliveryPayload(queue: string, msgs: readonly DeliveredMessage[]): Buffer {
  const w = cborWriter
  w.start()
  w.map(2)
  w.value("queue")
  w.value(queue)
  w.value("messages")
  w.array(msgs.length)
  for (const m of msgs) {
    w.array(6)
    w.uint(m.seq)
    w.uint(m.attempts)
    w.uint(m.priority)
    w.uint(m.putAt)
    w.uint(m.ttr)
    w.value(m.id ?? null)
  }
  return w.finish()
}

/** The PEEK result map: `{messages: [meta...]}`; each message's headers and body go in data frames, in order. */
export function peekPayload(found: readonly MessageInfo[]): [Buffer, Buffer[]] {
  const data: Buffer[] = []
  const messages = found.map(({ headers, body, ...meta }) => {
    data.push(headers, body)
    return meta
  })
  return [encodeCbor({ messages }), data]
}

export { EMPTY_MAP, EMPTY }
