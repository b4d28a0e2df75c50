/**
 * The Node globals the socket layers use beyond Buffer (docs/browser-build.md), given to a page
 * by esbuild's inject for test/browser/sockets-shimmed.test.ts — test scaffolding that shows the
 * smallest set a browser build must provide, not the browser build itself:
 * - `setImmediate`: a MessageChannel message is a macrotask that, unlike setTimeout(0), is not
 *   clamped to 4 ms after nesting, the closest a page has to Node's check phase;
 * - timers whose handles have `ref()` / `unref()` (a page's are numbers; omq unrefs its timers);
 * - `process.emitWarning` (console.warn), `process.platform`, `process.pid`.
 */
const immediates: Array<() => void> = []
const channel = new MessageChannel()
// (A page's MessagePort; @types/node types MessageChannel as worker_threads' one, without onmessage.)
;(channel.port1 as unknown as { onmessage: () => void }).onmessage = () => immediates.shift()?.()

function shimSetImmediate<A extends unknown[]>(callback: (...args: A) => void, ...args: A): void {
  immediates.push(() => callback(...args))
  channel.port2.postMessage(null)
}

/** A timer handle as Node's looks to omq: ref/unref are no-ops (a page has no event loop to hold open). */
class TimerHandle {
  constructor(readonly id: number) {}
  ref(): this {
    return this
  }
  unref(): this {
    return this
  }
  hasRef(): boolean {
    return true
  }
  [Symbol.toPrimitive](): number {
    return this.id
  }
}

type Callback = (...args: unknown[]) => void
const idOf = (t: unknown): number | undefined => (t instanceof TimerHandle ? t.id : (t as number | undefined))
const host = globalThis as unknown as {
  setTimeout(f: Callback, ms?: number, ...args: unknown[]): number
  setInterval(f: Callback, ms?: number, ...args: unknown[]): number
  clearTimeout(id?: number): void
  clearInterval(id?: number): void
}

const shimSetTimeout = (f: Callback, ms?: number, ...args: unknown[]) => new TimerHandle(host.setTimeout(f, ms, ...args))
const shimSetInterval = (f: Callback, ms?: number, ...args: unknown[]) => new TimerHandle(host.setInterval(f, ms, ...args))
const shimClearTimeout = (t?: unknown) => host.clearTimeout(idOf(t))
const shimClearInterval = (t?: unknown) => host.clearInterval(idOf(t))

const shimProcess = {
  platform: "browser",
  pid: 0,
  env: {} as Record<string, string | undefined>,
  emitWarning: (warning: string | Error) => console.warn(String(warning)),
}

export {
  shimSetImmediate as setImmediate,
  shimSetTimeout as setTimeout,
  shimSetInterval as setInterval,
  shimClearTimeout as clearTimeout,
  shimClearInterval as clearInterval,
  shimProcess as process,
}
