/**
 * omq-queue's commands against a running device (cli.ts hands them over):
 *
 *   omq-queue stats  ADDR [QUEUE]
 *   omq-queue peek   ADDR QUEUE [--state S] [--count N] [--skip N] [--group G] | --seq N
 *   omq-queue put    ADDR QUEUE [BODY ...]          (no BODY: one message per line of stdin)
 *   omq-queue kick   ADDR QUEUE [--count N | --all | --seq N] [--group G]
 *   omq-queue purge  ADDR QUEUE [--dead | --everything]
 *   omq-queue tail   ADDR [QUEUE] [--events ENDPOINT]
 *   omq-queue export ADDR QUEUE [--out FILE]        (NDJSON, one message per line)
 *   omq-queue import ADDR QUEUE [--in FILE]
 *
 * Human output by default, --json for scripts (one JSON document, or one line per message or
 * event for tail and export). Each is a QueueClient (the protocol of docs/queue-protocol.md):
 * what it may do is what the device allows its user (--user/--password for PLAIN,
 * --curve-server-key with --curve-secret-key for CURVE). A device that does not answer within
 * --timeout ms (default 5000) is an error (exit 1); bad arguments exit 2.
 */
import { createReadStream, createWriteStream, statSync } from "node:fs"
import { createInterface } from "node:readline"
import { parseArgs } from "node:util"
import { Subscriber } from "../../sockets/xsub.js"
import { decodeCbor } from "./cbor.js"
import { QueueClient } from "./client/client.js"
import type { PeekedMessage, PutOptions } from "./client/types.js"
import { QueueError } from "./errors.js"
import { jsonSafe } from "./http/server.js"
import { publicKeyOf } from "../../security/crypto.js"
import { z85 } from "../../security/keys.js"

export const TOOLS = ["stats", "peek", "put", "kick", "purge", "tail", "export", "import"] as const
type Tool = (typeof TOOLS)[number]

export const TOOLS_USAGE = `       omq-queue stats  ADDR [QUEUE]                 queues, depths and rates
       omq-queue peek   ADDR QUEUE [--state ready|delayed|reserved|buried] [--count N] [--skip N] [--group G]
       omq-queue peek   ADDR --seq N                  one message
       omq-queue put    ADDR QUEUE [BODY ...]         a message per BODY, else per line of stdin
                        [--header K=V ...] [--priority N] [--delay MS] [--ttl MS] [--ttr MS] [--id ID] [--key K]
       omq-queue kick   ADDR QUEUE [--count N | --all | --seq N] [--group G]   dead letters back to ready
       omq-queue purge  ADDR QUEUE [--dead | --everything]   drop ready and delayed (or dead letters, or all three)
       omq-queue tail   ADDR [QUEUE] [--events ENDPOINT]    follow lifecycle events (puts, deliveries, acks, ...)
       omq-queue export ADDR QUEUE [--out FILE]       every message, one JSON line each (stdout by default)
       omq-queue import ADDR QUEUE [--in FILE]        put what export wrote (stdin by default)

  for all: --json (machine-readable output), --timeout MS (default 5000), --user U --password P (PLAIN),
           --curve-server-key K --curve-secret-key S (CURVE); export/import show progress on a terminal (--progress: always)`

class UsageError extends Error {}

const out = (s: string) => process.stdout.write(s)
const err = (s: string) => process.stderr.write(s)

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QueueError("TIMEOUT", `no answer from ${what} within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

function int(v: string | undefined, name: string, min = 0): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`)
  return n
}

const age = (ms: number) => (ms <= 0 ? "-" : ms < 1000 ? `${ms}ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 60_000)}m`)
const time = (t: number | undefined) => (t === undefined ? "-" : new Date(t).toISOString())

/** Rows as aligned columns (the first left, the rest right). */
function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join("  ") + "\n"
  return line(head) + rows.map(line).join("")
}

/** Bytes in JSON (export): {$bytes: base64}; back to Buffers for import. */
function fromJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fromJson)
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>
    if (typeof o.$bytes === "string" && Object.keys(o).length === 1) return Buffer.from(o.$bytes, "base64")
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, fromJson(x)]))
  }
  return v
}

function messageLine(m: PeekedMessage): Record<string, unknown> {
  const { body, headers, ...meta } = m
  return { ...(jsonSafe(meta) as object), headers: jsonSafe(headers), body: body.toString("base64") }
}

function showMessage(m: PeekedMessage): string {
  const text = m.body.toString("utf8")
  const printable = Buffer.from(text, "utf8").equals(m.body) && !m.body.some((b) => b < 0x09 || (b > 0x0d && b < 0x20))
  const lines = [
    `seq ${m.seq}  ${m.queue}  ${m.state}  attempts ${m.attempts}  priority ${m.priority}  ${m.body.length} bytes`,
    `  put ${time(m.putAt)}${m.id === undefined ? "" : `  id ${m.id}`}${m.key === undefined ? "" : `  key ${m.key}`}`,
  ]
  if (m.buryReason !== undefined) lines.push(`  dead: ${m.buryReason} at ${time(m.buriedAt)}, last consumer ${m.lastConsumer ?? "-"}`)
  if (Object.keys(m.headers).length > 0) lines.push(`  headers ${JSON.stringify(jsonSafe(m.headers))}`)
  lines.push(`  body ${printable ? JSON.stringify(text) : `(hex) ${m.body.toString("hex")}`}`)
  return lines.join("\n") + "\n"
}

/** A progress line on stderr ("\r"-rewritten), only where it is wanted. */
function progress(enabled: boolean, label: string): { update(done: number, total?: number): void; end(done: number, total?: number): void } {
  let last = 0
  const draw = (done: number, total?: number) => {
    const pct = total !== undefined && total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : undefined
    const bar = pct === undefined ? "" : `[${"#".repeat(Math.floor(pct / 5)).padEnd(20, ".")}] ${pct}% `
    err(`\r${label}: ${bar}${done.toLocaleString("en")}${total === undefined ? "" : ` of ${total.toLocaleString("en")}`}`)
  }
  return {
    update(done, total) {
      if (!enabled) return
      const now = Date.now()
      if (now - last < 100) return
      last = now
      draw(done, total)
    },
    end(done, total) {
      if (!enabled) return
      draw(done, total)
      err("\n")
    },
  }
}

export async function runTool(tool: Tool, argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: "boolean" },
        timeout: { type: "string" },
        user: { type: "string" },
        password: { type: "string" },
        "curve-server-key": { type: "string" },
        "curve-secret-key": { type: "string" },
        state: { type: "string" },
        count: { type: "string" },
        skip: { type: "string" },
        group: { type: "string" },
        seq: { type: "string" },
        all: { type: "boolean" },
        dead: { type: "boolean" },
        everything: { type: "boolean" },
        header: { type: "string", multiple: true },
        priority: { type: "string" },
        delay: { type: "string" },
        ttl: { type: "string" },
        ttr: { type: "string" },
        id: { type: "string" },
        key: { type: "string" },
        events: { type: "string" },
        out: { type: "string" },
        in: { type: "string" },
        progress: { type: "boolean" },
      },
    })
  } catch (e) {
    err(`omq-queue ${tool}: ${(e as Error).message}\n`)
    return 2
  }
  const { values: v, positionals: p } = parsed
  let client: QueueClient | undefined
  try {
    const address = p[0]
    if (address === undefined || !/^[a-z]+:\/\/./.test(address))
      throw new UsageError("the device's address comes first, e.g. tcp://127.0.0.1:5570")
    const timeout = int(v.timeout, "timeout", 1) ?? 5000
    const queue = p[1]
    const needQueue = () => {
      if (queue === undefined) throw new UsageError(`${tool} needs a queue`)
      return queue
    }
    if (tool !== "put" && p.length > 2) throw new UsageError(`unexpected argument ${JSON.stringify(p[2])}`)
    if ((v.user === undefined) !== (v.password === undefined)) throw new UsageError("--user and --password go together")
    const socket: Record<string, unknown> = { reconnectInterval: 100 }
    if (v.user !== undefined) Object.assign(socket, { plainUsername: v.user, plainPassword: v.password })
    if (v["curve-server-key"] !== undefined) {
      const secret = v["curve-secret-key"]
      if (secret === undefined || secret.length !== 40 || v["curve-server-key"].length !== 40)
        throw new UsageError("--curve-server-key and --curve-secret-key are Z85 keys of 40 characters, and go together")
      Object.assign(socket, {
        curveServerKey: v["curve-server-key"],
        curveSecretKey: secret,
        curvePublicKey: z85.encode(publicKeyOf(z85.decode(secret))),
      })
    }
    // Checked before connecting: bad arguments are not the device's fault.
    const state = v.state
    if (state !== undefined && !["ready", "delayed", "reserved", "buried"].includes(state))
      throw new UsageError("--state must be ready, delayed, reserved or buried")
    client = new QueueClient(address, { socket, maxInFlight: 1000 })
    const c = client
    // Every request is bounded: the first one to a device that is not there fails with TIMEOUT
    // (arguments are checked before it, so a bad one is a usage error whatever the device).
    const ask = <T>(q: Promise<T>) => withTimeout(q, timeout, address)
    switch (tool) {
      case "stats": {
        const s = await ask(c.stats(queue))
        if (v.json) {
          out(JSON.stringify(jsonSafe(s), null, 2) + "\n")
          break
        }
        const d = s as unknown as Record<string, unknown>
        out(
          `device: ${String(d.role ?? "leader")}, up ${age(Number(d.uptime))}, ${String(d.clients)} clients, store ${String(d.store ?? `file (fsync ${String(d.fsync)})`)}\n`,
        )
        const rows = Object.entries(s.queues).map(([name, q]) => [
          name + (q.paused === true ? " (paused)" : ""),
          String(q.ready),
          String(q.delayed),
          String(q.reserved),
          String(q.buried),
          String(q.total),
          age(q.oldestAge),
          String(q.consumers),
          String(q.puts),
          String(q.acks),
          String(q.redeliveries),
        ])
        out(table(["queue", "ready", "delayed", "reserved", "dead", "total", "oldest", "consumers", "puts", "acks", "redeliveries"], rows))
        break
      }
      case "peek": {
        const seq = int(v.seq, "seq", 1)
        const found =
          seq !== undefined
            ? [await ask(c.peekMessage({ seq }))].filter((m): m is PeekedMessage => m !== null)
            : await ask(
                c.peek(needQueue(), {
                  ...(state === undefined ? {} : { state: state as "ready" }),
                  count: int(v.count, "count", 1) ?? 10,
                  ...(v.skip === undefined ? {} : { skip: int(v.skip, "skip")! }),
                  ...(v.group === undefined ? {} : { group: v.group }),
                }),
              )
        if (v.json) out(JSON.stringify(found.map(messageLine), null, 2) + "\n")
        else if (found.length === 0) out("(none)\n")
        else for (const m of found) out(showMessage(m))
        break
      }
      case "put": {
        const q = needQueue()
        const headers: Record<string, string> = {}
        for (const h of v.header ?? []) {
          const i = h.indexOf("=")
          if (i <= 0) throw new UsageError(`--header must be KEY=VALUE, got ${JSON.stringify(h)}`)
          headers[h.slice(0, i)] = h.slice(i + 1)
        }
        const options: PutOptions = {
          ...(Object.keys(headers).length > 0 ? { headers } : {}),
          ...(v.priority === undefined ? {} : { priority: int(v.priority, "priority")! }),
          ...(v.delay === undefined ? {} : { delay: int(v.delay, "delay")! }),
          ...(v.ttl === undefined ? {} : { ttl: int(v.ttl, "ttl")! }),
          ...(v.ttr === undefined ? {} : { ttr: int(v.ttr, "ttr", 1)! }),
          ...(v.key === undefined ? {} : { key: v.key }),
        }
        const bodies = p.slice(2)
        if (v.id !== undefined && bodies.length !== 1) throw new UsageError("--id names one message: give exactly one BODY")
        if (v.id !== undefined) options.id = v.id
        const results: { seq: number; duplicate: boolean }[] = []
        const putOne = async (body: string) => results.push(await ask(c.put(q, body, options)))
        if (bodies.length > 0) for (const b of bodies) await putOne(b)
        else for await (const line of createInterface({ input: process.stdin })) await putOne(line)
        if (v.json) out(JSON.stringify(results) + "\n")
        else for (const r of results) out(`put ${q} seq ${r.seq}${r.duplicate ? " (duplicate id: stored before)" : ""}\n`)
        break
      }
      case "kick": {
        const q = needQueue()
        const seq = int(v.seq, "seq", 1)
        if ([seq !== undefined, v.all === true, v.count !== undefined].filter(Boolean).length > 1)
          throw new UsageError("--count, --all and --seq exclude each other")
        const kicked = await ask(
          c.kick(q, {
            ...(seq === undefined ? {} : { seq }),
            count: v.all === true ? 2 ** 31 : (int(v.count, "count", 1) ?? 1),
            ...(v.group === undefined ? {} : { group: v.group }),
          }),
        )
        out(v.json ? JSON.stringify({ kicked }) + "\n" : `kicked ${kicked} dead letter${kicked === 1 ? "" : "s"} of ${q} back to ready\n`)
        break
      }
      case "purge": {
        const q = needQueue()
        if (v.dead === true && v.everything === true) throw new UsageError("--dead and --everything exclude each other")
        const states: ("ready" | "delayed" | "buried")[] = v.everything
          ? ["ready", "delayed", "buried"]
          : v.dead
            ? ["buried"]
            : ["ready", "delayed"]
        const purged = await ask(c.purge(q, { states }))
        out(v.json ? JSON.stringify({ purged }) + "\n" : `purged ${purged} message${purged === 1 ? "" : "s"} (${states.join(", ")}) of ${q}\n`)
        break
      }
      case "tail": {
        const s = (await ask(c.stats())) as unknown as { events?: string }
        const endpoint = v.events ?? s.events
        if (endpoint === undefined)
          throw new QueueError("NO_EVENTS", "the device publishes no events: start it with --events ENDPOINT (or give --events)")
        await c.close(0)
        client = undefined
        const sub = new Subscriber()
        sub.connect(endpoint.replace("://0.0.0.0:", "://127.0.0.1:").replace("://*:", "://127.0.0.1:"))
        sub.subscribe(queue === undefined ? "" : queue)
        const stop = () => sub.close()
        process.once("SIGINT", stop)
        process.once("SIGTERM", stop)
        try {
          for await (const [q, payload] of sub) {
            if (queue !== undefined && q!.toString() !== queue) continue // a prefix match of another queue
            const e = jsonSafe(decodeCbor(payload!)) as Record<string, unknown>
            if (v.json) out(JSON.stringify(e) + "\n")
            else {
              const extra = ["group", "attempt", "by", "reason", "id", "key"]
                .filter((k) => e[k] !== undefined && e[k] !== null)
                .map((k) => `${k}=${String(e[k])}`)
              out(
                `${time(Number(e.at))}  ${String(e.type).padEnd(7)} ${String(e.queue)} seq ${String(e.seq)}${extra.length > 0 ? "  " + extra.join(" ") : ""}\n`,
              )
            }
          }
        } catch {
          // closed by a signal
        }
        return 0
      }
      case "export": {
        const q = needQueue()
        const stats = (await ask(c.stats(q))).queues[q]
        const total = stats === undefined ? 0 : stats.ready + stats.delayed + stats.reserved + stats.buried
        const sink: NodeJS.WritableStream = v.out === undefined ? process.stdout : createWriteStream(v.out)
        const bar = progress(v.progress === true || (v.out !== undefined && process.stderr.isTTY === true), `export ${q}`)
        let n = 0
        for (const st of ["ready", "delayed", "reserved", "buried"] as const) {
          for (let skip = 0; ; skip += 1000) {
            const page = await ask(c.peek(q, { state: st, count: 1000, skip }))
            for (const m of page) {
              if (!sink.write(JSON.stringify(messageLine(m)) + "\n")) await new Promise<void>((r) => sink.once("drain", () => r()))
              bar.update(++n, total)
            }
            if (page.length < 1000) break
          }
        }
        bar.end(n, total)
        if (sink !== process.stdout) await new Promise<void>((resolve) => sink.end(() => resolve()))
        if (v.out !== undefined)
          out(v.json ? JSON.stringify({ exported: n }) + "\n" : `exported ${n} message${n === 1 ? "" : "s"} of ${q} to ${v.out}\n`)
        break
      }
      case "import": {
        const q = needQueue()
        const size = v.in === undefined ? undefined : statSync(v.in).size
        const input = v.in === undefined ? process.stdin : createReadStream(v.in)
        const bar = progress(v.progress === true || (v.in !== undefined && process.stderr.isTTY === true), `import ${q}`)
        let n = 0
        let bytes = 0
        let line = 0
        const inFlight = new Set<Promise<unknown>>()
        for await (const text of createInterface({ input })) {
          line++
          bytes += Buffer.byteLength(text) + 1
          if (text.trim() === "") continue
          let m: Record<string, unknown>
          try {
            m = JSON.parse(text) as Record<string, unknown>
          } catch (e) {
            throw new UsageError(`line ${line} is not JSON: ${(e as Error).message}`)
          }
          if (typeof m.body !== "string") throw new UsageError(`line ${line} has no body (base64)`)
          const delay = m.state === "delayed" && typeof m.readyAt === "number" ? Math.max(0, m.readyAt - Date.now()) : 0
          const options: PutOptions = {
            ...(typeof m.priority === "number" ? { priority: m.priority } : {}),
            ...(typeof m.ttr === "number" ? { ttr: m.ttr } : {}),
            ...(delay > 0 ? { delay } : {}),
            ...(typeof m.id === "string" ? { id: m.id } : {}),
            ...(typeof m.key === "string" ? { key: m.key } : {}),
            ...(m.headers !== null && typeof m.headers === "object" && Object.keys(m.headers).length > 0
              ? { headers: fromJson(m.headers) as Record<string, unknown> }
              : {}),
          }
          const put = ask(c.put(q, Buffer.from(m.body, "base64"), options)).then(() => {
            inFlight.delete(put)
            bar.update(++n, size === undefined ? undefined : Math.round((n * size) / Math.max(1, bytes)))
          })
          inFlight.add(put)
          if (inFlight.size >= 500) await Promise.race(inFlight)
        }
        await Promise.all(inFlight)
        bar.end(n)
        out(v.json ? JSON.stringify({ imported: n }) + "\n" : `imported ${n} message${n === 1 ? "" : "s"} into ${q}\n`)
        break
      }
    }
    return 0
  } catch (e) {
    if (e instanceof UsageError) {
      err(`omq-queue ${tool}: ${e.message}\n`)
      return 2
    }
    err(`omq-queue ${tool}: ${e instanceof QueueError ? `${e.code}: ` : ""}${(e as Error).message}\n`)
    return 1
  } finally {
    await client?.close(200)
  }
}
