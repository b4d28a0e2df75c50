/**
 * Shared helpers for the feature tests (test/features/*.test.ts).
 *
 * Everything here is bounded: waits take a deadline, and every socket,
 * raw connection, server or child process handed to `track`/`cleanup` is
 * closed after each test (ZeroMQ sockets with linger 0).
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import { afterEach } from "vitest"
import { uniqueIpc, withTimeout } from "../helpers.js"
import { decodeCommand, type Command } from "../../lib/wire/command.js"
import { FLAG_COMMAND, FrameDecoder } from "../../lib/wire/frame.js"
import { GREETING_SIZE, encodeGreeting } from "../../lib/wire/greeting.js"
import { readyFrame } from "../../lib/wire/command.js"

export { delay, isEagain, tryReceive, withTimeout } from "../helpers.js"

interface Closable {
  close(): void
  linger?: number
}

/**
 * Registers an afterEach hook that closes every tracked ZeroMQ socket (omq
 * or zeromq.js, linger 0) and runs every cleanup function.
 */
export function tracker() {
  const sockets: Closable[] = []
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const s of sockets.splice(0)) {
      try {
        if (!(s as { closed?: boolean }).closed) s.linger = 0
      } catch {
        /* closed socket: setting options may throw */
      }
      try {
        s.close()
      } catch {
        /* already closed */
      }
    }
    for (const c of cleanups.splice(0).reverse()) {
      try {
        c()
      } catch {
        /* best effort */
      }
    }
  })
  return {
    track<T extends Closable>(sock: T): T {
      sockets.push(sock)
      return sock
    },
    cleanup(fn: () => void): void {
      cleanups.push(fn)
    },
    /** A fresh ipc endpoint whose socket file is removed after the test. */
    ipc(): string {
      const ep = uniqueIpc()
      cleanups.push(() => fs.rmSync(ep.slice("ipc://".length), { force: true }))
      return ep
    },
  }
}

/** A unique inproc:// name. */
export function uniqueInproc(tag = "t"): string {
  return `inproc://${tag}-${process.pid}-${randomBytes(6).toString("hex")}`
}

/** net.connect options for a tcp:// or ipc:// endpoint. */
export function netTarget(endpoint: string): net.NetConnectOpts {
  const tcp = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint)
  if (tcp) return { host: tcp[1]!.replace(/^\[|\]$/g, ""), port: Number(tcp[2]) }
  if (endpoint.startsWith("ipc://")) return { path: endpoint.slice("ipc://".length) }
  throw new Error(`not a stream endpoint: ${endpoint}`)
}

export interface Frame {
  flags: number
  body: Buffer
}

/**
 * A hand-written ZMTP peer over node:net. It records the peer's greeting
 * and every frame after it; waits are bounded.
 */
export class RawPeer {
  readonly sock: net.Socket
  greeting: Buffer | null = null
  readonly frames: Frame[] = []
  readonly commands: Command[] = []
  closed = false
  closedAt = 0
  connectedAt = 0
  /** Called for each command frame the peer sends (after the greeting). */
  onCommand: ((c: Command) => void) | undefined
  /** All bytes received (greeting included). */
  received = 0
  private pre = Buffer.alloc(0)
  private readonly decoder = new FrameDecoder((flags, body) => this.onFrame(flags, body))
  private readonly waiters = new Set<() => void>()
  readonly closedPromise: Promise<void>
  readonly connectedPromise: Promise<void>

  constructor(target: net.NetConnectOpts | net.Socket) {
    this.sock = target instanceof net.Socket ? target : net.connect(target)
    this.sock.on("error", () => {})
    this.connectedPromise = new Promise((resolve, reject) => {
      if (target instanceof net.Socket) {
        this.connectedAt = Date.now()
        resolve()
        return
      }
      this.sock.once("connect", () => {
        this.connectedAt = Date.now()
        resolve()
      })
      this.sock.once("error", reject)
    })
    this.connectedPromise.catch(() => {})
    this.closedPromise = new Promise((resolve) => {
      this.sock.once("close", () => {
        this.closed = true
        this.closedAt = Date.now()
        this.wake()
        resolve()
      })
    })
    this.sock.on("data", (chunk: Buffer) => this.onData(chunk))
  }

  static connect(endpoint: string): RawPeer {
    return new RawPeer(netTarget(endpoint))
  }

  private onData(chunk: Buffer): void {
    this.received += chunk.length
    if (this.greeting === null) {
      this.pre = Buffer.concat([this.pre, chunk])
      if (this.pre.length < GREETING_SIZE) return
      this.greeting = this.pre.subarray(0, GREETING_SIZE)
      chunk = this.pre.subarray(GREETING_SIZE)
      this.pre = Buffer.alloc(0)
      this.wake()
      if (chunk.length === 0) return
    }
    try {
      this.decoder.push(chunk)
    } catch {
      this.sock.destroy()
    }
  }

  private onFrame(flags: number, body: Buffer): void {
    this.frames.push({ flags, body: Buffer.from(body) })
    if ((flags & FLAG_COMMAND) !== 0) {
      try {
        const c = decodeCommand(body)
        this.commands.push(c)
        this.onCommand?.(c)
      } catch {
        /* keep the raw frame only */
      }
    }
    this.wake()
  }

  private wake(): void {
    for (const w of [...this.waiters]) w()
  }

  /** Waits until `cond()` holds (re-checked on each received frame or close). */
  until(cond: () => boolean, ms: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = () => {
        if (cond()) {
          done()
          resolve()
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`))
      }, ms)
      const done = () => {
        clearTimeout(timer)
        this.waiters.delete(check)
      }
      this.waiters.add(check)
    })
  }

  /** Resolves with the first command named `name` at index ≥ `from`. */
  async command<N extends Command["name"]>(name: N, ms: number, from = 0): Promise<Extract<Command, { name: N }>> {
    let found: Command | undefined
    await this.until(() => (found = this.commands.slice(from).find((c) => c.name === name)) !== undefined, ms, `a ${name} command`)
    return found as Extract<Command, { name: N }>
  }

  /** Sends the NULL greeting and a READY with `Socket-Type` (and any extra properties). */
  handshake(socketType: string, extra: [string, string | Buffer][] = []): void {
    this.sock.write(encodeGreeting("NULL", false))
    this.sock.write(readyFrame([["Socket-Type", socketType], ...extra]))
  }

  /** Waits for the peer's READY (its half of the handshake). */
  async peerReady(ms = 5000): Promise<Extract<Command, { name: "READY" }>> {
    return this.command("READY", ms)
  }

  write(bytes: Buffer): void {
    this.sock.write(bytes)
  }

  waitClosed(ms: number, what = "the connection to be closed"): Promise<void> {
    return withTimeout(this.closedPromise, ms, what)
  }

  destroy(): void {
    this.sock.destroy()
  }
}

/** Data messages (non-command frames), joined into messages by the MORE flag. */
export function dataMessages(frames: readonly Frame[]): Buffer[][] {
  const out: Buffer[][] = []
  let cur: Buffer[] = []
  for (const f of frames) {
    if ((f.flags & FLAG_COMMAND) !== 0) continue
    cur.push(f.body)
    if ((f.flags & 1) === 0) {
      out.push(cur)
      cur = []
    }
  }
  return out
}

/** A plain TCP server on 127.0.0.1 (for STREAM and raw-peer tests); resolves with it and its port. */
export async function rawServer(onConnection: (s: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(onConnection)
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve())
  })
  return { server, port: (server.address() as net.AddressInfo).port }
}

/** A tcp port on 127.0.0.1 that nobody listens on (it was free a moment ago). */
export async function deadPort(): Promise<number> {
  const { server, port } = await rawServer(() => {})
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * Reads an omq/zeromq Observer's events until one matches `pred`, within
 * `ms`. Every event read (the match included) is appended to `log`.
 */
export async function nextEvent<E extends { type: string }>(
  events: { receive(): Promise<E> },
  pred: (e: E) => boolean,
  ms: number,
  log: E[] = [],
): Promise<E> {
  const end = Date.now() + ms
  for (;;) {
    const left = end - Date.now()
    if (left <= 0) throw new Error(`timed out waiting for an event; seen: ${log.map((e) => e.type).join(", ")}`)
    const e = await withTimeout(events.receive(), left, `an event (seen: ${log.map((x) => x.type).join(", ")})`)
    log.push(e)
    if (pred(e)) return e
  }
}
