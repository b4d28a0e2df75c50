/**
 * Header filters of consumer groups and consumers: a message passes when
 * every condition holds for its headers (the producer's CBOR map). A
 * condition names a header and either an exact value or a string prefix.
 * Headers are decoded once per message, on first use, and kept with it.
 */
import { decodeCbor } from "../cbor.js"
import { QueueError } from "../errors.js"
import type { QueueMessage } from "./message.js"

export interface HeaderCondition {
  /** Header name; "$key" means the message's ordering key. */
  readonly header: string
  /** The header equals this (strings, numbers and booleans compare by value). */
  readonly equals?: string | number | boolean
  /** The header is a string starting with this. */
  readonly prefix?: string
}

/** All conditions must hold. */
export type HeaderFilter = readonly HeaderCondition[]

const MAX_CONDITIONS = 16
const MAX_TEXT = 256

/** Validates a filter from the wire (or the client), or throws BAD_OPTION. */
export function parseFilter(v: unknown, name = "filter"): HeaderFilter {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_CONDITIONS)
    throw new QueueError("BAD_OPTION", `${name} must be an array of 1-${MAX_CONDITIONS} conditions {header, equals} or {header, prefix}`)
  return v.map((c, i) => {
    const where = `${name}[${i}]`
    if (c === null || typeof c !== "object" || Array.isArray(c) || c instanceof Uint8Array)
      throw new QueueError("BAD_OPTION", `${where} must be a map`)
    const o = c as Record<string, unknown>
    for (const k of Object.keys(o))
      if (k !== "header" && k !== "equals" && k !== "prefix") throw new QueueError("BAD_OPTION", `unknown option ${where}.${k}`)
    if (typeof o.header !== "string" || o.header.length === 0 || o.header.length > MAX_TEXT)
      throw new QueueError("BAD_OPTION", `${where}.header must be a string of 1-${MAX_TEXT} characters`)
    const hasEq = o.equals !== undefined && o.equals !== null
    const hasPrefix = o.prefix !== undefined && o.prefix !== null
    if (hasEq === hasPrefix) throw new QueueError("BAD_OPTION", `${where} needs exactly one of equals, prefix`)
    if (hasEq) {
      const e = o.equals
      if (!(typeof e === "string" || typeof e === "number" || typeof e === "boolean") || (typeof e === "string" && e.length > MAX_TEXT))
        throw new QueueError("BAD_OPTION", `${where}.equals must be a string (at most ${MAX_TEXT} characters), a number or a boolean`)
      return { header: o.header, equals: e }
    }
    if (typeof o.prefix !== "string" || o.prefix.length > MAX_TEXT)
      throw new QueueError("BAD_OPTION", `${where}.prefix must be a string of at most ${MAX_TEXT} characters`)
    return { header: o.header, prefix: o.prefix }
  })
}

function headersOf(m: QueueMessage): Record<string, unknown> {
  if (m.decoded !== undefined) return m.decoded
  let h: Record<string, unknown> = {}
  if (m.headers.length > 0) {
    try {
      const v = decodeCbor(m.headers)
      if (v !== null && typeof v === "object" && !Array.isArray(v)) h = v as Record<string, unknown>
    } catch {
      // checked as a map at put; an undecodable one matches nothing
    }
  }
  m.decoded = h
  return h
}

export function matches(f: HeaderFilter | undefined, m: QueueMessage): boolean {
  if (f === undefined) return true
  const record = m.record ?? m
  for (const c of f) {
    const v = c.header === "$key" ? record.key : headersOf(record)[c.header]
    if (c.equals !== undefined) {
      if (v !== c.equals && !(typeof v === "bigint" && typeof c.equals === "number" && Number(v) === c.equals)) return false
    } else if (typeof v !== "string" || !v.startsWith(c.prefix!)) return false
  }
  return true
}
