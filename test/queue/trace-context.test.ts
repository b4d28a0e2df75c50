/**
 * Trace context across the queue (issue 18): W3C `traceparent` / `tracestate` headers kept with a
 * message and handed to its consumer, and the client's OpenTelemetry spans (PRODUCER "<queue>
 * publish", CONSUMER "<queue> process", child of and linked to it) with a real SDK registered:
 * BasicTracerProvider + SimpleSpanProcessor + InMemorySpanExporter, the W3C propagator and the
 * AsyncLocalStorage context manager. Also: `tracing: false`, and a process where
 * `@opentelemetry/api` cannot be loaded at all.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import { W3CTraceContextPropagator } from "@opentelemetry/core"
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { QueueDevice, type Delivery } from "../../lib/entry/queue.js"
import { formatTraceparent, parseTraceparent } from "../../lib/devices/queue/client/trace-context.js"
import { otelApi, setOtelApiForTesting } from "../../lib/devices/queue/client/tracing.js"
import { waitFor } from "../helpers.js"
import { client, onCleanup, startDevice, tempDir } from "./queue-util.js"

const TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
const TS = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const contextManager = new AsyncLocalStorageContextManager()

beforeAll(() => {
  expect(trace.setGlobalTracerProvider(provider)).toBe(true)
  expect(propagation.setGlobalPropagator(new W3CTraceContextPropagator())).toBe(true)
  expect(context.setGlobalContextManager(contextManager.enable())).toBe(true)
})

afterAll(async () => {
  await provider.shutdown()
  trace.disable()
  propagation.disable()
  context.disable()
})

afterEach(() => {
  setOtelApiForTesting(undefined)
  exporter.reset()
})

const spans = (name?: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => name === undefined || s.name === name)

/** Waits until `n` finished spans are named `name`, and returns them. */
async function finished(name: string, n: number): Promise<ReadableSpan[]> {
  await waitFor(() => spans(name).length >= n, 5000, `${n} finished "${name}" span(s)`)
  return spans(name)
}

const traceparentOf = (s: ReadableSpan): string => {
  const sc = s.spanContext()
  return `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags}`
}

describe("W3C trace context values", () => {
  it("formats only valid ids, and parses only well-formed headers", () => {
    expect(formatTraceparent("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", 1)).toBe(TP)
    expect(formatTraceparent("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", 0)).toBe(TP.slice(0, -2) + "00")
    for (const [t, s, f] of [
      ["0".repeat(32), "b7ad6b7169203331", 1],
      ["0af7651916cd43dd8448eb211c80319c", "0".repeat(16), 1],
      ["0AF7651916CD43DD8448EB211C80319C", "b7ad6b7169203331", 1],
      ["0af7651916cd43dd8448eb211c80319", "b7ad6b7169203331", 1],
      ["0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", 256],
    ] as const)
      expect(formatTraceparent(t, s, f)).toBeUndefined()
    expect(parseTraceparent(TP)).toEqual({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: 1 })
    // A later version may add fields: the four known ones are read.
    expect(parseTraceparent(TP.replace(/^00/, "01") + "-what-comes-next")?.spanId).toBe("b7ad6b7169203331")
    for (const bad of [
      TP.toUpperCase(),
      TP + "-extra",
      TP.replace(/^00/, "ff"),
      `00-${"0".repeat(32)}-b7ad6b7169203331-01`,
      `00-0af7651916cd43dd8448eb211c80319c-${"0".repeat(16)}-01`,
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
      "garbage",
      42,
      undefined,
    ])
      expect(parseTraceparent(bad)).toBeUndefined()
  })
})

describe("traceparent and tracestate headers", () => {
  it("arrive unchanged through reserve and consume, and after a device restart (file store)", async () => {
    const dir = tempDir()
    const first = new QueueDevice({ dir })
    onCleanup(() => first.close())
    await first.bind("tcp://127.0.0.1:*")
    const producer = client(first, { tracing: false })
    const headers = { traceparent: TP, tracestate: TS, other: 7 }
    await producer.put("jobs", "a", { headers })
    await producer.put("jobs", "b", { headers })
    await producer.put("jobs", "c", { headers })
    const before = (await producer.reserve("jobs", { timeout: 5000 }))!
    expect(before.headers).toEqual(headers)
    expect([before.traceparent, before.tracestate]).toEqual([TP, TS])
    await before.ack()
    await producer.close()
    await first.close()

    const second = new QueueDevice({ dir })
    onCleanup(() => second.close())
    await second.bind("tcp://127.0.0.1:*")
    const c = client(second, { tracing: false })
    const reserved = (await c.reserve("jobs", { timeout: 5000 }))!
    expect(reserved.body.toString()).toBe("b")
    expect(reserved.headers).toEqual(headers)
    expect(reserved.traceparent).toBe(TP)
    await reserved.ack()
    const sub = c.consume("jobs", { credit: 1 })
    const consumed = (await sub.next()).value!
    expect(consumed.body.toString()).toBe("c")
    expect(consumed.headers).toEqual(headers)
    expect([consumed.traceparent, consumed.tracestate]).toEqual([TP, TS])
    await consumed.ack()
    await sub.close()
  })

  it("a delivery without them has no traceparent, tracestate or span", async () => {
    const c = client(await startDevice(), { tracing: false })
    await c.put("jobs", "x", { headers: { traceparent: 5 } })
    await c.put("jobs", "y")
    const a = (await c.reserve("jobs", { timeout: 5000 }))!
    const b = (await c.reserve("jobs", { timeout: 5000 }))!
    expect([a.traceparent, b.traceparent, b.tracestate, a.span, b.span]).toEqual([undefined, undefined, undefined, undefined, undefined])
    expect(a.headers).toEqual({ traceparent: 5 })
  })
})

describe("OpenTelemetry spans", () => {
  it("put: a PRODUCER span with the messaging attributes, its context in the traceparent header", async () => {
    const c = client(await startDevice())
    const { seq } = await c.put("orders", "hello", { headers: { tenant: "acme" } })
    const [p] = await finished("orders publish", 1)
    expect(p!.kind).toBe(SpanKind.PRODUCER)
    expect(p!.attributes).toMatchObject({
      "messaging.system": "omq",
      "messaging.destination.name": "orders",
      "messaging.operation.type": "send",
      "messaging.operation.name": "publish",
      "messaging.message.id": String(seq),
      "messaging.message.body.size": 5,
    })
    expect(p!.status.code).toBe(SpanStatusCode.OK)
    const [m] = await c.peek("orders")
    expect(m!.headers).toEqual({ tenant: "acme", traceparent: traceparentOf(p!) })
    expect(parseTraceparent(m!.headers.traceparent)).toBeDefined()
  })

  it("reserve: a CONSUMER span, child of and linked to the producer's, ended OK by ack", async () => {
    const c = client(await startDevice())
    await c.put("orders", "x")
    const [p] = await finished("orders publish", 1)
    const d = (await c.reserve("orders", { timeout: 5000 }))!
    expect(d.traceparent).toBe(traceparentOf(p!))
    expect(d.span).toBeDefined()
    expect(d.span!.isRecording()).toBe(true)
    expect(spans("orders process")).toHaveLength(0) // open until settled
    await d.ack()
    const [s] = await finished("orders process", 1)
    expect(s!.kind).toBe(SpanKind.CONSUMER)
    expect(s!.spanContext().traceId).toBe(p!.spanContext().traceId)
    expect(s!.parentSpanContext?.spanId).toBe(p!.spanContext().spanId)
    expect(s!.links.map((l) => l.context.spanId)).toEqual([p!.spanContext().spanId])
    expect(s!.status.code).toBe(SpanStatusCode.OK)
    expect(s!.attributes).toMatchObject({
      "messaging.system": "omq",
      "messaging.destination.name": "orders",
      "messaging.operation.type": "process",
      "messaging.message.id": String(d.seq),
      "omq.delivery.attempt": 1,
    })
    expect(s!.spanContext().spanId).toBe(d.span!.spanContext().spanId)
  })

  it("consume: nack and bury end the span with an ERROR status and an event; the next attempt is a new span", async () => {
    const c = client(await startDevice())
    await c.put("orders", "retry-me")
    await c.put("orders", "bury-me")
    const sub = c.consume("orders", { credit: 10 })
    const got: Delivery[] = []
    for await (const d of sub) {
      got.push(d)
      if (d.body.toString() === "retry-me" && d.attempt === 1) await d.nack({ delay: 0 })
      else if (d.body.toString() === "bury-me") await d.bury("poison")
      else await d.ack()
      if (got.length === 3) break
    }
    const done = await finished("orders process", 3)
    const publishes = spans("orders publish")
    const byId = new Map(done.map((s) => [s.spanContext().spanId, s]))
    const retryFirst = byId.get(got.find((d) => d.body.toString() === "retry-me" && d.attempt === 1)!.span!.spanContext().spanId)!
    const retrySecond = byId.get(got.find((d) => d.body.toString() === "retry-me" && d.attempt === 2)!.span!.spanContext().spanId)!
    const buried = byId.get(got.find((d) => d.body.toString() === "bury-me")!.span!.spanContext().spanId)!
    expect(retryFirst.status).toEqual({ code: SpanStatusCode.ERROR, message: "nack" })
    expect(retryFirst.events.map((e) => [e.name, e.attributes])).toEqual([["omq.nack", { "omq.nack.delay": 0, "omq.nack.state": "ready" }]])
    expect(retrySecond.status.code).toBe(SpanStatusCode.OK)
    expect(retrySecond.attributes["omq.delivery.attempt"]).toBe(2)
    expect(buried.status).toEqual({ code: SpanStatusCode.ERROR, message: "buried: poison" })
    expect(buried.events.map((e) => [e.name, e.attributes])).toEqual([["omq.bury", { "omq.bury.reason": "poison" }]])
    // Every delivery of a message belongs to its producer's trace.
    for (const s of [retryFirst, retrySecond, buried]) {
      const parent = publishes.find((p) => p.spanContext().spanId === s.parentSpanContext?.spanId)
      expect(parent?.spanContext().traceId).toBe(s.spanContext().traceId)
    }
  })

  it("a put inside an active span is its child; spans of a handler run with withSpan() are the delivery's children", async () => {
    const c = client(await startDevice())
    const tracer = trace.getTracer("test")
    await tracer.startActiveSpan("request", async (request) => {
      await c.put("orders", "x")
      request.end()
    })
    const [request] = await finished("request", 1)
    const [p] = await finished("orders publish", 1)
    expect(p!.parentSpanContext?.spanId).toBe(request!.spanContext().spanId)
    const d = (await c.reserve("orders", { timeout: 5000 }))!
    await d.withSpan(async () => {
      await Promise.resolve()
      tracer.startSpan("handler").end()
    })
    await d.ack()
    const [h] = await finished("handler", 1)
    const [s] = await finished("orders process", 1)
    expect(h!.parentSpanContext?.spanId).toBe(s!.spanContext().spanId)
    expect(new Set([request, p, s, h].map((x) => x!.spanContext().traceId)).size).toBe(1)
  })

  it("a traceparent the producer set is sent as given (with its tracestate), and the consumer span continues it", async () => {
    const c = client(await startDevice())
    await c.put("orders", "x", { headers: { traceparent: TP, tracestate: TS } })
    await finished("orders publish", 1) // still made: the put is traced, the header is the user's
    const d = (await c.reserve("orders", { timeout: 5000 }))!
    expect(d.headers).toEqual({ traceparent: TP, tracestate: TS })
    await d.ack()
    const [s] = await finished("orders process", 1)
    expect(s!.spanContext().traceId).toBe("0af7651916cd43dd8448eb211c80319c")
    expect(s!.parentSpanContext?.spanId).toBe("b7ad6b7169203331")
    expect(s!.links[0]!.context.traceState?.get("congo")).toBe("t61rcWkgMzE")
  })

  it("a malformed traceparent of the producer's passes through untouched; its consumer span starts a trace of its own", async () => {
    const c = client(await startDevice())
    const bad = "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"
    await c.put("orders", "x", { headers: { traceparent: bad } })
    const d = (await c.reserve("orders", { timeout: 5000 }))!
    expect(d.traceparent).toBe(bad)
    await d.ack()
    const [s] = await finished("orders process", 1)
    expect(s!.parentSpanContext).toBeUndefined()
    expect(s!.links).toEqual([])
  })

  it("putBatch: a producer span per message, each message carrying its own", async () => {
    const c = client(await startDevice())
    const results = await c.putBatch("orders", [{ body: "a" }, { body: "bb", headers: { k: 1 } }])
    const ps = await finished("orders publish", 2)
    expect(ps.map((p) => p.attributes["messaging.message.id"]).sort()).toEqual(results.map((r) => String(r.seq)).sort())
    const ms = await c.peek("orders", { count: 2 })
    expect(ms.map((m) => m.headers.traceparent).sort()).toEqual(ps.map(traceparentOf).sort())
    expect(ms[1]!.headers.k).toBe(1)
  })

  it("a refused put ends its producer span with an ERROR status", async () => {
    const c = client(await startDevice())
    await expect(c.put("orders", "x", { priority: -1 })).rejects.toMatchObject({ code: "BAD_OPTION" })
    const [p] = await finished("orders publish", 1)
    expect(p!.status.code).toBe(SpanStatusCode.ERROR)
  })

  it("a put in a trace that is not sampled carries its context (flags 00) and records no span, nor does its delivery", async () => {
    const c = client(await startDevice())
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 0,
      isRemote: true,
    })
    await context.with(unsampled, () => c.put("orders", "x"))
    const d = (await c.reserve("orders", { timeout: 5000 }))!
    expect(d.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/)
    expect(d.traceparent).not.toContain("00f067aa0ba902b7") // the producer span's own id, a child of the remote parent
    expect(d.span!.isRecording()).toBe(false)
    await d.ack()
    await c.put("orders", "sampled") // a sampled put after it: its spans do arrive, the unsampled ones did not
    await (await c.reserve("orders", { timeout: 5000 }))!.ack()
    await finished("orders process", 1)
    expect(spans().map((s) => s.spanContext().traceId)).not.toContain("4bf92f3577b34da6a3ce929d0e0e4736")
  })

  it("tracing: false makes no spans and adds no headers", async () => {
    const dev = await startDevice()
    const c = client(dev, { tracing: false })
    await c.put("orders", "x")
    await c.putBatch("orders", [{ body: "y" }])
    const d = (await c.reserve("orders", { timeout: 5000 }))!
    expect(d.headers).toEqual({})
    expect(d.span).toBeUndefined()
    await d.ack()
    // A traced client's spans do show up meanwhile: the exporter works.
    const traced = client(dev)
    await (await traced.reserve("orders", { timeout: 5000 }))!.ack()
    await finished("orders process", 1)
    expect(spans().map((s) => s.name)).toEqual(["orders process"])
  })

  it("with the API absent (as the loader sees it), nothing is traced and nothing is added", async () => {
    setOtelApiForTesting(null)
    const c = client(await startDevice())
    await c.put("orders", "x")
    const d = (await c.reserve("orders", { timeout: 5000 }))!
    expect([d.headers, d.span]).toEqual([{}, undefined])
    await d.ack()
    expect(spans()).toEqual([])
  })
})

describe("without @opentelemetry/api", () => {
  it("a process that cannot load the package puts, reserves, consumes and settles as usual", async () => {
    const script = fileURLToPath(new URL("./fixtures/no-otel-client.ts", import.meta.url))
    const hide = fileURLToPath(new URL("./fixtures/hide-otel.cjs", import.meta.url))
    const child = spawn(process.execPath, ["--require", hide, "--import", "tsx", script], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (b: Buffer) => (out += b.toString()))
    child.stderr.on("data", (b: Buffer) => (err += b.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
    clearTimeout(timer)
    expect(code, err).toBe(0)
    const r = JSON.parse(out.trim().split("\n").pop()!) as {
      resolvable: boolean
      api: boolean
      first: { body: string; headers: Record<string, unknown>; span: boolean }
      seen: { body: string; headers: Record<string, unknown>; traceparent: string | undefined; span: boolean }[]
    }
    expect([r.resolvable, r.api]).toEqual([false, false])
    expect(r.first).toEqual({ body: "plain", headers: {}, span: false })
    expect(r.seen.map((s) => s.body).sort()).toEqual(["batch-1", "batch-2", "with-header"])
    expect(r.seen.find((s) => s.body === "with-header")).toEqual({
      body: "with-header",
      headers: { traceparent: TP, tracestate: "congo=t61rcWkgMzE" },
      traceparent: TP,
      span: false,
    })
    expect(r.seen.find((s) => s.body === "batch-2")!.headers).toEqual({ a: 1 })
    // This process, for contrast, has it.
    expect(otelApi()).not.toBeNull()
  }, 40_000)
})
