/**
 * OpenTelemetry spans of the queue client, when `@opentelemetry/api` is installed (an optional
 * peer dependency: omq never installs it). The API is loaded once, synchronously, by the first
 * QueueClient that may trace (require() in try/catch, so a missing package costs one failed
 * lookup and nothing after); its types are only imported as types. Without the package, or
 * with `tracing: false`, a client has no tracing object at all (no per-message work); with it
 * but no tracer provider registered, one check per put and per delivery frame (`live()`).
 *
 * Spans, after the messaging semantic conventions:
 * - put / putBatch: a PRODUCER span "<queue> publish" per message, ended when the device
 *   confirms (messaging.message.id = the seq) or with an error status when it refuses. Its
 *   context goes into the message's headers (the global propagator's fields, then a
 *   `traceparent` the client formats itself), unless the producer set `traceparent` itself.
 * - each delivery (consume and reserve): a CONSUMER span "<queue> process", child of the
 *   producer's context and linked to it (the conventions require the link, the parent is
 *   allowed for one message), started when the delivery arrives and ended when it is settled:
 *   ack (OK, or ERROR if the ack fails), nack and bury (an event and an ERROR status).
 */
import type * as Otel from "@opentelemetry/api"
// A namespace import: `import { createRequire }` is what webpack rewrites (and warns about with a
// computed name), and what an ESM bundle's usual `createRequire` banner would declare twice.
import * as nodeModule from "node:module"
import type { Delivery } from "./delivery.js"
import { TRACEPARENT, TRACESTATE, formatTraceparent, parseTraceparent } from "./trace-context.js"

type OtelApi = typeof Otel

/** undefined: not tried yet; null: not installed (or failed to load). */
let loaded: OtelApi | null | undefined
/** What lookups of "@opentelemetry/api" answer from now on (tests: null simulates a missing package). */
let override: OtelApi | null | undefined

/** The OpenTelemetry API if it can be loaded (tried once). */
export function otelApi(): OtelApi | null {
  if (override !== undefined) return override
  if (loaded === undefined) {
    try {
      // createRequire, not import(): a client decides at construction, before its first put. The
      // name in a variable keeps bundlers from trying to bundle (or insisting on) the package.
      const name = "@opentelemetry/api"
      // Resolved from this file, where the user's project has it: __filename in the CommonJS build, the module's URL in the ESM one.
      loaded = nodeModule.createRequire(typeof __filename === "string" ? __filename : import.meta.url)(name) as OtelApi
      if (typeof loaded.trace?.getTracerProvider !== "function") loaded = null
    } catch {
      loaded = null
    }
  }
  return loaded
}

/** @internal Tests: make the API look absent (null), or load it normally again (undefined). */
export function setOtelApiForTesting(api: OtelApi | null | undefined): void {
  override = api
}

const SYSTEM = "omq"

/** A getter that only reads text values: headers are any CBOR map. */
const headerGetter: Otel.TextMapGetter<Record<string, unknown>> = {
  get(carrier, key) {
    const v = carrier[key]
    return typeof v === "string" ? v : undefined
  },
  keys(carrier) {
    return Object.keys(carrier)
  },
}

/** What a delivery's span needs at settlement (kept on the Delivery). */
export interface DeliveryTrace {
  owner: ClientTracing
  span: Otel.Span
  context: Otel.Context
  ended: boolean
}

export class ClientTracing {
  /** The API's own provider-less delegate: the global provider returns it while none is registered. */
  private readonly noop: unknown

  constructor(private readonly api: OtelApi) {
    this.noop = new api.ProxyTracerProvider().getDelegate()
  }

  /** Whether a tracer provider is registered (else spans would all be no-ops: skip the work). */
  live(): boolean {
    const p = this.api.trace.getTracerProvider() as { getDelegate?: () => unknown }
    return typeof p.getDelegate !== "function" || p.getDelegate() !== this.noop
  }

  private tracer(): Otel.Tracer {
    return this.api.trace.getTracer(SYSTEM)
  }

  /**
   * Starts a producer span for one message and returns it with the headers to send: a copy of
   * `headers` with the span's context added (unless `traceparent` was set by the producer).
   */
  startPublish(
    queue: string,
    headers: Record<string, unknown> | undefined,
    bodySize: number,
  ): { span: Otel.Span; headers: Record<string, unknown> | undefined } {
    const api = this.api
    const span = this.tracer().startSpan(`${queue} publish`, {
      kind: api.SpanKind.PRODUCER,
      attributes: {
        "messaging.system": SYSTEM,
        "messaging.destination.name": queue,
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
        "messaging.message.body.size": bodySize,
      },
    })
    if (headers !== undefined && Object.prototype.hasOwnProperty.call(headers, TRACEPARENT)) return { span, headers }
    const sc = span.spanContext()
    const traceparent = formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags)
    if (traceparent === undefined) return { span, headers } // no valid context (a no-op span): nothing to carry
    const out: Record<string, unknown> = headers === undefined ? {} : { ...headers }
    try {
      api.propagation.inject(api.trace.setSpan(api.context.active(), span), out)
    } catch {
      // a propagator's failure must not fail the put: the traceparent below still goes
    }
    out[TRACEPARENT] = traceparent
    if (out[TRACESTATE] === undefined && sc.traceState !== undefined) {
      const ts = sc.traceState.serialize()
      if (ts !== "") out[TRACESTATE] = ts
    }
    return { span, headers: out }
  }

  publishDone(span: Otel.Span, seq: number, duplicate: boolean): void {
    span.setAttribute("messaging.message.id", String(seq))
    if (duplicate) span.setAttribute("omq.duplicate", true)
    span.setStatus({ code: this.api.SpanStatusCode.OK })
    span.end()
  }

  publishFailed(span: Otel.Span, err: Error): void {
    span.recordException(err)
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: err.message })
    span.end()
  }

  /** The producer's context carried by a delivery's headers (the propagator's, else the traceparent read here). */
  private extract(headers: Record<string, unknown>): { context: Otel.Context; producer: Otel.SpanContext | undefined } {
    const api = this.api
    let context = api.ROOT_CONTEXT
    try {
      context = api.propagation.extract(api.ROOT_CONTEXT, headers, headerGetter)
    } catch {
      // a malformed header a propagator chokes on: no parent
    }
    let producer = api.trace.getSpanContext(context)
    if (producer === undefined || !api.isSpanContextValid(producer)) {
      const tp = parseTraceparent(headers[TRACEPARENT])
      if (tp === undefined) return { context, producer: undefined }
      producer = { ...tp, isRemote: true }
      const ts = headers[TRACESTATE]
      if (typeof ts === "string" && typeof api.createTraceState === "function") producer.traceState = api.createTraceState(ts)
      context = api.trace.setSpanContext(context, producer)
    }
    return { context, producer }
  }

  /** Starts the consumer span of a delivery just received. */
  startProcess(d: Delivery): DeliveryTrace {
    const api = this.api
    let parent: { context: Otel.Context; producer: Otel.SpanContext | undefined }
    try {
      parent = this.extract(d.headers)
    } catch {
      parent = { context: api.ROOT_CONTEXT, producer: undefined } // undecodable headers: no parent
    }
    const attributes: Otel.Attributes = {
      "messaging.system": SYSTEM,
      "messaging.destination.name": d.queue,
      "messaging.operation.type": "process",
      "messaging.operation.name": "process",
      "messaging.message.id": String(d.seq),
      "messaging.message.body.size": d.body.length,
      "omq.delivery.attempt": d.attempt,
    }
    if (d.group !== undefined) attributes["messaging.consumer.group.name"] = d.group
    const span = this.tracer().startSpan(
      `${d.queue} process`,
      { kind: api.SpanKind.CONSUMER, attributes, links: parent.producer === undefined ? [] : [{ context: parent.producer }] },
      parent.context,
    )
    return { owner: this, span, context: api.trace.setSpan(parent.context, span), ended: false }
  }

  /** Ends a delivery's span once it is settled (OK, or ERROR with `message`); `event` is added first. */
  settle(t: DeliveryTrace, error: string | undefined, event?: { name: string; attributes: Otel.Attributes }): void {
    if (t.ended) return
    t.ended = true
    if (event !== undefined) t.span.addEvent(event.name, event.attributes)
    t.span.setStatus(error === undefined ? { code: this.api.SpanStatusCode.OK } : { code: this.api.SpanStatusCode.ERROR, message: error })
    t.span.end()
  }

  /** Runs `fn` with the delivery's span as the active one. */
  run<T>(t: DeliveryTrace, fn: () => T): T {
    return this.api.context.with(t.context, fn)
  }
}

/** A client's tracing: null when turned off or the API is absent. */
export function clientTracing(enabled: boolean | undefined): ClientTracing | null {
  if (enabled === false) return null
  const api = otelApi()
  return api === null ? null : new ClientTracing(api)
}
