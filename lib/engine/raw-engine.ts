/**
 * A raw byte-stream connection for STREAM sockets: no greeting, no framing.
 * Each chunk read becomes one message; each message written is sent as its
 * bytes. Used to talk to peers that are not ZeroMQ (HTTP clients, ...).
 */
import type { ByteStream } from "../transports/byte-stream.js"
import type { Pipe, PipeEngine } from "../pipe/pipe.js"
import type { Metadata } from "../wire/metadata.js"
import type { ConnectionEngine, EngineHost } from "./engine.js"

export class RawEngine implements PipeEngine, ConnectionEngine {
  pipe: Pipe | null = null
  readonly handshaken = true
  readonly peerMetadata: Metadata | undefined = undefined
  private closed = false
  private flushScheduled = false

  constructor(
    private readonly stream: ByteStream,
    private readonly host: EngineHost,
    readonly endpoint: string,
  ) {}

  start(): void {
    const s = this.stream
    s.on("data", (chunk: Buffer) => {
      if (this.pipe !== null && !this.pipe.deliver([chunk])) s.pause()
    })
    s.on("error", () => this.destroy())
    s.on("end", () => this.destroy())
    s.on("close", () => this.destroy())
    this.host.engineReady(this)
  }

  attach(pipe: Pipe): void {
    this.pipe = pipe
    pipe.engine = this
    if (pipe.out.length > 0) this.scheduleFlush()
  }

  scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return
    this.flushScheduled = true
    setImmediate(() => this.flush())
  }

  private flush(): void {
    this.flushScheduled = false
    const pipe = this.pipe
    if (pipe === null || this.closed) return
    const wasFull = pipe.full
    this.stream.cork()
    for (let msg = pipe.out.shift(); msg !== undefined; msg = pipe.out.shift()) {
      for (const part of msg) if (part.length > 0) this.stream.write(part)
    }
    this.stream.uncork()
    pipe.drained(wasFull)
  }

  resumeReading(): void {
    if (!this.closed) this.stream.resume()
  }

  sendSubscription(): void {}

  close(lingerMs: number): void {
    if (this.closed) return
    // What is queued is written now (with linger 0, only what the stream takes at once, as
    // libzmq's I/O thread would already have sent it); lingering lets the rest drain.
    if (this.pipe !== null && this.pipe.out.length > 0) this.flush()
    this.stream.end()
    this.destroy(lingerMs !== 0)
  }

  private destroy(linger = true): void {
    if (this.closed) return
    this.closed = true
    // Lingering: the stream, ended already, closes once what it holds is written.
    if (linger && lingerHandled(this.stream)) this.stream.once("finish", () => this.stream.destroy())
    else this.stream.destroy()
    if (this.pipe !== null) this.pipe.engine = null
    this.host.engineClosed(this, undefined)
  }
}

/** After end() the stream closes itself once written out; otherwise close now. */
function lingerHandled(stream: ByteStream): boolean {
  return stream.writableEnded && stream.writableLength > 0
}
