/**
 * Shared machinery of the test/fuzz suite.
 *
 * Budget and reproducibility come from the environment, so the same files
 * serve `npm test` (small, fixed budget, fixed seed: deterministic) and
 * `npm run fuzz` (large budget, a fresh seed per round):
 *
 *   OMQ_FC_SEED         base seed (default fixed); each property adds its own salt
 *   OMQ_FUZZ_RUNS       cases per property (default: the property's own small number)
 *   OMQ_FUZZ_DEADLINE   epoch ms after which properties stop early (interrupts count as success)
 *   OMQ_FUZZ_REPORT     file that receives one JSON line per property (cases run, seed,
 *                       known-bug hits) for run-fuzz.ts
 *   OMQ_FUZZ_STRICT=1   known bugs (KNOWN_BUGS below) fail the property like any other bug
 *   OMQ_FUZZ_STATS=1    print how often each outcome was reached (to check the fuzzer gets deep)
 */
import { appendFileSync } from "node:fs"
import fc from "fast-check"
import { ProtocolError } from "../../lib/errors.js"
import { FrameDecoder } from "../../lib/wire/frame.js"
import { chunk, type Chunking } from "../wire/util.js"

// One chunking helper for both fuzz suites; only the arbitrary's bounds differ here.
export { chunk, type Chunking }

// ---------------------------------------------------------------- budget

export const DEFAULT_SEED = 0x0f_75_e2

export function baseSeed(): number {
  const env = process.env.OMQ_FC_SEED
  return env !== undefined && env !== "" ? Number(env) | 0 : DEFAULT_SEED
}

/**
 * Cases for one property: `defaultRuns` unless OMQ_FUZZ_RUNS is set, in
 * which case OMQ_FUZZ_RUNS × `weight` (expensive properties, e.g. those doing
 * X25519 per case, use a weight below 1).
 */
export function fuzzRuns(defaultRuns: number, weight = 1): number {
  const env = process.env.OMQ_FUZZ_RUNS
  if (env === undefined || env === "") return defaultRuns
  return Math.max(1, Math.round(Number(env) * weight))
}

/** Per-test timeout for vitest: generous when a deadline drives the run. */
export function testTimeout(defaultMs = 20_000): number {
  const deadline = Number(process.env.OMQ_FUZZ_DEADLINE ?? "")
  if (Number.isFinite(deadline) && deadline > 0) return Math.max(defaultMs, deadline - Date.now() + 60_000)
  if (process.env.OMQ_FUZZ_RUNS) return Math.max(defaultMs, 30 * 60_000)
  return defaultMs
}

export function fuzzParams<T>(salt: number, defaultRuns: number, weight = 1): fc.Parameters<T> {
  const p: fc.Parameters<T> = {
    seed: (baseSeed() + salt) | 0,
    numRuns: fuzzRuns(defaultRuns, weight),
    endOnFailure: false,
    includeErrorInReport: true,
  }
  const deadline = Number(process.env.OMQ_FUZZ_DEADLINE ?? "")
  if (Number.isFinite(deadline) && deadline > 0) {
    p.interruptAfterTimeLimit = Math.max(1, deadline - Date.now())
    p.markInterruptAsFailure = false
  }
  return p
}

// ---------------------------------------------------------------- report

export interface PropertyReport {
  file: string
  property: string
  seed: number
  numRuns: number
  interrupted: boolean
  failed: boolean
  knownBugs: Record<string, number>
}

function report(line: PropertyReport): void {
  const file = process.env.OMQ_FUZZ_REPORT
  if (file) appendFileSync(file, JSON.stringify(line) + "\n")
}

// ---------------------------------------------------------------- known bugs

/**
 * Defects already found and reported against lib/: while they are open, a
 * case that hits one is counted (and its first input kept) instead of failing
 * the suite, so `npm test` stays green and new defects stay visible. With
 * OMQ_FUZZ_STRICT=1 they fail like anything else.
 */
export interface KnownBug {
  id: string
  what: string
  /** Where in lib/ it lives, when the stack of the matched error does not say. */
  site?: string
  matches(err: unknown): boolean
}

/*
 * Found and fixed (kept here as history; the properties now fail on any recurrence):
 *  - curve-low-order-key: a peer-chosen X25519 key of small order (e.g. 32 zero bytes) made precompute()
 *    throw a plain Error out of CurveServer.onHello / onInitiate and CurveClient.onWelcome (found on
 *    1fdc550, fixed in b8beb8b).
 */
/*
 * Also found and fixed (the properties now fail on any recurrence):
 *  - prealloc-by-claim: FrameDecoder allocated the whole body a header claimed as soon as the header
 *    arrived; bodies over 1 MiB now grow with the bytes received (lib/wire/frame.ts).
 *  - empty-parts-unbounded: zero-length MORE frames piled up without counting against maxMessageSize;
 *    each part now costs at least one byte (Engine.onFrame).
 *  - pong-ignores-backpressure: PONG replies to a peer that never reads grew the write queue without
 *    bound; the engine now stops reading from such a peer until its replies drain (Engine.sendCommand).
 */
export const KNOWN_BUGS: KnownBug[] = []

const strict = process.env.OMQ_FUZZ_STRICT === "1"

/** Hits of known bugs in this file, with the first example of each (printed at the end). */
const knownHits = new Map<string, { count: number; example: string; stack: string }>()
let currentHits: Record<string, number> = {}

/**
 * True when `err` is an open known bug (recorded, tolerated unless strict).
 * `describeInput` renders the failing input for the report.
 */
export function knownBug(err: unknown, describeInput: () => string): boolean {
  if (strict) return false
  for (const b of KNOWN_BUGS) {
    if (!b.matches(err)) continue
    // Key by bug and by the lib/ function it surfaced in, so each call site gets an example.
    const key = `${b.id} @ ${b.site ?? libSite(err)}`
    currentHits[key] = (currentHits[key] ?? 0) + 1
    const prev = knownHits.get(key)
    if (prev) prev.count++
    else knownHits.set(key, { count: 1, example: describeInput(), stack: (err as Error)?.stack ?? String(err) })
    return true
  }
  return false
}

/** The first lib/ frame of the stack, below the crypto helper ("CurveServer.onHello (lib/mechanisms/curve.ts:187)"). */
function libSite(err: unknown): string {
  const stack = (err as Error)?.stack ?? ""
  const frames = stack.split("\n").filter((l) => /\/lib\//.test(l) && !/\/node_modules\//.test(l))
  const pick = frames.find((l) => !/lib\/security\/crypto\.ts/.test(l)) ?? frames[0]
  if (pick === undefined) return "?"
  const m = /at (?:(\S+) )?\(?(?:file:\/\/)?.*?(lib\/[^:]+:\d+)/.exec(pick)
  return m ? `${m[1] ?? "?"} (${m[2]})` : pick.trim()
}

export function knownBugSummary(): string[] {
  const out: string[] = []
  for (const [key, h] of knownHits) {
    const bug = KNOWN_BUGS.find((b) => key.startsWith(b.id + " "))!
    out.push(`KNOWN BUG ${key} hit ${h.count}x: ${bug.what}\n  first input: ${h.example}\n  ${h.stack.split("\n").slice(0, 9).join("\n  ")}`)
  }
  return out
}

/**
 * ProtocolErrorCode is a type-only union, so the codes cannot be listed at run
 * time (and lib/ grows new ones): any ZMTP_* code is accepted.
 */
const PROTOCOL_ERROR_CODE = /^ZMTP_[A-Z0-9_]+$/

/**
 * Throws (failing the case) unless `err` is a ProtocolError with a ZMTP_* code
 * (and not the engine's wrapper for a foreign exception), or an open known bug.
 */
export function expectOnlyProtocolError(err: unknown, describeInput: () => string): void {
  if (err instanceof ProtocolError && PROTOCOL_ERROR_CODE.test(err.code) && !/^Internal error/.test(err.message)) {
    return
  }
  if (knownBug(err, describeInput)) return
  const e = err as Error
  const wrapped = new Error(
    `expected only ProtocolError, got ${e?.constructor?.name ?? typeof err} ${e?.name}: ${e?.message}\n` +
      `input: ${describeInput()}\nstack of the escaped error:\n${e?.stack ?? String(err)}`,
  )
  throw wrapped
}

/**
 * Runs a property with fc.check (so the number of cases executed is known),
 * writes the report line, and throws fast-check's report on failure.
 */
export async function checkProperty<Ts extends [unknown, ...unknown[]]>(
  file: string,
  name: string,
  property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
  params: fc.Parameters<Ts>,
): Promise<void> {
  currentHits = {}
  const details = await fc.check(property as fc.IAsyncProperty<Ts>, params)
  report({
    file,
    property: name,
    seed: details.seed,
    numRuns: details.numRuns,
    interrupted: details.interrupted,
    failed: details.failed,
    knownBugs: currentHits,
  })
  if (details.failed) {
    const msg = fc.defaultReportMessage(details) ?? "property failed"
    throw new Error(`${name}\n${msg}\n(reproduce: OMQ_FC_SEED=${baseSeed()} npx vitest run test/fuzz)`)
  }
}

// ---------------------------------------------------------------- outcome statistics

const stats = new Map<string, number>()
const statsOn = process.env.OMQ_FUZZ_STATS === "1"

/** Counts one outcome (only with OMQ_FUZZ_STATS=1). */
export function stat(key: string | (() => string)): void {
  if (!statsOn) return
  const k = typeof key === "string" ? key : key()
  stats.set(k, (stats.get(k) ?? 0) + 1)
}

export function statsSummary(): string | undefined {
  if (!statsOn || stats.size === 0) return undefined
  return [...stats]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${String(n).padStart(7)}  ${k}`)
    .join("\n")
}

/** Runs a plain (non-property) test so its known-bug hits reach the report too. */
export async function checkOnce(file: string, name: string, fn: () => Promise<void> | void): Promise<void> {
  currentHits = {}
  let failed = false
  try {
    await fn()
  } catch (err) {
    failed = true
    throw err
  } finally {
    report({ file, property: name, seed: baseSeed(), numRuns: 1, interrupted: false, failed, knownBugs: currentHits })
  }
}

// ---------------------------------------------------------------- timeouts

export class HangError extends Error {
  override name = "HangError"
}

/** Awaits `p`, failing with HangError after `ms` (the "never hangs" invariant). */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HangError(`${what} did not settle within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, t])
  } finally {
    clearTimeout(timer)
  }
}

// ---------------------------------------------------------------- frames

/** Splits a byte string of complete frames into their bodies (commands from mechanisms). */
export function frameBodies(frames: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = []
  const dec = new FrameDecoder((_flags, body) => out.push(Buffer.from(body)))
  for (const f of frames) dec.push(f)
  return out
}

export const hex = (b: Buffer | Uint8Array): string => Buffer.from(b).toString("hex")

// ---------------------------------------------------------------- mutation

/**
 * X25519 public keys an attacker may choose: small-order points (and
 * non-canonical encodings of them), all-ones, and the like.
 */
export const INTERESTING_KEYS: readonly Buffer[] = [
  Buffer.alloc(32), // 0
  Buffer.from("0100000000000000000000000000000000000000000000000000000000000000", "hex"), // 1
  Buffer.from("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", "hex"), // order 8
  Buffer.from("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", "hex"), // order 8
  Buffer.from("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "hex"), // p - 1
  Buffer.from("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "hex"), // p
  Buffer.from("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "hex"), // p + 1
  Buffer.from("0000000000000000000000000000000000000000000000000000000000000080", "hex"), // 0, top bit set
  Buffer.alloc(32, 0xff),
  Buffer.from("0900000000000000000000000000000000000000000000000000000000000000", "hex"), // base point
]

export const keyArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom(...INTERESTING_KEYS),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((u) => Buffer.from(u)),
)

/** A field of a command body that a structure-aware mutation may overwrite. */
export interface Field {
  at: number
  len: number
}

export type Mutation =
  | { op: "flip"; at: number; xor: number }
  | { op: "set"; at: number; value: number }
  | { op: "truncate"; at: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; count: number }
  | { op: "extend"; bytes: Uint8Array }
  | { op: "field"; which: number; fill: "zero" | "ff" | "random" | "key"; random: Uint8Array; key: Buffer }

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("set" as const),
      at: fc.nat(),
      value: fc.constantFrom(0x00, 0x01, 0x02, 0x04, 0x05, 0x07, 0x08, 0x7f, 0x80, 0xfe, 0xff),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 40 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("extend" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("field" as const),
      which: fc.nat(),
      fill: fc.constantFrom("zero" as const, "ff" as const, "random" as const, "key" as const),
      random: fc.uint8Array({ minLength: 1, maxLength: 200 }),
      key: keyArb,
    }),
  },
)

/** Applies mutations to a copy of `input`; `fields` are the structure-aware targets (may be empty). */
export function mutate(input: Buffer, mutations: readonly Mutation[], fields: readonly Field[] = []): Buffer {
  let buf = Buffer.from(input)
  for (const m of mutations) {
    if (m.op === "extend") {
      buf = Buffer.concat([buf, Buffer.from(m.bytes)])
      continue
    }
    if (m.op === "field") {
      if (fields.length === 0) continue
      const f = fields[m.which % fields.length]!
      if (f.at >= buf.length) continue
      const len = Math.min(f.len, buf.length - f.at)
      const src =
        m.fill === "zero"
          ? Buffer.alloc(len)
          : m.fill === "ff"
            ? Buffer.alloc(len, 0xff)
            : m.fill === "key" && len === 32
              ? m.key
              : Buffer.from(Array.from({ length: len }, (_, i) => m.random[i % m.random.length]!))
      src.copy(buf, f.at, 0, len)
      continue
    }
    if (buf.length === 0 && m.op !== "insert") continue
    const at = m.at % (buf.length + (m.op === "insert" || m.op === "truncate" ? 1 : 0))
    switch (m.op) {
      case "flip":
        buf[at] = buf[at]! ^ m.xor
        break
      case "set":
        buf[at] = m.value
        break
      case "truncate":
        buf = buf.subarray(0, at)
        break
      case "insert":
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.bytes), buf.subarray(at)])
        break
      case "delete":
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.count)])
        break
    }
  }
  return buf
}

// ---------------------------------------------------------------- chunking

export const chunkingArb: fc.Arbitrary<Chunking> = fc.oneof(
  fc.constant<Chunking>({ kind: "whole" }),
  fc.constant<Chunking>({ kind: "bytes" }),
  fc.record({ kind: fc.constant("cycle" as const), sizes: fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant("cuts" as const), cuts: fc.array(fc.nat(), { maxLength: 30 }) }),
)
