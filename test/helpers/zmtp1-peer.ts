/**
 * A scripted ZMTP 1.0 peer (RFC 13, as libzmq 2.x speaks it) over node:net:
 * it writes raw bytes — its identity frame first, then 1.0-framed messages —
 * and reads what omq sends, frame by frame. Its tiny encoder and reader are
 * written here from RFC 13 on purpose, not taken from lib/wire, so that the
 * tests do not check omq's codec against itself. Every wait is bounded.
 */
import * as net from "node:net"

/** Bound for one read or connect: generous for a loaded 2-core machine. */
export const PEER_TIMEOUT = 5000

/**
 * One RFC 13 frame: length (flags octet included; one octet for 1..254, else
 * 0xFF and 8 octets), flags (0x01 = MORE), body.
 */
export function zmtp1Frame(body: Buffer | string, more = false): Buffer {
  const b = typeof body === "string" ? Buffer.from(body) : body
  const length = b.length + 1
  const head = length < 255 ? Buffer.from([length]) : Buffer.concat([Buffer.from([0xff]), u64(length)])
  return Buffer.concat([head, Buffer.from([more ? 1 : 0]), b])
}

/** The frames of one message, MORE on all but the last. */
export function zmtp1Message(parts: ReadonlyArray<Buffer | string>): Buffer {
  return Buffer.concat(parts.map((p, i) => zmtp1Frame(p, i < parts.length - 1)))
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(BigInt(n))
  return b
}

export interface Zmtp1Frame {
  more: boolean
  /** The flags octet as received (omq's identity frame, from its signature, carries 0x7F). */
  flags: number
  body: Buffer
}

export class Zmtp1Peer {
  private buf = Buffer.alloc(0)
  closed = false
  private readonly waiters = new Set<() => void>()

  constructor(readonly sock: net.Socket) {
    sock.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d])
      this.wake()
    })
    sock.on("error", () => {})
    sock.on("close", () => {
      this.closed = true
      this.wake()
    })
  }

  /** Connects to a tcp:// endpoint (an omq socket bound there). */
  static connect(endpoint: string): Promise<Zmtp1Peer> {
    const m = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint)
    if (m === null) throw new Error(`not a tcp endpoint: ${endpoint}`)
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: m[1]!, port: Number(m[2]) })
      const timer = setTimeout(() => {
        sock.destroy()
        reject(new Error(`connect to ${endpoint} timed out`))
      }, PEER_TIMEOUT)
      sock.once("connect", () => {
        clearTimeout(timer)
        resolve(new Zmtp1Peer(sock))
      })
      sock.once("error", (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
  }

  write(...bytes: Buffer[]): void {
    for (const b of bytes) this.sock.write(b)
  }

  /** Sends our identity frame (RFC 13 greeting: anonymous when empty). */
  sendIdentity(identity: Buffer | string = ""): void {
    this.write(zmtp1Frame(identity))
  }

  send(parts: ReadonlyArray<Buffer | string>): void {
    this.write(zmtp1Message(parts))
  }

  private wake(): void {
    for (const w of [...this.waiters]) w()
  }

  /** Resolves once `cond()` holds (re-checked on every read and on close); rejects when `fail()` says why, or after `ms`. */
  private until(cond: () => boolean, fail: () => string | undefined, ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (cond()) return finish(resolve)
        const why = fail()
        if (why !== undefined) finish(() => reject(new Error(why)))
      }
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`))), ms)
      const finish = (f: () => void): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
        f()
      }
      this.waiters.add(check)
      check()
    })
  }

  /** Waits until `n` bytes are buffered; rejects if the connection closes first. */
  private need(n: number, ms: number): Promise<void> {
    return this.until(
      () => this.buf.length >= n,
      () => (this.closed ? `connection closed with ${this.buf.length} of ${n} bytes` : undefined),
      ms,
      `${n} bytes (have ${this.buf.length})`,
    )
  }

  private take(n: number): Buffer {
    const out = Buffer.from(this.buf.subarray(0, n))
    this.buf = this.buf.subarray(n)
    return out
  }

  /** Reads exactly `n` bytes as they are (for checking greetings and other framings). */
  async readRaw(n: number, ms = PEER_TIMEOUT): Promise<Buffer> {
    await this.need(n, ms)
    return this.take(n)
  }

  /** Reads one RFC 13 frame. */
  async readFrame(ms = PEER_TIMEOUT): Promise<Zmtp1Frame> {
    await this.need(1, ms)
    let headerLen = 1
    let length = this.buf[0]!
    if (length === 0xff) {
      await this.need(9, ms)
      length = Number(this.buf.readBigUInt64BE(1))
      headerLen = 9
    }
    if (length === 0) throw new Error("omq sent a ZMTP 1.0 frame of length 0")
    await this.need(headerLen + length, ms)
    this.take(headerLen)
    const flags = this.take(1)[0]!
    return { more: (flags & 1) !== 0, flags, body: this.take(length - 1) }
  }

  /** Reads the frames of one message. */
  async readMessage(ms = PEER_TIMEOUT): Promise<Buffer[]> {
    const parts: Buffer[] = []
    for (;;) {
      const f = await this.readFrame(ms)
      parts.push(f.body)
      if (!f.more) return parts
    }
  }

  /**
   * Reads omq's identity frame. omq's signature `ff <8-byte length> 7f` is,
   * to a 1.0 peer, the header of that frame (flags 0x7F, not validated:
   * RFC 13 says the identity's flags "SHALL not be validated").
   */
  async readIdentity(ms = PEER_TIMEOUT): Promise<Buffer> {
    return (await this.readFrame(ms)).body
  }

  /** Waits until omq closes the connection. */
  waitClosed(ms = PEER_TIMEOUT): Promise<void> {
    return this.until(
      () => this.closed,
      () => undefined,
      ms,
      "omq to close the connection",
    )
  }

  destroy(): void {
    this.sock.destroy()
  }
}

/** A scripted ZMTP 1.0 server on 127.0.0.1 (for omq sockets that connect). */
export class Zmtp1Server {
  private readonly pending: Zmtp1Peer[] = []
  private readonly waiting: Array<(p: Zmtp1Peer) => void> = []
  readonly peers: Zmtp1Peer[] = []

  private constructor(
    private readonly server: net.Server,
    readonly endpoint: string,
  ) {
    server.on("connection", (sock) => {
      const p = new Zmtp1Peer(sock)
      this.peers.push(p)
      const w = this.waiting.shift()
      if (w !== undefined) w(p)
      else this.pending.push(p)
    })
  }

  static async listen(): Promise<Zmtp1Server> {
    const server = net.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.listen({ host: "127.0.0.1", port: 0 }, () => resolve())
    })
    return new Zmtp1Server(server, `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`)
  }

  /** The next connection (bounded). */
  accept(ms = PEER_TIMEOUT): Promise<Zmtp1Peer> {
    const p = this.pending.shift()
    if (p !== undefined) return Promise.resolve(p)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(got)
        if (i >= 0) this.waiting.splice(i, 1)
        reject(new Error("no connection to the scripted ZMTP 1.0 server"))
      }, ms)
      const got = (peer: Zmtp1Peer): void => {
        clearTimeout(timer)
        resolve(peer)
      }
      this.waiting.push(got)
    })
  }

  close(): void {
    for (const p of this.peers) p.destroy()
    this.server.close()
  }
}
