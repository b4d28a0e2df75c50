/**
 * Helpers for the load / fault tests in test/load and for soak.ts:
 * counting open handles and file descriptors, sampling RSS, bounded waits.
 *
 * omq unref()s its servers, connections and timers (like zeromq.js, they do
 * not keep the process alive), and `process.getActiveResourcesInfo()` only
 * lists *ref'd* handles and timers. So a leaked omq handle would be
 * invisible there. `ResourceTracker` therefore also follows the life of
 * every TCP/pipe handle and timer through async_hooks (init → destroy),
 * ref'd or not, and remembers where each one was created.
 */
import { createHook, type AsyncHook } from "node:async_hooks"
import * as fs from "node:fs"
import * as v8 from "node:v8"
import * as vm from "node:vm"

import { delay } from "../helpers.js"

export { delay, isEagain, withTimeout as within } from "../helpers.js"

/** Open file descriptors of this process (entries of /proc/self/fd). */
export function fdCount(): number {
  // readdir itself holds one fd while it runs; it is there in every sample alike.
  return fs.readdirSync("/proc/self/fd").length
}

/** What the open fds point at, e.g. { socket: 12, pipe: 3, anon_inode: 4, file: 2 }. */
export function fdKinds(): Record<string, number> {
  const out: Record<string, number> = {}
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    let target: string
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`)
    } catch {
      continue
    }
    const m = /^([a-z_]+):/.exec(target)
    const kind = m ? m[1]! : "file"
    out[kind] = (out[kind] ?? 0) + 1
  }
  return out
}

/** Counts of `process.getActiveResourcesInfo()` by name (ref'd handles, timers and requests). */
export function activeCounts(): Record<string, number> {
  const out: Record<string, number> = {}
  for (const name of process.getActiveResourcesInfo()) out[name] = (out[name] ?? 0) + 1
  return out
}

/** The async_hooks resource types that are OS handles or timers. */
const TRACKED = new Set([
  "TCPWRAP",
  "TCPSERVERWRAP",
  "PIPEWRAP",
  "PIPESERVERWRAP",
  "TCPCONNECTWRAP",
  "PIPECONNECTWRAP",
  "SHUTDOWNWRAP",
  "Timeout",
])

interface Live {
  type: string
  stack: string
}

/**
 * Follows every handle and timer created while enabled, until it is destroyed.
 * `snapshot()` gives the live ones by type; `leaksSince(base)` those created
 * after `base` and still alive, with the stack that created them.
 */
export class ResourceTracker {
  private readonly live = new Map<number, Live>()
  private readonly hook: AsyncHook
  private seq = 0
  private readonly order = new Map<number, number>()
  /** While true, new resources are not tracked (the tracker's own polling timers). */
  private quiet = false

  constructor(private readonly stacks = true) {
    this.hook = createHook({
      init: (asyncId, type) => {
        if (this.quiet || !TRACKED.has(type)) return
        this.live.set(asyncId, { type, stack: this.stacks ? captureStack() : "" })
        this.order.set(asyncId, ++this.seq)
      },
      destroy: (asyncId) => {
        this.live.delete(asyncId)
        this.order.delete(asyncId)
      },
    })
  }

  enable(): this {
    this.hook.enable()
    return this
  }

  disable(): void {
    this.hook.disable()
    this.live.clear()
    this.order.clear()
  }

  /** Runs `fn` without tracking what it creates. */
  untracked<T>(fn: () => T): T {
    this.quiet = true
    try {
      return fn()
    } finally {
      this.quiet = false
    }
  }

  /** A marker: resources created after it are "new". */
  mark(): number {
    return this.seq
  }

  /** Live tracked resources by type. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const { type } of this.live.values()) out[type] = (out[type] ?? 0) + 1
    return out
  }

  /** Resources created after `mark` that are still alive. */
  leaksSince(mark: number): Live[] {
    const out: Live[] = []
    for (const [id, r] of this.live) if ((this.order.get(id) ?? 0) > mark) out.push(r)
    return out
  }
}

function captureStack(): string {
  const e: { stack?: string } = {}
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 40
  Error.captureStackTrace(e, captureStack)
  Error.stackTraceLimit = limit
  // Drop the async_hooks frames; keep the first node frames and the project's frames (who made the handle).
  const frames = (e.stack ?? "")
    .split("\n")
    .slice(1)
    .filter((l) => !l.includes("node:internal/async_hooks") && !l.includes("test/load/util.ts"))
  const own = frames.filter((l) => !l.includes("node:") && !l.includes("node_modules"))
  return [...frames.slice(0, 2), ...own.slice(0, 6)].join("\n")
}

/** Groups leaked resources by type and creating stack, for a readable report. */
export function describeLeaks(leaks: Live[]): string {
  const groups = new Map<string, { type: string; n: number; stack: string }>()
  for (const l of leaks) {
    const key = `${l.type}\n${l.stack}`
    const g = groups.get(key)
    if (g) g.n++
    else groups.set(key, { type: l.type, n: 1, stack: l.stack })
  }
  return [...groups.values()]
    .map(
      (g) =>
        `${g.n} × ${g.type}, created:\n${g.stack ? g.stack.replace(/^\s*/gm, "      ") : "      (by the runtime, e.g. an accepted connection)"}`,
    )
    .join("\n")
}

/** A full picture of what is open: fds, ref'd resources, tracked handles/timers. */
export interface ResourceState {
  fds: number
  active: Record<string, number>
  tracked: Record<string, number>
}

export function resourceState(tracker?: ResourceTracker): ResourceState {
  return { fds: fdCount(), active: activeCounts(), tracked: tracker?.snapshot() ?? {} }
}

/** Names whose count in `now` exceeds `base` by more than `slack`. */
export function excess(
  base: Record<string, number>,
  now: Record<string, number>,
  slack: number,
  names?: readonly string[],
): Record<string, number> {
  const out: Record<string, number> = {}
  for (const k of names ?? Object.keys(now)) {
    const d = (now[k] ?? 0) - (base[k] ?? 0)
    if (d > slack) out[k] = d
  }
  return out
}

/** The handle kinds the leak checks look at in getActiveResourcesInfo(). */
export const HANDLE_NAMES = ["TCPSocketWrap", "TCPServerWrap", "PipeWrap", "PipeServerWrap", "Timeout", "Immediate"] as const

/**
 * Polls until the state is back at `base` (within `slack` per kind), or the
 * deadline passes. Returns the differences still present (empty = clean).
 */
export async function settle(
  base: ResourceState,
  tracker: ResourceTracker | undefined,
  opts: { slackFds?: number; slack?: number; ms?: number } = {},
): Promise<{ fds: number; active: Record<string, number>; tracked: Record<string, number>; state: ResourceState }> {
  const slackFds = opts.slackFds ?? 2
  const slack = opts.slack ?? 0
  const end = Date.now() + (opts.ms ?? 5000)
  for (;;) {
    gc()
    const state = resourceState(tracker)
    const fds = state.fds - base.fds
    const active = excess(base.active, state.active, slack, HANDLE_NAMES)
    const tracked = excess(base.tracked, state.tracked, slack)
    const clean = fds <= slackFds && Object.keys(active).length === 0 && Object.keys(tracked).length === 0
    if (clean || Date.now() > end) return { fds: fds > slackFds ? fds : 0, active, tracked, state }
    await (tracker ? tracker.untracked(() => delay(25)) : delay(25))
  }
}

let gcFn: (() => void) | undefined
/** Runs a full GC when it can be made available (it settles RSS and fires destroy hooks of collected handles). */
export function gc(): void {
  if (gcFn === undefined) {
    const g = (globalThis as { gc?: () => void }).gc
    if (typeof g === "function") gcFn = g
    else {
      try {
        v8.setFlagsFromString("--expose-gc")
        gcFn = vm.runInNewContext("gc") as () => void
      } catch {
        gcFn = () => {}
      }
    }
  }
  gcFn()
}

export const MB = 1024 * 1024
export const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`

/** Samples RSS every `everyMs` (a ref'd interval: stop() it). */
export class RssSampler {
  peak: number
  samples = 0
  private readonly timer: NodeJS.Timeout
  constructor(everyMs = 100) {
    this.peak = process.memoryUsage.rss()
    this.timer = setInterval(() => this.sample(), everyMs)
  }
  sample(): number {
    const r = process.memoryUsage.rss()
    this.samples++
    if (r > this.peak) this.peak = r
    return r
  }
  stop(): void {
    this.sample()
    clearInterval(this.timer)
  }
}

/** Polls `cond` until true; throws after `ms`. */
export async function waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await delay(10)
  }
}
