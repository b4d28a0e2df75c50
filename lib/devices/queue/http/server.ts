/**
 * The device's web view and metrics (QueueDevice `http`, `omq-queue --http HOST:PORT`): one
 * node:http server, off unless asked for.
 *
 *   GET  /                                 the page (page.ts: no build step, no dependencies)
 *   GET  /api/overview                     the device and every queue the user may see, with rates
 *   GET  /api/events                       the same, pushed every second (Server-Sent Events)
 *   GET  /api/queues/Q/messages?state=buried&count=50&skip=0&group=G   PEEK
 *   GET  /api/messages/SEQ                 one message
 *   POST /api/queues/Q/kick  {seq?|count?, group?}     KICK
 *   POST /api/queues/Q/pause | /resume                 CONFIG paused
 *   POST /api/queues/Q/purge {states?}                 PURGE
 *   GET  /metrics                          Prometheus text (metrics.ts)
 *
 * Every action is a request of the queue protocol run as the HTTP user (handlers.ts checks it as
 * it checks a client's), so the tenancy rules are the same: with an access list, users log in
 * with HTTP Basic as the PLAIN user they are (the anonymous entry, if any, without credentials)
 * and see only their namespace's queues, by the names they know. /metrics, which spans every
 * namespace, then needs a user with the admin right on every queue ("*") of the plain namespace.
 * Requests are bounded (64 KiB bodies, header and request timeouts); a POST must be JSON and,
 * from a browser, from the page's own origin.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { createDebug } from "../../../debug.js"
import type { QueueStats } from "../backend.js"
import { decodeCbor } from "../cbor.js"
import type { Command } from "../commands.js"
import { QueueError } from "../errors.js"
import { outerName, type Access, type Principal } from "../server/access.js"
import type { QueueMetrics } from "./metrics.js"
import { APP_JS, PAGE_HTML } from "./page.js"

const debug = createDebug("omq:queue:http")

const MAX_BODY = 64 * 1024
/** An oversized body up to this size is read and dropped before the 413; a larger one ends the connection. */
const DRAIN_MAX = 1024 * 1024
const HISTORY = 300
const COUNTERS = ["puts", "acks", "nacks", "deliveries", "deadLetters"] as const

/** What the web view asks of its device. */
export interface ViewSource {
  /** Runs a protocol request as user `userId` (the access rules apply as to a client of that user). */
  request(
    userId: string | undefined,
    command: Command,
    args: Record<string, unknown>,
  ): Promise<{ result: Record<string, unknown>; data: Buffer[] }>
  /** Every queue's stats (the backend's names) and the device's figures. Throws QueueError FOLLOWER on a device that follows another. */
  allStats(): Promise<{ device: Record<string, unknown>; queues: Record<string, QueueStats> }>
  readonly access: Access | undefined
}

interface Sample {
  t: number
  counts: Record<string, readonly number[]>
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/** A CBOR-decoded value as JSON: bytes as {$bytes: base64}, bigints as numbers (or strings past 2^53), maps as objects. */
export function jsonSafe(v: unknown, depth = 0): Json {
  if (depth > 32) return "…"
  if (v === null || v === undefined) return null
  if (typeof v === "bigint") return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString()
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v)
  if (typeof v === "string" || typeof v === "boolean") return v
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") }
  if (v instanceof Date) return v.toISOString()
  if (Array.isArray(v)) return v.map((x) => jsonSafe(x, depth + 1))
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), jsonSafe(x, depth + 1)]))
  if (typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x, depth + 1)]))
  return String(v)
}

/** A peeked message for the page: its fields, headers as JSON, the body as base64, and as text or CBOR where it reads as such. */
function messageJson(meta: Record<string, unknown>, headers: Buffer | undefined, body: Buffer | undefined): Json {
  const b = body ?? Buffer.alloc(0)
  const out: { [k: string]: Json } = jsonSafe(meta) as { [k: string]: Json }
  out.headers = headers === undefined || headers.length === 0 ? {} : jsonSafe(safeDecode(headers))
  out.body = b.toString("base64")
  const text = b.toString("utf8")
  if (Buffer.from(text, "utf8").equals(b)) out.text = text
  if (b.length > 0) {
    const cbor = safeDecode(b)
    if (cbor !== undefined) out.cbor = jsonSafe(cbor)
  }
  return out
}

function safeDecode(b: Buffer): unknown {
  try {
    return decodeCbor(b)
  } catch {
    return undefined
  }
}

const STATUS: Record<string, number> = {
  BAD_OPTION: 400,
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TOO_LARGE: 413,
  FOLLOWER: 503,
  STORE_FAILED: 503,
  SHUTTING_DOWN: 503,
}

export class QueueHttp {
  private readonly server: Server
  private readonly streams = new Set<{ res: ServerResponse; who: Principal | undefined; userId: string | undefined }>()
  private readonly history: Sample[] = []
  private timer: NodeJS.Timeout | undefined
  private last: { device: Record<string, unknown>; queues: Record<string, QueueStats> } | undefined
  private lastError: QueueError | undefined
  /** Where the server listens (http://host:port). */
  url = ""

  private constructor(
    private readonly source: ViewSource,
    private readonly metrics: QueueMetrics | undefined,
  ) {
    this.server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
      this.route(req, res).catch((err: unknown) => this.fail(res, err))
    })
    this.server.headersTimeout = 10_000
    this.server.requestTimeout = 30_000
    this.server.keepAliveTimeout = 5_000
    // A malformed request gets 400 and its connection closed; nothing else is affected.
    this.server.on("clientError", (_err, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
      else socket.destroy()
    })
  }

  /** Listens on `address` ("host:port", "port", or ":port" for 127.0.0.1). */
  static async start(address: string, source: ViewSource, metrics?: QueueMetrics): Promise<QueueHttp> {
    const m = /^(?:(.*):)?(\d{1,5})$/.exec(address)
    const port = m === null ? NaN : Number(m[2])
    if (m === null || port > 65535) throw new QueueError("BAD_OPTION", `http must be HOST:PORT or PORT, not ${JSON.stringify(address)}`)
    const host = m[1] === undefined || m[1] === "" ? "127.0.0.1" : m[1].replace(/^\[(.*)\]$/, "$1")
    const view = new QueueHttp(source, metrics)
    await new Promise<void>((resolve, reject) => {
      view.server.once("error", (err) => reject(new QueueError("BAD_OPTION", `cannot listen on ${address} for http: ${err.message}`)))
      view.server.listen(port, host, () => resolve())
    })
    const a = view.server.address() as AddressInfo
    view.url = `http://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`
    view.timer = setInterval(() => void view.tick(), 1000)
    view.timer.unref()
    await view.tick()
    debug("web view at %s", view.url)
    return view
  }

  /** Samples the counters (for the rates and charts) and pushes the overview to every open event stream. */
  private async tick(): Promise<void> {
    try {
      this.last = await this.source.allStats()
      this.lastError = undefined
    } catch (err) {
      this.last = undefined
      this.lastError = err instanceof QueueError ? err : new QueueError("INTERNAL", (err as Error).message)
    }
    if (this.last !== undefined) {
      const counts: Record<string, number[]> = {}
      for (const [name, q] of Object.entries(this.last.queues)) counts[name] = COUNTERS.map((k) => q[k] ?? 0)
      this.history.push({ t: Date.now(), counts })
      if (this.history.length > HISTORY) this.history.shift()
    }
    for (const s of this.streams) this.push(s)
  }

  private push(s: { res: ServerResponse; who: Principal | undefined; userId: string | undefined }): void {
    const body = this.lastError !== undefined ? { error: { code: this.lastError.code, message: this.lastError.message } } : this.overview(s.who)
    s.res.write(`event: overview\ndata: ${JSON.stringify(body)}\n\n`)
  }

  /** What `who` may see: the device, its queues by the names they know, rates per second and the last minutes' history. */
  private overview(who: Principal | undefined): Json {
    const access = this.source.access
    const visible = (internal: string) => access === undefined || access.visible(who, internal)
    const last = this.last!
    const h = this.history
    const queues: Json[] = []
    for (const [name, q] of Object.entries(last.queues)) {
      if (!visible(name)) continue
      const series: number[][] = COUNTERS.map(() => [])
      for (let i = 1; i < h.length; i++) {
        const a = h[i - 1]!.counts[name]
        const b = h[i]!.counts[name]
        const dt = (h[i]!.t - h[i - 1]!.t) / 1000
        COUNTERS.forEach((_, k) => series[k]!.push(a === undefined || b === undefined || dt <= 0 ? 0 : Math.max(0, (b[k]! - a[k]!) / dt)))
      }
      const rates: { [k: string]: Json } = {}
      const history: { [k: string]: Json } = {}
      COUNTERS.forEach((k, i) => {
        rates[k] = series[i]!.at(-1) ?? 0
        history[k] = series[i]!.map((x) => Math.round(x * 10) / 10)
      })
      const i = name.indexOf("#")
      queues.push({
        name: outerName(name),
        namespace: i < 0 ? "" : name.slice(0, i),
        ...(jsonSafe(q) as { [k: string]: Json }),
        rates,
        history,
      })
    }
    const device = { ...last.device }
    return { device: jsonSafe(device), queues, at: Date.now(), user: who?.name ?? null }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost")
    const parts = url.pathname.split("/").slice(1)
    const method = req.method ?? "GET"
    res.setHeader("X-Content-Type-Options", "nosniff")
    // The page too needs a log-in: the browser asks once and sends it with every request after.
    const auth = this.authenticate(req)
    if (auth === "denied") {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="omq-queue", charset="UTF-8"', "Content-Type": "application/json" })
      res.end(JSON.stringify({ error: { code: "UNAUTHENTICATED", message: "log in as a user of the device's access list" } }))
      return
    }
    const { userId, who } = auth
    if (url.pathname === "/" || url.pathname === "/index.html") return this.asset(req, res, method, "text/html; charset=utf-8", PAGE_HTML)
    if (url.pathname === "/app.js") return this.asset(req, res, method, "text/javascript; charset=utf-8", APP_JS)
    if (url.pathname === "/metrics") {
      if (method !== "GET") return this.methodNotAllowed(res, "GET")
      if (this.metrics === undefined) throw new QueueError("NOT_FOUND", "this device has no metrics")
      const access = this.source.access
      if (access !== undefined && !access.seesEverything(who))
        throw new QueueError("FORBIDDEN", "metrics span every namespace: they need a user with admin on every queue")
      const text = await this.metrics.text()
      res.writeHead(200, { "Content-Type": this.metrics.contentType })
      res.end(text)
      return
    }
    if (parts[0] !== "api") throw new QueueError("NOT_FOUND", `no such page: ${url.pathname}`)
    // GET /api/overview, /api/events
    if (parts.length === 2 && (parts[1] === "overview" || parts[1] === "events")) {
      if (method !== "GET") return this.methodNotAllowed(res, "GET")
      if (parts[1] === "overview") {
        if (this.last === undefined) await this.tick()
        if (this.lastError !== undefined) throw this.lastError
        return this.json(res, 200, this.overview(who))
      }
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "keep-alive" })
      res.write("retry: 2000\n\n")
      const s = { res, who, userId }
      this.streams.add(s)
      req.on("close", () => this.streams.delete(s))
      if (this.last !== undefined || this.lastError !== undefined) this.push(s)
      return
    }
    // GET /api/messages/SEQ
    if (parts.length === 3 && parts[1] === "messages") {
      if (method !== "GET") return this.methodNotAllowed(res, "GET")
      const seq = Number(parts[2])
      if (!Number.isSafeInteger(seq) || seq < 1) throw new QueueError("BAD_OPTION", "seq must be a positive integer")
      const r = await this.source.request(userId, "PEEK", { seq })
      return this.json(res, 200, this.messages(r)[0] ?? null)
    }
    // /api/queues/Q/...
    if (parts.length === 4 && parts[1] === "queues") {
      const queue = decodeURIComponent(parts[2]!)
      const action = parts[3]
      if (action === "messages") {
        if (method !== "GET") return this.methodNotAllowed(res, "GET")
        const q = url.searchParams
        const num = (k: string) => (q.get(k) === null ? undefined : Number(q.get(k)))
        const r = await this.source.request(userId, "PEEK", {
          queue,
          state: q.get("state") ?? undefined,
          count: num("count") ?? 50,
          skip: num("skip"),
          group: q.get("group") ?? undefined,
        })
        return this.json(res, 200, { messages: this.messages(r) })
      }
      if (method !== "POST") return this.methodNotAllowed(res, "POST")
      const body = await this.readJson(req)
      switch (action) {
        case "kick": {
          const r = await this.source.request(userId, "KICK", {
            queue,
            seq: body.seq,
            count: body.all === true ? 2 ** 31 : body.count,
            group: body.group,
          })
          return this.json(res, 200, jsonSafe(r.result))
        }
        case "pause":
        case "resume":
          await this.source.request(userId, "CONFIG", { queue, paused: action === "pause" })
          await this.tick()
          return this.json(res, 200, { paused: action === "pause" })
        case "purge": {
          const r = await this.source.request(userId, "PURGE", { queue, states: body.states })
          return this.json(res, 200, jsonSafe(r.result))
        }
        default:
          break
      }
    }
    throw new QueueError("NOT_FOUND", `no such API: ${method} ${url.pathname}`)
  }

  private messages(r: { result: Record<string, unknown>; data: Buffer[] }): Json[] {
    const ms = (r.result.messages as Record<string, unknown>[] | undefined) ?? []
    return ms.map((m, i) => messageJson(m, r.data[2 * i], r.data[2 * i + 1]))
  }

  /** The user of a request: undefined without an access list; with one, HTTP Basic as a PLAIN user, or the anonymous entry. */
  private authenticate(req: IncomingMessage): { userId: string | undefined; who: Principal | undefined } | "denied" {
    const access = this.source.access
    if (access === undefined) return { userId: undefined, who: undefined }
    const header = req.headers.authorization
    if (header === undefined) {
      const anon = access.principal(undefined)
      return anon === undefined ? "denied" : { userId: "", who: anon }
    }
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header)
    if (m === null) return "denied"
    const decoded = Buffer.from(m[1]!, "base64").toString("utf8")
    const colon = decoded.indexOf(":")
    if (colon < 0) return "denied"
    const user = decoded.slice(0, colon)
    if (!access.checkPassword(user, decoded.slice(colon + 1))) return "denied"
    return { userId: user, who: access.principal(user) }
  }

  private asset(_req: IncomingMessage, res: ServerResponse, method: string, type: string, body: string): void {
    if (method !== "GET" && method !== "HEAD") return this.methodNotAllowed(res, "GET")
    res.writeHead(200, {
      "Content-Type": type,
      "Cache-Control": "no-cache",
      "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
      "X-Frame-Options": "DENY",
    })
    res.end(method === "HEAD" ? undefined : body)
  }

  /** A POST's JSON body: at most 64 KiB, Content-Type application/json, and from the page's own origin if a browser says where from. */
  private async readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
    const type = req.headers["content-type"] ?? ""
    if (!/^application\/json\b/i.test(type)) throw new QueueError("BAD_REQUEST", "a POST must carry Content-Type: application/json")
    const origin = req.headers.origin
    if (origin !== undefined && origin !== "null") {
      let host: string
      try {
        host = new URL(origin).host
      } catch {
        throw new QueueError("FORBIDDEN", "bad Origin")
      }
      if (host !== req.headers.host) throw new QueueError("FORBIDDEN", `requests from ${origin} are not accepted`)
    }
    const chunks: Buffer[] = []
    let size = 0
    const declared = Number(req.headers["content-length"] ?? 0)
    const tooLarge = () => new QueueError("TOO_LARGE", `request body over ${MAX_BODY} bytes`)
    if (declared > DRAIN_MAX) {
      req.socket.setTimeout(1).destroySoon() // not worth reading: the connection goes after the answer
      throw tooLarge()
    }
    // Read (and drop) an oversized body up to DRAIN_MAX, so the client gets the 413 rather than a reset.
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > DRAIN_MAX) {
        req.destroy()
        throw tooLarge()
      }
      if (size <= MAX_BODY) chunks.push(chunk)
    }
    if (size > MAX_BODY) throw tooLarge()
    const text = Buffer.concat(chunks).toString("utf8")
    if (text.trim() === "") return {}
    let v: unknown
    try {
      v = JSON.parse(text)
    } catch (err) {
      throw new QueueError("BAD_REQUEST", `the body is not JSON: ${(err as Error).message}`)
    }
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new QueueError("BAD_REQUEST", "the body must be a JSON object")
    return v as Record<string, unknown>
  }

  private json(res: ServerResponse, status: number, body: Json): void {
    res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" })
    res.end(JSON.stringify(body))
  }

  private methodNotAllowed(res: ServerResponse, allow: string): void {
    res.writeHead(405, { Allow: allow, "Content-Type": "application/json" })
    res.end(JSON.stringify({ error: { code: "METHOD_NOT_ALLOWED", message: `use ${allow}` } }))
  }

  private fail(res: ServerResponse, err: unknown): void {
    const e = err instanceof QueueError ? err : new QueueError("INTERNAL", (err as Error).message)
    if (!(err instanceof QueueError)) debug("request failed: %s", (err as Error).stack)
    if (res.headersSent) {
      res.destroy()
      return
    }
    this.json(res, STATUS[e.code] ?? 500, { error: { code: e.code, message: e.message } })
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    for (const s of this.streams) s.res.end()
    this.streams.clear()
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closed
  }
}
