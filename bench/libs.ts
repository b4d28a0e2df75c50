/**
 * The two libraries under test, loaded by name so one peer script serves both.
 * Only the tiny surface the benchmarks use is typed here: zeromq and omq
 * have the same API, and omq may not export every socket type yet.
 */
import { join } from "node:path"
import { pathToFileURL } from "node:url"

export type LibName = "omq" | "zeromq"
export const LIBS: readonly LibName[] = ["omq", "zeromq"]

export interface BenchSocket {
  bind(address: string): Promise<void>
  connect(address: string): void
  close(): void
  send(message: Buffer | Buffer[]): Promise<void>
  receive(): Promise<Buffer[]>
  readonly lastEndpoint: string | null
  /** Subscriber only. */
  subscribe?(...prefixes: string[]): void
}

type SocketCtor = new (options?: Record<string, unknown>) => BenchSocket

/**
 * omq is measured as users run it: the built package (`dist/`, made by `npm run build`, which
 * `npm run bench` runs first). Running lib/*.ts through tsx's loader measured up to 2x slower
 * on 64 KiB messages, which is the loader, not the library. BENCH_OMQ=src uses the sources.
 */
const omqEntry = (name: string, src: string): string =>
  process.env.BENCH_OMQ === "src" ? src : pathToFileURL(join(process.cwd(), "dist", `${name}.js`)).href
const OMQ_ENTRY = omqEntry("index", "../lib/index.js")
/** `omq/queue`: the durable queue device and client. */
export const OMQ_QUEUE_ENTRY = omqEntry("queue", "../lib/entry/queue.js")

export async function loadLib(lib: LibName): Promise<Record<string, unknown>> {
  return lib === "omq" ? (import(OMQ_ENTRY) as Promise<Record<string, unknown>>) : import("zeromq")
}

/** Socket types (e.g. "Request") a library does not export, so a scenario can be skipped rather than crash. */
export async function missingSockets(lib: LibName, types: readonly string[]): Promise<string[]> {
  const mod = await loadLib(lib)
  // omq's additions live in subpath exports (the root has exactly zeromq.js's names).
  const extra = lib === "omq" ? ((await import(OMQ_QUEUE_ENTRY)) as Record<string, unknown>) : {}
  return types.filter((t) => typeof mod[t] !== "function" && typeof extra[t] !== "function")
}

/** Creates a socket of `type` ("Push", "Pull", ...) with zeromq.js-style options. */
export async function createSocket(lib: LibName, type: string, options: Record<string, unknown> = {}): Promise<BenchSocket> {
  const Ctor = (await loadLib(lib))[type] as SocketCtor | undefined
  if (typeof Ctor !== "function") throw new Error(`${lib} does not export socket type ${type}`)
  return new Ctor(options)
}

/** The library's own curveKeyPair(): z85 public and secret keys. */
export async function curveKeyPair(lib: LibName): Promise<{ publicKey: string; secretKey: string }> {
  const fn = (await loadLib(lib)).curveKeyPair as (() => { publicKey: string; secretKey: string }) | undefined
  if (typeof fn !== "function") throw new Error(`${lib} does not export curveKeyPair`)
  return fn()
}

export function isLibName(s: string): s is LibName {
  return (LIBS as readonly string[]).includes(s)
}
