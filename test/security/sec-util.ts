/**
 * Shared helpers for the security tests (omq ↔ libzmq 4.3.5 through
 * zeromq.js 6). Every wait is bounded: receives rely on receiveTimeout,
 * sends on sendTimeout, polls on deadlines.
 */
import * as fs from "node:fs"
import { afterEach } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import { all, bindRetry, uniqueIpc, waitFor } from "../helpers.js"

export { all, delay, isEagain, tryReceive } from "../helpers.js"

export type Transport = "tcp" | "ipc"
export const TRANSPORTS: readonly Transport[] = ["tcp", "ipc"]
export type Side = "omq" | "libzmq"
export const SIDES: readonly Side[] = ["omq", "libzmq"]
export const other = (s: Side): Side => (s === "omq" ? "libzmq" : "omq")

/** Bound of one send/receive: generous for a loaded 2-core machine. */
export const IO_TIMEOUT = 5000
export const BOUNDED = { linger: 0, sendTimeout: IO_TIMEOUT, receiveTimeout: IO_TIMEOUT }
/** How long a handshake (with retries) may take to succeed or fail. */
export const HANDSHAKE_MS = 10_000

export type SocketKind =
  "Push" | "Pull" | "Dealer" | "Router" | "Request" | "Reply" | "Publisher" | "Subscriber" | "XPublisher" | "XSubscriber" | "Pair"

/** The subset of both libraries' socket APIs used here. */
export interface AnySocket {
  bind(address: string): Promise<void>
  connect(address: string): void
  close(): void
  send(message: unknown): Promise<void>
  receive(): Promise<Buffer[]>
  subscribe(...prefixes: Array<string | Buffer>): void
  unsubscribe(...prefixes: Array<string | Buffer>): void
  receiveTimeout: number
  sendTimeout: number
  readonly lastEndpoint: string | null
  readonly events: { on(type: string, listener: (e: SecEvent) => void): unknown }
}

export interface SecEvent {
  type: string
  address?: string
  error?: Error & { code?: string; status?: number }
}

export interface KeyPair {
  publicKey: string
  secretKey: string
}

export function keyPair(gen: Side): KeyPair {
  return gen === "omq" ? omq.curveKeyPair() : zmq.curveKeyPair()
}

export function curveServerOpts(kp: KeyPair): Record<string, unknown> {
  return { curveServer: true, curveSecretKey: kp.secretKey, curvePublicKey: kp.publicKey }
}

export function curveClientOpts(serverPublic: string, kp: KeyPair): Record<string, unknown> {
  return { curveServerKey: serverPublic, curvePublicKey: kp.publicKey, curveSecretKey: kp.secretKey }
}

/**
 * Per-file tracking: sockets, ZAP handlers and ipc files made by a test are
 * closed / removed in afterEach.
 */
export function securityTracker() {
  const open: { close(): void }[] = []
  const ipcPaths: string[] = []
  afterEach(() => {
    for (const s of open.splice(0).reverse()) {
      try {
        s.close()
      } catch {
        /* already closed */
      }
    }
    for (const p of ipcPaths.splice(0)) fs.rmSync(p, { force: true })
  })
  const t = {
    track<T extends { close(): void }>(sock: T): T {
      open.push(sock)
      return sock
    },
    /** A socket of either library, with linger 0 and bounded send/receive. */
    socket(side: Side, kind: SocketKind, opts: Record<string, unknown> = {}): AnySocket {
      const lib = (side === "omq" ? omq : zmq) as unknown as Record<string, new (o: Record<string, unknown>) => AnySocket>
      const sock = t.track(new lib[kind]!({ linger: 0, ...opts }))
      // zeromq.js sockets are sealed: a write-only socket has no receiveTimeout (and vice versa).
      for (const key of ["sendTimeout", "receiveTimeout"] as const) {
        if (key in opts) continue
        try {
          sock[key] = IO_TIMEOUT
        } catch {
          /* not an option of this socket type */
        }
      }
      return sock
    },
    /** A wildcard tcp endpoint or a fresh, unique ipc endpoint. */
    endpoint(transport: Transport): string {
      if (transport === "tcp") return "tcp://127.0.0.1:*"
      const ep = uniqueIpc()
      ipcPaths.push(ep.slice("ipc://".length))
      return ep
    },
    /** Binds on a fresh endpoint of `transport` and returns the address to connect to. */
    async bind(sock: AnySocket, transport: Transport): Promise<string> {
      await sock.bind(t.endpoint(transport))
      return sock.lastEndpoint!
    },
  }
  return t
}

/** Records the socket's events of the given types (emitter mode). */
export function recordEvents(sock: AnySocket, types: string[]): SecEvent[] {
  const seen: SecEvent[] = []
  for (const type of types) sock.events.on(type, (e) => seen.push(e))
  return seen
}

/** Waits (bounded) until `events` holds one matching `pred`, and returns it. */
export async function waitEvent(events: SecEvent[], pred: (e: SecEvent) => boolean, what: string, ms = HANDSHAKE_MS): Promise<SecEvent> {
  await waitFor(() => events.some(pred), ms, what)
  return events.find(pred)!
}

export const text = (msg: Buffer[] | undefined): string[] | undefined => msg?.map((f) => f.toString())

/** Sends `count` numbered messages while checking they all arrive in order. */
export async function transferNumbered(sender: AnySocket, receiver: AnySocket, count: number, prefix = "m"): Promise<void> {
  await all([
    (async () => {
      for (let i = 0; i < count; i++) await sender.send(`${prefix}${i}`)
    })(),
    (async () => {
      for (let i = 0; i < count; i++) {
        const msg = await receiver.receive()
        if (msg.length !== 1 || msg[0]!.toString() !== `${prefix}${i}`) {
          throw new Error(`message ${i}: expected ${prefix}${i}, got ${JSON.stringify(text(msg))}`)
        }
      }
    })(),
  ] as const)
}

/**
 * A ZAP handler in libzmq's (zeromq.js's default) context: a REP socket on
 * inproc://zeromq.zap.01 answering with `decide`. Records every request.
 */
export async function libzmqZapHandler(
  decide: (req: { domain: string; address: string; mechanism: string; credentials: Buffer[] }) => { status: number; userId?: string },
  track: <T extends { close(): void }>(s: T) => T,
): Promise<{ requests: Buffer[][] }> {
  const rep = track(new zmq.Reply({ linger: 0 }))
  // libzmq releases an inproc name asynchronously after close: retry briefly.
  await bindRetry(rep, "inproc://zeromq.zap.01", HANDSHAKE_MS)
  const requests: Buffer[][] = []
  void (async () => {
    try {
      for await (const msg of rep) {
        requests.push(msg)
        const [version, requestId, domain, address, , mechanism, ...credentials] = msg
        const d = decide({
          domain: domain!.toString(),
          address: address!.toString(),
          mechanism: mechanism!.toString(),
          credentials,
        })
        await rep.send([version!, requestId!, String(d.status), d.status === 200 ? "OK" : "Denied", d.userId ?? "", ""])
      }
    } catch {
      /* closed */
    }
  })()
  return { requests }
}

export { waitFor }
