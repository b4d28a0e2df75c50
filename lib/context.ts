/**
 * Context, as in zeromq.js: a scope for sockets. omq has no I/O threads, so
 * the thread options are accepted and kept for compatibility only; what a
 * context really scopes is the inproc:// namespace.
 */
import { ZmqError } from "./errors.js"
import { InprocRegistry } from "./transports/inproc.js"
import { ZapClient } from "./mechanisms/zap-client.js"

export interface ContextOptions {
  blocky?: boolean
  ioThreads?: number
  maxMessageSize?: number
  maxSockets?: number
  ipv6?: boolean
  threadPriority?: number
  threadSchedulingPolicy?: number
}

export class Context {
  /** ZMQ_BLOCKY: accepted for compatibility (omq never blocks process exit). */
  blocky = true
  /** ZMQ_IO_THREADS: accepted for compatibility (omq runs on the Node event loop). */
  ioThreads = 1
  /** ZMQ_MAX_MSGSZ: largest message size for the context's sockets (-1: no limit). */
  maxMessageSize = 2147483647
  /** ZMQ_MAX_SOCKETS. */
  maxSockets = 1023
  /** ZMQ_IPV6: default for the `ipv6` option of new sockets. */
  ipv6 = false
  /** ZMQ_THREAD_PRIORITY (write-only in zeromq.js): accepted and ignored. */
  threadPriority = -1
  /** ZMQ_THREAD_SCHED_POLICY (write-only in zeromq.js): accepted and ignored. */
  threadSchedulingPolicy = -1

  /** @internal inproc:// names bound in this context. */
  readonly inproc = new InprocRegistry()
  /** @internal Sends ZAP requests to the handler bound in this context. */
  readonly zap: ZapClient = new ZapClient(this)

  constructor(options?: ContextOptions) {
    if (options !== undefined) {
      if (typeof options !== "object" || options === null) throw new TypeError("Options must be an object")
      for (const [k, v] of Object.entries(options)) {
        if (!(k in this) || k === "inproc" || k === "zap") throw new ZmqError("EINVAL", `Unknown context option: ${k}`)
        ;(this as Record<string, unknown>)[k] = v
      }
    }
  }
}

/** The default context shared by sockets created without one. */
export const context = new Context()
