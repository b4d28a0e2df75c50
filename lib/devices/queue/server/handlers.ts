/**
 * The device's request handlers: validate a request's frames and args, call
 * the backend, encode its answer as the reply. Every failure becomes an ERR
 * reply to that client only. Nothing here knows how the backend keeps its
 * messages (backend.ts is the whole of what is asked of it).
 */
import type { ClientHandle, DeliveredMessage, Done, NewMessage, PeekQuery, QueueBackend, SubscriptionHandle } from "../backend.js"
import { encodeCbor, EMPTY_MAP } from "../cbor.js"
import { QueueError } from "../errors.js"
import {
  COMMANDS,
  MAX_REQUEST_ID,
  MAX_TTR,
  MAX_MS,
  MSG,
  PROTOCOL_VERSION,
  PUT_KEYS,
  ITEM_KEYS,
  DEFAULT_PUT,
  checkHeaders,
  decodeArgs,
  intOption,
  deliveryPayload,
  errFrames,
  okFrames,
  onlyKeys,
  opt,
  peekPayload,
  putOptions,
  queueName,
  keyOption,
  groupName,
  positionOption,
  groupConfig,
  queueConfig,
  rangePayload,
  GROUP_CONFIG_KEYS,
  CONFIG_KEYS,
} from "./protocol.js"
import { parseFilter } from "../model/filter.js"
import type { Tracer } from "./tracer.js"
import { outerName, type Access, type Principal } from "./access.js"
import { clientQueueName } from "./protocol.js"

const EMPTY = Buffer.alloc(0)
const MAX_CREDIT = 1_000_000
const MAX_ACKS = 100_000
const MAX_REASON = 1024
const PEEK_STATES = ["ready", "delayed", "reserved", "buried"] as const
const PURGE_STATES = ["ready", "delayed", "buried"] as const
const MAX_RANGE = 10_000

/** A client connection as the device knows it (by ROUTER routing id), and its handle at the backend. */
export class Session {
  /** Subscriptions by tag (hex of the CONSUME request id). */
  readonly subs = new Map<string, SubscriptionHandle>()
  readonly name: string
  readonly client: ClientHandle
  constructor(
    readonly addr: Buffer,
    readonly key: string,
    backend: QueueBackend,
  ) {
    this.name = addr.toString("hex")
    this.client = backend.openClient(this.name)
  }
  get idle(): boolean {
    return this.client.idle
  }
}

/** What the handlers need from the device. */
export interface HandlerContext {
  readonly backend: QueueBackend
  /** The handle for requests of a client without a session: it holds nothing, so its settles find no lease. */
  readonly nobody: ClientHandle
  readonly maxBodySize: number
  readonly maxBatch: number
  readonly maxBatchBytes: number
  /** Traces are kept (producer names recorded). */
  readonly tracing: boolean
  readonly tracer: Tracer | undefined
  /** The access list, if the device has one. */
  readonly access: Access | undefined
  /** The ZAP user id of the connection `addr` (undefined: none). */
  userOf(addr: Buffer): string | undefined
  send(frames: Buffer[]): void
  /** The session of `addr`, created if `create`. */
  session(addr: Buffer, create: boolean): Session | undefined
  /** Device-wide figures for STATS. */
  deviceStats(): Record<string, unknown>
}

const copy = (b: Buffer): Buffer => Buffer.from(b)

function errorReply(addr: Buffer, reqId: Buffer, err: Error): Buffer[] {
  return err instanceof QueueError ? errFrames(addr, reqId, err.code, err.message) : errFrames(addr, reqId, "INTERNAL", err.message)
}

/** The `done` of a backend call: its result encoded by `encode` as the OK reply, or the ERR reply. */
function replyWith<T>(ctx: HandlerContext, addr: Buffer, reqId: Buffer, encode: (r: T) => Buffer): Done<T> {
  return (err, r) => ctx.send(err ? errorReply(addr, reqId, err) : okFrames(addr, reqId, encode(r as T)))
}

const cbor = (r: unknown): Buffer => encodeCbor(r)
/** Queue names as the backend has them, without an access list (no function made per request). */
const sameName = (q: string): string => q
const emptyMap = (): Buffer => EMPTY_MAP

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
      if (typeof v !== "string" || v.length === 0 || v.length > 200)
        throw new QueueError("BAD_OPTION", "consumer must be a string of 1-200 characters")
      return v
    }) ?? s.name
  )
}

function frameCount(frames: Buffer[], n: number, shape: string): void {
  if (frames.length !== n) throw new QueueError("BAD_REQUEST", `expected ${shape} (${n - 1} frames), got ${frames.length - 1}`)
}

function checkBody(ctx: HandlerContext, body: Buffer, where: string): void {
  if (body.length > ctx.maxBodySize)
    throw new QueueError("TOO_LARGE", `${where}body of ${body.length} bytes exceeds the limit of ${ctx.maxBodySize}`)
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
    if (args.queue !== undefined && args.queue !== null) clientQueueName(args.queue)
    let who: Principal | undefined
    if (ctx.access !== undefined) {
      who = ctx.access.principal(ctx.userOf(addr))
      ctx.access.authorize(who, command, args, clientQueueName)
    }
    dispatch(ctx, command, args, frames, addr, reqId, who)
  } catch (err) {
    ctx.send(errorReply(addr, reqId, err as Error))
  }
}

function dispatch(
  ctx: HandlerContext,
  command: string,
  a: Record<string, unknown>,
  frames: Buffer[],
  addr: Buffer,
  reqId: Buffer,
  who: Principal | undefined,
): void {
  const b = ctx.backend
  const access = ctx.access
  /** The client's name of a backend queue (namespaces stripped). */
  const outer = access === undefined ? sameName : outerName
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
      const key = opt(a, "key", (v) => keyOption(v, ""))
      b.put(
        queue,
        { options: o, headers: headers.length > 0 ? copy(headers) : EMPTY, body: copy(body), key, producer: producerName(ctx, addr) },
        replyWith(ctx, addr, reqId, cbor),
      )
      return
    }
    case "PUTB": {
      onlyKeys(a, ["queue", "items"], "PUTB")
      const queue = queueName(a.queue)
      if (!Array.isArray(a.items) || a.items.length === 0)
        throw new QueueError("BAD_OPTION", "items must be a non-empty array (one entry per message, null for defaults)")
      const n = a.items.length
      if (n > ctx.maxBatch) throw new QueueError("TOO_LARGE", `a batch of ${n} messages exceeds the limit of ${ctx.maxBatch}`)
      frameCount(frames, 4 + 2 * n, `[PUTB, requestId, args, then headers and body for each of the ${n} items]`)
      const items: NewMessage[] = []
      const producer = producerName(ctx, addr)
      let total = 0
      for (let i = 0; i < n; i++) {
        const raw = (a.items as unknown[])[i]
        let options = DEFAULT_PUT
        let key: string | undefined
        if (raw !== null && raw !== undefined) {
          if (typeof raw !== "object" || Array.isArray(raw) || raw instanceof Uint8Array)
            throw new QueueError("BAD_OPTION", `items[${i}] must be a map or null`)
          const o = raw as Record<string, unknown>
          const where = `items[${i}].`
          onlyKeys(o, ITEM_KEYS, `PUTB items[${i}]`)
          options = putOptions(o, where)
          key = opt(o, "key", (v) => keyOption(v, where))
        }
        const headers = frames[4 + 2 * i]!
        const body = frames[5 + 2 * i]!
        // (The item's place in an error message is made only for an error.)
        if (body.length > ctx.maxBodySize) checkBody(ctx, body, `items[${i}].`)
        if (headers.length > 0) checkHeaders(headers, `items[${i}].`)
        total += body.length + headers.length
        items.push({ options, headers: headers.length > 0 ? copy(headers) : EMPTY, body: copy(body), key, producer })
      }
      if (total > ctx.maxBatchBytes) throw new QueueError("TOO_LARGE", `a batch of ${total} bytes exceeds the limit of ${ctx.maxBatchBytes}`)
      b.putBatch(queue, items, replyWith(ctx, addr, reqId, cbor))
      return
    }
    case "RESERVE": {
      onlyKeys(a, ["queue", "timeout", "consumer", "group"], "RESERVE")
      const queue = queueName(a.queue)
      const group = opt(a, "group", groupName)
      const timeout = opt(a, "timeout", (v) => intOption(v, "timeout", 0, MAX_MS))
      const s = ctx.session(addr, true)!
      // A reserve may wait long: keep copies, not slices of the receive buffer.
      const to = s.addr
      const id = copy(reqId)
      b.reserve(
        s.client,
        queue,
        timeout,
        consumerName(a, s),
        (err, m) => {
          if (err) ctx.send(errorReply(to, id, err))
          else if (m) ctx.send(okFrames(to, id, deliveryPayload(outer(queue), [m]), [m.headers, m.body]))
          else ctx.send(okFrames(to, id, deliveryPayload(outer(queue), [])))
        },
        group,
      )
      return
    }
    case "CONSUME": {
      onlyKeys(a, ["queue", "credit", "consumer", "group", "filter"], "CONSUME")
      const queue = queueName(a.queue)
      const group = opt(a, "group", groupName)
      const filter = opt(a, "filter", (v) => parseFilter(v))
      const credit = opt(a, "credit", (v) => intOption(v, "credit", 1, MAX_CREDIT)) ?? 100
      const s = ctx.session(addr, true)!
      const key = reqId.toString("hex")
      if (s.subs.has(key)) throw new QueueError("BAD_REQUEST", "a subscription with this request id exists; use a new request id")
      const name = consumerName(a, s)
      const tag = copy(reqId)
      const to = s.addr
      // Deliveries made inside consume() wait for its OK (a refusal, such as no such group, is the only reply).
      let held: Buffer[][] | null = []
      const sink = (q: string, msgs: readonly DeliveredMessage[]): void => {
        const frames: Buffer[] = [to, MSG, tag, deliveryPayload(outer(q), msgs)]
        for (let i = 0; i < msgs.length; i++) frames.push(msgs[i]!.headers, msgs[i]!.body)
        if (held !== null) held.push(frames)
        else ctx.send(frames)
      }
      const sub = b.consume(s.client, queue, credit, name, sink, { group, filter })
      s.subs.set(key, sub)
      ctx.send(okFrames(addr, reqId, EMPTY_MAP))
      for (const f of held) ctx.send(f)
      held = null
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
      b.ack(client(ctx, addr), pairs, replyWith(ctx, addr, reqId, cbor))
      return
    }
    case "NACK": {
      onlyKeys(a, ["seq", "attempt", "delay"], "NACK")
      const delay = opt(a, "delay", (v) => intOption(v, "delay", 0, MAX_MS))
      b.nack(
        client(ctx, addr),
        seqArg(a),
        attemptArg(a),
        delay,
        replyWith(ctx, addr, reqId, (state) => encodeCbor({ state })),
      )
      return
    }
    case "TOUCH": {
      onlyKeys(a, ["seq", "attempt", "ttr"], "TOUCH")
      const ttr = opt(a, "ttr", (v) => intOption(v, "ttr", 1, MAX_TTR))
      b.touch(
        client(ctx, addr),
        seqArg(a),
        attemptArg(a),
        ttr,
        replyWith(ctx, addr, reqId, (deadline) => encodeCbor({ deadline })),
      )
      return
    }
    case "BURY": {
      onlyKeys(a, ["seq", "attempt", "reason"], "BURY")
      const reason =
        opt(a, "reason", (v) => {
          if (typeof v !== "string" || Buffer.byteLength(v) > MAX_REASON)
            throw new QueueError("BAD_OPTION", `reason must be a string of at most ${MAX_REASON} bytes`)
          return v
        }) ?? "buried"
      b.bury(client(ctx, addr), seqArg(a), attemptArg(a), reason, replyWith(ctx, addr, reqId, emptyMap))
      return
    }
    case "KICK": {
      onlyKeys(a, ["queue", "count", "seq", "group"], "KICK")
      const queue = queueName(a.queue)
      const group = opt(a, "group", groupName)
      const count = opt(a, "count", (v) => intOption(v, "count", 1, 2 ** 31)) ?? 1
      const seq = a.seq === undefined || a.seq === null ? undefined : seqArg(a)
      b.kick(
        queue,
        count,
        seq,
        replyWith(ctx, addr, reqId, (kicked) => encodeCbor({ kicked })),
        group,
      )
      return
    }
    case "PEEK": {
      onlyKeys(a, ["queue", "state", "count", "seq", "id", "group", "skip"], "PEEK")
      const byKey = a.seq !== undefined || a.id !== undefined
      b.peek(peekQuery(a), (err, found) => {
        if (err) return ctx.send(errorReply(addr, reqId, err))
        let shown = found!
        if (access !== undefined)
          shown = shown.filter((m) => access.visible(who, m.queue, "admin")).map((m) => ({ ...m, queue: outer(m.queue) }))
        if (byKey && shown.length === 0) return ctx.send(errFrames(addr, reqId, "NOT_FOUND", "no such message"))
        const [result, data] = peekPayload(shown)
        ctx.send(okFrames(addr, reqId, result, data))
      })
      return
    }
    case "STATS": {
      onlyKeys(a, ["queue"], "STATS")
      const queue = opt(a, "queue", queueName)
      b.stats(
        queue,
        replyWith(ctx, addr, reqId, (queues) => {
          if (access === undefined) return encodeCbor({ ...ctx.deviceStats(), queues })
          const mine: typeof queues = {}
          for (const [name, st] of Object.entries(queues)) if (access.visible(who, name)) mine[outer(name)] = st
          return encodeCbor({ ...ctx.deviceStats(), queues: mine })
        }),
      )
      return
    }
    case "PURGE": {
      onlyKeys(a, ["queue", "states"], "PURGE")
      const queue = queueName(a.queue)
      const states = opt(a, "states", (v) => {
        if (!Array.isArray(v) || v.length === 0 || !v.every((x) => PURGE_STATES.includes(x as (typeof PURGE_STATES)[number])))
          throw new QueueError("BAD_OPTION", `states must be a non-empty array of ${PURGE_STATES.join(", ")}`)
        return v as (typeof PURGE_STATES)[number][]
      }) ?? ["ready", "delayed"]
      b.purge(
        queue,
        states,
        replyWith(ctx, addr, reqId, (purged) => encodeCbor({ purged })),
      )
      return
    }
    case "CONFIG": {
      onlyKeys(a, CONFIG_KEYS, "CONFIG")
      const queue = queueName(a.queue)
      const config = queueConfig(a)
      b.configure(queue, config, replyWith(ctx, addr, reqId, cbor))
      return
    }
    case "GROUP": {
      onlyKeys(a, ["queue", "group", "start", ...GROUP_CONFIG_KEYS], "GROUP")
      const queue = queueName(a.queue)
      const group = groupName(a.group)
      const start = opt(a, "start", (v) => positionOption(v, "start"))
      b.group(queue, group, groupConfig(a), start, replyWith(ctx, addr, reqId, cbor))
      return
    }
    case "UNGROUP": {
      onlyKeys(a, ["queue", "group"], "UNGROUP")
      b.ungroup(queueName(a.queue), groupName(a.group), replyWith(ctx, addr, reqId, emptyMap))
      return
    }
    case "SEEK": {
      onlyKeys(a, ["queue", "group", "to"], "SEEK")
      const queue = queueName(a.queue)
      const group = groupName(a.group)
      if (a.to === undefined || a.to === null) throw new QueueError("BAD_OPTION", "to is required")
      b.seek(
        queue,
        group,
        positionOption(a.to, "to"),
        replyWith(ctx, addr, reqId, (offset) => encodeCbor({ offset })),
      )
      return
    }
    case "RANGE": {
      onlyKeys(a, ["queue", "from", "count"], "RANGE")
      const queue = queueName(a.queue)
      const from = opt(a, "from", (v) => positionOption(v, "from")) ?? "first"
      const count = opt(a, "count", (v) => intOption(v, "count", 1, MAX_RANGE)) ?? 100
      b.range(queue, from, count, (err, r) => {
        if (err) return ctx.send(errorReply(addr, reqId, err))
        const data: Buffer[] = []
        for (const m of r!.messages) data.push(m.headers, m.body)
        ctx.send(okFrames(addr, reqId, rangePayload(outer(queue), r!.next, r!.messages), data))
      })
      return
    }
    case "TRACE": {
      onlyKeys(a, ["queue", "seq", "id"], "TRACE")
      if (ctx.tracer === undefined || !ctx.tracer.keepTraces)
        throw new QueueError("BAD_REQUEST", "this device keeps no traces (start it with trace: true, or omq-queue --trace)")
      let found
      if (a.seq !== undefined && a.seq !== null) found = ctx.tracer.trace({ seq: seqArg(a) })
      else {
        if (typeof a.id !== "string") throw new QueueError("BAD_OPTION", "TRACE needs seq, or queue and id")
        found = ctx.tracer.trace({ queue: queueName(a.queue), id: a.id })
      }
      if (found !== undefined && access !== undefined) {
        found = access.visible(who, found.events[0]!.queue, "admin")
          ? { ...found, events: found.events.map((e) => ({ ...e, queue: outer(e.queue) })) }
          : undefined
      }
      if (found === undefined) throw new QueueError("NOT_FOUND", "no trace of such a message (never seen, or finished too long ago)")
      ctx.send(okFrames(addr, reqId, encodeCbor(found)))
      return
    }
    case "HELLO":
      ctx.send(
        okFrames(
          addr,
          reqId,
          encodeCbor({
            protocol: "omq-queue",
            version: PROTOCOL_VERSION,
            maxBodySize: ctx.maxBodySize,
            maxBatch: ctx.maxBatch,
            maxBatchBytes: ctx.maxBatchBytes,
            commands: COMMANDS,
          }),
        ),
      )
      return
    default:
      throw new QueueError(
        "UNKNOWN_COMMAND",
        `unknown command ${JSON.stringify(frames[1]!.toString("latin1").slice(0, 16))}; this device speaks ${COMMANDS.join(" ")}`,
      )
  }
}

/** Who a put came from (its connection's id in hex), when the device keeps traces; undefined otherwise (no cost per put). */
function producerName(ctx: HandlerContext, addr: Buffer): string | undefined {
  return ctx.tracing ? addr.toString("hex") : undefined
}

/** The backend handle of `addr`'s session, or `nobody` if it has none (then it holds no lease). */
function client(ctx: HandlerContext, addr: Buffer): ClientHandle {
  return ctx.session(addr, false)?.client ?? ctx.nobody
}

/** PEEK args: by seq, by (queue, id), or the first `count` (1-1000, default 1) of a queue in `state` (default ready). */
function peekQuery(a: Record<string, unknown>): PeekQuery {
  if (a.seq !== undefined && a.seq !== null) return { by: "seq", seq: intOption(a.seq, "seq", 1, Number.MAX_SAFE_INTEGER) }
  if (a.id !== undefined && a.id !== null) {
    if (typeof a.id !== "string") throw new QueueError("BAD_OPTION", "id must be a string")
    return { by: "id", queue: queueName(a.queue), id: a.id }
  }
  const queue = queueName(a.queue)
  const state =
    opt(a, "state", (v) => {
      if (!PEEK_STATES.includes(v as (typeof PEEK_STATES)[number]))
        throw new QueueError("BAD_OPTION", `state must be one of ${PEEK_STATES.join(", ")}`)
      return v as (typeof PEEK_STATES)[number]
    }) ?? "ready"
  const count = opt(a, "count", (v) => intOption(v, "count", 1, 1000)) ?? 1
  const skip = opt(a, "skip", (v) => intOption(v, "skip", 0, 100_000_000))
  return { by: "state", queue, state, count, group: opt(a, "group", groupName), skip }
}
