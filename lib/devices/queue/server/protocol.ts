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
import type {
  DeliveredMessage,
  GroupConfig,
  MessageInfo,
  PutOptions,
  QueueConfig,
  RetryPolicy,
  StoredMessage,
  StreamPosition,
} from "../backend.js"
import { parseFilter } from "../model/filter.js"
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

/** A queue name as a client gives it. */
export function clientQueueName(v: unknown): string {
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_QUEUE_NAME || !QUEUE_NAME.test(v)) {
    throw new QueueError("BAD_OPTION", `queue must be a name of 1-${MAX_QUEUE_NAME} characters from A-Z a-z 0-9 . _ : @ / -`)
  }
  return v
}

/**
 * The `queue` argument as the handlers see it: handleRequest checked it already when it was
 * given (clientQueueName, then namespaced with an access list), so this only refuses a missing one.
 */
export function queueName(v: unknown): string {
  return typeof v === "string" ? v : clientQueueName(v)
}

export const opt = <T>(o: Record<string, unknown>, k: string, f: (v: unknown) => T): T | undefined => {
  const v = o[k]
  return v === undefined || v === null ? undefined : f(v)
}

/** Options of one message (PUT args, or an item of PUTB). */
export type { PutOptions }

export const PUT_KEYS = ["queue", "priority", "delay", "ttr", "ttl", "id", "retry", "key"] as const
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
    const key = m.key
    w.array(key === undefined ? 6 : 7)
    w.uint(m.seq)
    w.uint(m.attempts)
    w.uint(m.priority)
    w.uint(m.putAt)
    w.uint(m.ttr)
    w.value(m.id ?? null)
    if (key !== undefined) w.value(key)
  }
  return w.finish()
}

/** The RANGE result map: `{queue, next, messages}`, each message [seq, putAt, priority, id or null, key or null]; headers and body frames follow. */
export function rangePayload(queue: string, next: number, msgs: readonly StoredMessage[]): Buffer {
  const w = cborWriter
  w.start()
  w.map(3)
  w.value("queue")
  w.value(queue)
  w.value("next")
  w.uint(next)
  w.value("messages")
  w.array(msgs.length)
  for (const m of msgs) {
    w.array(5)
    w.uint(m.seq)
    w.uint(m.putAt)
    w.uint(m.priority)
    w.value(m.id ?? null)
    w.value(m.key ?? null)
  }
  return w.finish()
}

const MAX_KEY = 256
const MAX_GROUP_NAME = 200
const GROUP_NAME = /^[A-Za-z0-9._:@/-]+$/

/** A put's ordering key: a string of 1-256 bytes. */
export function keyOption(v: unknown, where: string): string {
  if (typeof v !== "string" || v.length === 0 || Buffer.byteLength(v) > MAX_KEY)
    throw new QueueError("BAD_OPTION", `${where}key must be a string of 1-${MAX_KEY} bytes`)
  return v
}

export function groupName(v: unknown): string {
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_GROUP_NAME || !GROUP_NAME.test(v))
    throw new QueueError("BAD_OPTION", `group must be a name of 1-${MAX_GROUP_NAME} characters from A-Z a-z 0-9 . _ : @ / -`)
  return v
}

/** A stream position: "first", "last", an offset (integer), {offset}, or {time} (ms since the epoch). */
export function positionOption(v: unknown, name: string): StreamPosition {
  if (v === "first" || v === "last") return v
  if (typeof v === "number" || typeof v === "bigint") return { offset: intOption(v, name, 0, Number.MAX_SAFE_INTEGER) }
  if (v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array)) {
    const o = v as Record<string, unknown>
    const keys = Object.keys(o)
    if (keys.length === 1 && keys[0] === "offset") return { offset: intOption(o.offset, `${name}.offset`, 0, Number.MAX_SAFE_INTEGER) }
    if (keys.length === 1 && keys[0] === "time") return { time: intOption(o.time, `${name}.time`, 0, Number.MAX_SAFE_INTEGER) }
  }
  throw new QueueError("BAD_OPTION", `${name} must be "first", "last", an offset, {offset} or {time}`)
}

const RATE_MAX = 10_000_000

function rateOption(v: unknown, name: string): number {
  if (typeof v !== "number" || !(v > 0 && v <= RATE_MAX))
    throw new QueueError("BAD_OPTION", `${name} must be a number above 0 and at most ${RATE_MAX} (per second)`)
  return v
}

export const GROUP_CONFIG_KEYS = ["filter", "keyConcurrency", "rate", "burst", "keyRate", "keyBurst", "ttr", "retry"] as const

/** A group's config from GROUP args. */
export function groupConfig(a: Record<string, unknown>): GroupConfig {
  const c: GroupConfig = {}
  const filter = opt(a, "filter", (v) => parseFilter(v))
  if (filter !== undefined) c.filter = filter
  const kc = opt(a, "keyConcurrency", (v) => intOption(v, "keyConcurrency", 1, 1_000_000))
  if (kc !== undefined) c.keyConcurrency = kc
  const rate = opt(a, "rate", (v) => rateOption(v, "rate"))
  if (rate !== undefined) c.rate = rate
  const burst = opt(a, "burst", (v) => intOption(v, "burst", 1, RATE_MAX))
  if (burst !== undefined) c.burst = burst
  const keyRate = opt(a, "keyRate", (v) => rateOption(v, "keyRate"))
  if (keyRate !== undefined) c.keyRate = keyRate
  const keyBurst = opt(a, "keyBurst", (v) => intOption(v, "keyBurst", 1, RATE_MAX))
  if (keyBurst !== undefined) c.keyBurst = keyBurst
  const ttr = opt(a, "ttr", (v) => intOption(v, "ttr", 1, MAX_TTR))
  if (ttr !== undefined) c.ttr = ttr
  const retry = opt(a, "retry", (v) => parseRetry(v))
  if (retry !== undefined) c.retry = retry
  return c
}

export const CONFIG_KEYS = ["queue", "ttr", "retry", "rate", "burst", "retention", "maxAge", "maxBytes", "maxMessages", "paused"] as const

/** A queue's config fields from CONFIG args. */
export function queueConfig(a: Record<string, unknown>): QueueConfig {
  const config: QueueConfig = {}
  const ttr = opt(a, "ttr", (v) => intOption(v, "ttr", 1, MAX_TTR))
  if (ttr !== undefined) config.ttr = ttr
  const retry = opt(a, "retry", (v) => parseRetry(v))
  if (retry !== undefined) config.retry = retry
  const rate = opt(a, "rate", (v) => rateOption(v, "rate"))
  if (rate !== undefined) config.rate = rate
  const burst = opt(a, "burst", (v) => intOption(v, "burst", 1, RATE_MAX))
  if (burst !== undefined) config.burst = burst
  const retention = opt(a, "retention", (v) => {
    if (v !== "acked" && v !== "limits") throw new QueueError("BAD_OPTION", `retention must be "acked" or "limits"`)
    return v
  })
  if (retention !== undefined) config.retention = retention
  for (const k of ["maxAge", "maxBytes", "maxMessages"] as const) {
    const n = opt(a, k, (v) => intOption(v, k, 0, Number.MAX_SAFE_INTEGER))
    if (n !== undefined) config[k] = n
  }
  const paused = opt(a, "paused", (v) => {
    if (typeof v !== "boolean") throw new QueueError("BAD_OPTION", "paused must be true or false")
    return v
  })
  if (paused !== undefined) config.paused = paused
  return config
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
