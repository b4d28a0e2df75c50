/**
 * Context, as in zeromq.js: a scope for sockets. omq has no I/O threads, so
 * the thread options are accepted and kept for compatibility only; what a
 * context really scopes is the inproc:// namespace. Like zeromq.js's, a
 * context is sealed: an unknown option throws a TypeError.
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

function int32(value: unknown, min: number): number {
  if (typeof value !== "number") throw new TypeError("Option value must be a number")
  const v = value | 0
  if (v < min) throw new ZmqError("EINVAL", "Invalid argument")
  return v
}

function bool(value: unknown): boolean {
  if (typeof value !== "boolean") throw new TypeError("Option value must be a boolean")
  return value
}

export class Context {
  private _blocky = true
  private _ioThreads = 1
  private _maxMessageSize = 2147483647
  private _maxSockets = 1023
  private _ipv6 = false
  private _threadPriority = -1
  private _threadSchedulingPolicy = -1

  /**
   * @internal inproc:// names bound in this context. The default context's registry is the
   * process's (see sharedRegistry), so copies of omq loaded side by side (its ESM and CommonJS
   * builds, two bundles) reach each other over inproc://, as zeromq.js's single libzmq does.
   */
  readonly inproc: InprocRegistry = creatingDefault ? sharedRegistry() : new InprocRegistry()
  /** @internal Sends ZAP requests to the handler bound in this context. */
  readonly zap: ZapClient = new ZapClient(this.inproc)

  constructor(options?: ContextOptions) {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new TypeError("Options must be an object")
    }
    if (arguments.length > 1) throw new TypeError(`Expected 1 argument but received ${arguments.length}`)
    Object.seal(this)
    if (options !== undefined) {
      for (const [k, v] of Object.entries(options)) {
        if (k === "inproc" || k === "zap" || !(k in this)) {
          throw new TypeError(`Cannot add property ${k}, object is not extensible`)
        }
        ;(this as unknown as Record<string, unknown>)[k] = v
      }
    }
  }

  /**
   * ZMQ_BLOCKY: with true (the default) new sockets get linger -1, so close() keeps
   * delivering queued messages; false makes their default linger 0.
   */
  get blocky(): boolean {
    return this._blocky
  }
  set blocky(v: boolean) {
    this._blocky = bool(v)
  }

  /** ZMQ_IO_THREADS: accepted for compatibility (omq runs on the Node event loop). */
  get ioThreads(): number {
    return this._ioThreads
  }
  set ioThreads(v: number) {
    this._ioThreads = int32(v, 0)
  }

  /** ZMQ_MAX_MSGSZ: accepted and kept (a socket's own maxMessageSize limits what it takes). */
  get maxMessageSize(): number {
    return this._maxMessageSize
  }
  set maxMessageSize(v: number) {
    this._maxMessageSize = int32(v, 0)
  }

  /** ZMQ_MAX_SOCKETS: accepted and kept (omq sets no socket limit). */
  get maxSockets(): number {
    return this._maxSockets
  }
  set maxSockets(v: number) {
    this._maxSockets = int32(v, 1)
  }

  /** ZMQ_SOCKET_LIMIT (read-only): the largest maxSockets libzmq accepts. */
  get maxSocketsLimit(): number {
    return 65535
  }

  /** ZMQ_IPV6: accepted and kept (IPv6 addresses always work). */
  get ipv6(): boolean {
    return this._ipv6
  }
  set ipv6(v: boolean) {
    this._ipv6 = bool(v)
  }

  /** ZMQ_THREAD_PRIORITY (write-only in zeromq.js): accepted and ignored. */
  set threadPriority(v: number) {
    this._threadPriority = int32(v, -1)
  }

  /** ZMQ_THREAD_SCHED_POLICY (write-only in zeromq.js): accepted and ignored. */
  set threadSchedulingPolicy(v: number) {
    this._threadSchedulingPolicy = int32(v, -1)
  }
}

Object.defineProperty(Context.prototype, "maxSocketsLimit", {
  ...Object.getOwnPropertyDescriptor(Context.prototype, "maxSocketsLimit"),
  set() {
    throw new TypeError("Cannot set property maxSocketsLimit of #<Context> which has only a getter")
  },
})

/**
 * One registry per process for the default contexts of every copy of omq, found through a
 * global symbol. The number in its name changes whenever the registry's internal interface
 * does, so that two incompatible versions of omq keep to themselves.
 */
const SHARED_REGISTRY = Symbol.for("omq.inproc.registry.v2")

function sharedRegistry(): InprocRegistry {
  const g = globalThis as unknown as Record<symbol, InprocRegistry | undefined>
  return (g[SHARED_REGISTRY] ??= new InprocRegistry(true))
}

let creatingDefault = true
/** The default context shared by sockets created without one. */
export const context = new Context()
creatingDefault = false
