/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as the queue carries it: a
 * `traceparent` header (and `tracestate`, if any) in a message's headers map. The device
 * stores headers as given; these helpers are what the client uses where it writes or reads
 * one itself. No OpenTelemetry here: tracing.ts uses them with the API, and they work without.
 */

/** The header names (lowercase, as W3C and OpenTelemetry's propagator spell them). */
export const TRACEPARENT = "traceparent"
export const TRACESTATE = "tracestate"

/** A parsed `traceparent`. */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string
  /** 16 lowercase hex digits, not all zero. */
  spanId: string
  /** The trace flags byte (bit 0: sampled). */
  traceFlags: number
}

const TRACE_ID = /^[0-9a-f]{32}$/
const SPAN_ID = /^[0-9a-f]{16}$/
const ALL_ZERO = /^0+$/
/** version 2 hex (not ff) - trace id - parent id - flags; version 00 has nothing after, later versions may. */
const HEADER = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/

export const isTraceId = (s: string): boolean => TRACE_ID.test(s) && !ALL_ZERO.test(s)
export const isSpanId = (s: string): boolean => SPAN_ID.test(s) && !ALL_ZERO.test(s)

/**
 * The `traceparent` value for a span context (version 00), or undefined if the ids are not
 * valid ones (the client never sends a malformed header of its own).
 */
export function formatTraceparent(traceId: string, spanId: string, traceFlags: number): string | undefined {
  if (!isTraceId(traceId) || !isSpanId(spanId) || !Number.isInteger(traceFlags) || traceFlags < 0 || traceFlags > 0xff) return undefined
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`
}

/**
 * Reads a `traceparent` value; undefined unless it is valid: version 00 exactly four fields,
 * a later version (not ff) at least those four (W3C: parse what is known), lowercase hex,
 * neither id all zeros.
 */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (typeof value !== "string" || value.length > 512) return undefined
  const m = HEADER.exec(value.trim())
  if (m === null) return undefined
  const [, version, traceId, spanId, flags, rest] = m
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined
  if (ALL_ZERO.test(traceId!) || ALL_ZERO.test(spanId!)) return undefined
  return { traceId: traceId!, spanId: spanId!, traceFlags: parseInt(flags!, 16) }
}
