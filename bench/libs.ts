/**
 * The two libraries under test, loaded by name so one peer script serves both.
 * Only the tiny surface the benchmarks use is typed here: zeromq and omq
 * have the same API, and omq may not export every socket type yet.
 */
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

export async function loadLib(lib: LibName): Promise<Record<string, unknown>> {
  // ".js" resolves to lib/index.ts under tsx and keeps `tsc --noEmit` happy.
  return lib === "omq" ? import("../lib/index.js") : import("zeromq")
}

/** Socket types (e.g. "Request") a library does not export, so a scenario can be skipped rather than crash. */
export async function missingSockets(lib: LibName, types: readonly string[]): Promise<string[]> {
  const mod = await loadLib(lib)
  return types.filter((t) => typeof mod[t] !== "function")
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
