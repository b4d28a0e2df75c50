/**
 * The device's request handlers: validate a request's frames and args, call
 * the broker, reply. Every failure becomes an ERR reply to that client only.
 */
import { encodeCbor, EMPTY_MAP } from "../cbor.js"
import type { BatchItem, Broker } from "../model/broker.js"
import { QueueError } from "../errors.js"
import type { Consumer, LeaseHolder } from "../model/message.js"
import {
  COMMANDS,
  MAX_REQUEST_ID,
  MAX_TTR,
  MAX_MS,
  PROTOCOL_VERSION,
  PUT_KEYS,
  ITEM_KEYS,
  DEFAULT_PUT,
  checkHeaders,
  decodeArgs,
  errFrames,
  okFrames,
  onlyKeys,
  opt,
  putOptions,
  queueName,
} from "./protocol.js"
import { peek, stats } from "../model/inspect.js"
import { intOption, parseRetry } from "../model/retry.js"
import type { QueueConfig } from "../model/queue-state.js"

const EMPTY = Buffer.alloc(0)
const MAX_CREDIT = 1_000_000
const MAX_ACKS = 100_000
const MAX_REASON = 1024

/** A client connection as the device knows it (by ROUTER routing id). */
export class Session implements LeaseHolder {
  leases = 0
  waiters = 0
  readonly consumers: Consumer[] = []
  /** Subscriptions by tag (hex of the CONSUME request id). */
  readonly subs = new Map<string, Consumer>()
  readonly name: string
  constructor(
    readonly addr: Buffer,
    readonly key: string,
  ) {
    this.name = addr.toString("hex")
  }
  get idle(): boolean {
    return this.leases === 0 && this.waiters === 0 && this.consumers.length === 0
  }
}

/** What the handlers need from the device. */
export interface HandlerContext {
  readonly broker: Broker
  readonly maxBodySize: number
  readonly maxBatch: number
  readonly maxBatchBytes: number
  send(frames: Buffer[]): void
  /** The session of `addr`, created if `create`. */
  session(addr: Buffer, create: boolean): Session | undefined
  /** Device-wide figures for STATS. */
  deviceStats(): Record<string, unknown>
}

const NOBODY: LeaseHolder = { addr: EMPTY, leases: 0, waiters: 0, consumers: [] }

const copy = (b: Buffer): Buffer => Buffer.from(b)

function seqArg(o: Record<string, unknown>, k = "seq"): number {
  if (o[k] === undefined || o[k] === null) throw new QueueError("BAD_OPTION", `${k} is required`)
  return intOption(o[k], k, 1, Number.MAX_SAFE_INTEGER)
}

function attemptArg(o: Record<string, unknown>): number {
  if (o.attempt === undefined || o.attempt === null) throw new QueueError("BAD_OPTION", "attempt is required")
  return intOption(o.attempt, "attempt", 1, 2 ** 32)
}

function consumerName(o: Record<string, unknown>, s: Session): string {
  return (
    opt(o, "consumer", (v) => {
      if (typeof v !== "string" || v.length === 0 || v.length > 200) throw new QueueError("BAD_OPTION", "consumer must be a string of 1-200 characters")
      return v
    }) ?? s.name
  )
}

function frameCount(frames: Buffer[], n: number, shape: string): void {
  if (frames.length !== n) throw new QueueError("BAD_REQUEST", `expected ${shape} (${n - 1} frames), got ${frames.length - 1}`)
}

function checkBody(ctx: HandlerContext, body: Buffer, where: string): void {
  if (body.length > ctx.maxBodySize) throw new QueueError("TOO_LARGE", `${where}body of ${body.length} bytes exceeds the limit of ${ctx.maxBodySize}`)
}

/** Handles one request: frames are [routingId, command, requestId, args?, ...data]. */
export function handleRequest(ctx: HandlerContext, frames: Buffer[]): void {
  const addr = frames[0]!
  const reqIdFrame = frames[2]
  const reqId = reqIdFrame !== undefined && reqIdFrame.length >= 1 && reqIdFrame.length <= MAX_REQUEST_ID ? reqIdFrame : EMPTY
  try {
    if (frames.length < 3) throw new QueueError("BAD_REQUEST", "a request is [command, requestId, args, ...]: too few frames")
    if (reqId === EMPTY) throw new QueueError("BAD_REQUEST", `request id must be 1-${MAX_REQUEST_ID} bytes, got ${reqIdFrame!.length}`)
    const command = frames[1]!.length <= 8 ? frames[1]!.toString("latin1") : ""
    const args = decodeArgs(frames[3] ?? EMPTY)
    dispatch(ctx, command, args, frames, addr, reqId)
  } catch (err) {
    if (err instanceof QueueError) ctx.send(errFrames(addr, reqId, err.code, err.message))
    else if (ctx.broker.store.failed) ctx.send(errFrames(addr, reqId, "STORE_FAILED", `the device could not write: ${ctx.broker.store.failed.message}`))
    else ctx.send(errFrames(addr, reqId, "INTERNAL", (err as Error).message))
  }
}

function dispatch(ctx: HandlerContext, command: string, a: Record<string, unknown>, frames: Buffer[], addr: Buffer, reqId: Buffer): void {
  const b = ctx.broker
  switch (command) {
    case "PUT": {
      frameCount(frames, 6, "[PUT, requestId, args, headers, body]")
      onlyKeys(a, PUT_KEYS, "PUT")
      const queue = queueName(a.queue)
      const o = putOptions(a, "")
      const headers = frames[4]!
      const body = frames[5]!
      checkBody(ctx, body, "")
      checkHeaders(headers, "")
      b.put(queue, o, headers.length > 0 ? copy(headers) : EMPTY, copy(body), addr, reqId)
      return
    }
    case "PUTB": {
      onlyKeys(a, ["queue", "items"], "PUTB")
      const queue = queueName(a.queue)
      if (!Array.isArray(a.items) || a.items.length === 0) throw new QueueError("BAD_OPTION", "items must be a non-empty array (one entry per message, null for defaults)")
      const n = a.items.length
      if (n > ctx.maxBatch) throw new QueueError("TOO_LARGE", `a batch of ${n} messages exceeds the limit of ${ctx.maxBatch}`)
      frameCount(frames, 4 + 2 * n, `[PUTB, requestId, args, then headers and body for each of the ${n} items]`)
      const items: BatchItem[] = []
      let total = 0
      for (let i = 0; i < n; i++) {
        const where = `items[${i}].`
        const raw = (a.items as unknown[])[i]
        let options = DEFAULT_PUT
        if (raw !== null && raw !== undefined) {
          if (typeof raw !== "object" || Array.isArray(raw) || raw instanceof Uint8Array) throw new QueueError("BAD_OPTION", `items[${i}] must be a map or null`)
          const o = raw as Record<string, unknown>
          onlyKeys(o, ITEM_KEYS, `PUTB items[${i}]`)
          options = putOptions(o, where)
        }
        const headers = frames[4 + 2 * i]!
        const body = frames[5 + 2 * i]!
        checkBody(ctx, body, where)
        checkHeaders(headers, where)
        total += body.length + headers.length
        items.push({ options, headers: headers.length > 0 ? copy(headers) : EMPTY, body: copy(body) })
      }
      if (total > ctx.maxBatchBytes) throw new QueueError("TOO_LARGE", `a batch of ${total} bytes exceeds the limit of ${ctx.maxBatchBytes}`)
      b.putBatch(queue, items, addr, reqId)
      return
    }
    case "RESERVE": {
      onlyKeys(a, ["queue", "timeout", "consumer"], "RESERVE")
      const queue = queueName(a.queue)
      const timeout = opt(a, "timeout", (v) => intOption(v, "timeout", 0, MAX_MS))
      const s = ctx.session(addr, true)!
      b.reserve(s, queue, timeout, copy(reqId), consumerName(a, s))
      return
    }
    case "CONSUME": {
      onlyKeys(a, ["queue", "credit", "consumer"], "CONSUME")
      const queue = queueName(a.queue)
      const credit = opt(a, "credit", (v) => intOption(v, "credit", 1, MAX_CREDIT)) ?? 100
      const s = ctx.session(addr, true)!
      const key = reqId.toString("hex")
      if (s.subs.has(key)) throw new QueueError("BAD_REQUEST", "a subscription with this request id exists; use a new request id")
      const name = consumerName(a, s)
      ctx.send(okFrames(addr, reqId, EMPTY_MAP))
      s.subs.set(key, b.consume(s, queue, credit, copy(reqId), name))
      return
    }
    case "CREDIT":
    case "CANCEL": {
      onlyKeys(a, command === "CREDIT" ? ["sub", "credit"] : ["sub"], command)
      if (!(a.sub instanceof Uint8Array)) throw new QueueError("BAD_OPTION", "sub must be the CONSUME request id (bytes)")
      const key = Buffer.from(a.sub).toString("hex")
      const s = ctx.session(addr, false)
      const c = s?.subs.get(key)
      if (s === undefined || c === undefined) throw new QueueError("NOT_FOUND", "no such subscription on this connection")
      if (command === "CREDIT") {
        const credit = intOption(a.credit, "credit", 1, MAX_CREDIT)
        ctx.send(okFrames(addr, reqId, EMPTY_MAP)) // the reply goes before the deliveries the new credit allows
        b.setCredit(c, credit)
      } else {
        s.subs.delete(key)
        b.cancel(c)
        ctx.send(okFrames(addr, reqId, EMPTY_MAP))
      }
      return
    }
    case "ACK": {
      onlyKeys(a, ["acks"], "ACK")
      const list = a.acks
      if (!Array.isArray(list) || list.length === 0 || list.length % 2 !== 0 || list.length > 2 * MAX_ACKS) {
        throw new QueueError("BAD_OPTION", `acks must be [seq, attempt, seq, attempt, ...] with 1-${MAX_ACKS} pairs`)
      }
      const pairs = new Array<number>(list.length)
      for (let i = 0; i < list.length; i++) pairs[i] = intOption(list[i], i % 2 === 0 ? "acks seq" : "acks attempt", 0, Number.MAX_SAFE_INTEGER)
      b.ack(ctx.session(addr, false) ?? NOBODY, pairs, addr, reqId)
      return
    }
    case "NACK": {
      onlyKeys(a, ["seq", "attempt", "delay"], "NACK")
      const delay = opt(a, "delay", (v) => intOption(v, "delay", 0, MAX_MS))
      b.nack(ctx.session(addr, false) ?? NOBODY, seqArg(a), attemptArg(a), delay, addr, reqId)
      return
    }
    case "TOUCH": {
      onlyKeys(a, ["seq", "attempt", "ttr"], "TOUCH")
      const ttr = opt(a, "ttr", (v) => intOption(v, "ttr", 1, MAX_TTR))
      const deadline = b.touch(ctx.session(addr, false) ?? NOBODY, seqArg(a), attemptArg(a), ttr)
      ctx.send(okFrames(addr, reqId, encodeCbor({ deadline })))
      return
    }
    case "BURY": {
      onlyKeys(a, ["seq", "attempt", "reason"], "BURY")
      const reason =
        opt(a, "reason", (v) => {
          if (typeof v !== "string" || Buffer.byteLength(v) > MAX_REASON) throw new QueueError("BAD_OPTION", `reason must be a string of at most ${MAX_REASON} bytes`)
          return v
        }) ?? "buried"
      b.buryLeased(ctx.session(addr, false) ?? NOBODY, seqArg(a), attemptArg(a), reason, addr, reqId)
      return
    }
    case "KICK": {
      onlyKeys(a, ["queue", "count", "seq"], "KICK")
      const queue = queueName(a.queue)
      const count = opt(a, "count", (v) => intOption(v, "count", 1, 2 ** 31)) ?? 1
      const seq = a.seq === undefined || a.seq === null ? undefined : seqArg(a)
      b.kick(queue, count, seq, addr, reqId)
      return
    }
    case "PEEK": {
      onlyKeys(a, ["queue", "state", "count", "seq", "id"], "PEEK")
      const [result, data] = peek(b, a)
      ctx.send(okFrames(addr, reqId, result, data))
      return
    }
    case "STATS": {
      onlyKeys(a, ["queue"], "STATS")
      const queue = opt(a, "queue", queueName)
      ctx.send(okFrames(addr, reqId, encodeCbor({ ...ctx.deviceStats(), queues: stats(b, queue) })))
      return
    }
    case "CONFIG": {
      onlyKeys(a, ["queue", "ttr", "retry"], "CONFIG")
      const queue = queueName(a.queue)
      const config: QueueConfig = {}
      const ttr = opt(a, "ttr", (v) => intOption(v, "ttr", 1, MAX_TTR))
      if (ttr !== undefined) config.ttr = ttr
      const retry = opt(a, "retry", (v) => parseRetry(v))
      if (retry !== undefined) config.retry = retry
      b.configure(queue, config, addr, reqId)
      return
    }
    case "HELLO":
      ctx.send(
        okFrames(
          addr,
          reqId,
          encodeCbor({ protocol: "omq-queue", version: PROTOCOL_VERSION, maxBodySize: ctx.maxBodySize, maxBatch: ctx.maxBatch, maxBatchBytes: ctx.maxBatchBytes, commands: COMMANDS }),
        ),
      )
      return
    default:
      throw new QueueError("UNKNOWN_COMMAND", `unknown command ${JSON.stringify(frames[1]!.toString("latin1").slice(0, 16))}; this device speaks ${COMMANDS.join(" ")}`)
  }
}
