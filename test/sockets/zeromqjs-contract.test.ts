/**
 * zeromq.js v6's contract for constructing sockets, contexts and proxies and for setting
 * options: every case is run on omq and on zeromq.js (the `zeromq` package, libzmq inside)
 * and must end the same way — the same error class, code and message, or the same value.
 */
import * as zmq from "zeromq"
import { afterEach, describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"

type Lib = typeof omq | typeof zmq
type Outcome = { threw: false; value: unknown } | { threw: true; type: string; code: string | undefined; message: string }

const open: Array<{ close(): void }> = []
afterEach(() => {
  for (const s of open.splice(0)) s.close()
})

function outcome(fn: () => unknown): Outcome {
  try {
    const value = fn()
    if (value !== null && typeof value === "object" && typeof (value as { close?: unknown }).close === "function") {
      open.push(value as { close(): void })
    }
    return { threw: false, value: value === undefined || typeof value !== "object" || Buffer.isBuffer(value) ? value : "object" }
  } catch (err) {
    const e = err as Error & { code?: string }
    return { threw: true, type: e instanceof TypeError ? "TypeError" : "Error", code: e.code, message: e.message }
  }
}

/** Runs `fn` with each library; both must end the same way. */
function same(what: string, fn: (lib: Lib) => unknown): void {
  const theirs = outcome(() => fn(zmq))
  const ours = outcome(() => fn(omq))
  expect(ours, what).toEqual(theirs)
}

const any = (x: unknown) => x as never
interface ProxyLike {
  readonly frontEnd: { bind(a: string): Promise<void>; close(): void }
  readonly backEnd: { bind(a: string): Promise<void>; close(): void }
  run(): Promise<void>
  terminate(): void
}
const Prox = (lib: Lib) => lib.Proxy as unknown as new (...a: unknown[]) => ProxyLike
/** zeromq.js declares Socket's constructor protected; these cases call it as its tests do. */
const Sock = (lib: Lib) => lib.Socket as unknown as new (...a: unknown[]) => { close(): void; readonly type: number }

describe("constructing sockets (zeromq.js socket-construction)", () => {
  const cases: Array<[string, (lib: Lib) => unknown]> = [
    ["Socket called without new", (lib) => (lib.Socket as unknown as (...a: unknown[]) => unknown)(1, new lib.Context())],
    ["Dealer called without new", (lib) => (lib.Dealer as unknown as () => unknown)()],
    ["new Socket() with no type", (lib) => new (lib.Socket as unknown as new () => object)()],
    [
      "new Socket(1, ctx, 2): too many arguments",
      (lib) => new (lib.Socket as unknown as new (...a: unknown[]) => object)(1, new lib.Context(), 2),
    ],
    ["new Socket(3, 1): options not an object", (lib) => new (Sock(lib))(3, any(1))],
    ['new Socket("foo"): type not a number', (lib) => new (Sock(lib))(any("foo"))],
    ["new Socket(37): unknown type id", (lib) => new (Sock(lib))(37)],
    ["new Socket(4591)", (lib) => new (Sock(lib))(4591)],
    ["new Socket(1, { context: {} }): not a context", (lib) => new (Sock(lib))(1, any({ context: {} }))],
    ["new Dealer({ recoveryInterval: 'hello' })", (lib) => new lib.Dealer(any({ recoveryInterval: "hello" }))],
    ["new Dealer({ securityMechanism: 1 }): read-only", (lib) => new lib.Dealer(any({ securityMechanism: 1 }))],
    ["new Dealer({ doesNotExist: 1 }): unknown option", (lib) => new lib.Dealer(any({ doesNotExist: 1 }))],
    ["new Push({ linger: 1.5 }).linger", (lib) => new lib.Push({ linger: 1.5 }).linger],
    ["new Dealer({ recoveryInterval: 5 }).recoveryInterval", (lib) => new lib.Dealer({ recoveryInterval: 5 }).recoveryInterval],
  ]
  for (const [what, fn] of cases) it(what, () => same(what, fn))

  it("new Socket(14), a draft type, is refused where draft sockets are not built in", () => {
    expect(omq.capability.draft).toBe(false)
    expect(() => new omq.Socket(14)).toThrow(expect.objectContaining({ code: "EINVAL", message: "Invalid argument" }))
  })

  it("new Socket(type) makes a socket of that type in the default or the given context; subclasses work", () => {
    class MySocket extends omq.Socket {
      constructor(opts?: { context?: omq.Context }) {
        super(1, opts)
      }
    }
    const a = new MySocket()
    const b = new MySocket()
    open.push(a, b)
    expect(a.context).toBe(b.context)
    expect(a.context).toBe(omq.context)
    expect(a.type).toBe(1)
    expect(a).toBeInstanceOf(omq.Socket)
    const ctx = new omq.Context()
    const c = new MySocket({ context: ctx })
    open.push(c)
    expect(c.context).toBe(ctx)
    const d = new omq.Dealer({ context: ctx })
    open.push(d)
    expect(d.context).toBe(ctx)
    expect(d).toBeInstanceOf(omq.Dealer)
  })

  it("a socket made with new Socket(type) speaks its type on the wire: a generic PULL (7) handshakes with a libzmq PUSH", async () => {
    const pull = new omq.Socket(7)
    open.push(pull)
    await pull.bind("tcp://127.0.0.1:*")
    const handshake = new Promise((resolve) => pull.events.on("handshake", resolve))
    const push = new zmq.Push({ linger: 0 })
    open.push(push)
    push.connect(pull.lastEndpoint!)
    await handshake
  })
})

describe("setting options (zeromq.js socket-options)", () => {
  const sets: Array<[string, unknown]> = [
    ["securityMechanism", 1],
    ["doesNotExist", 1],
    ["immediate", "yes"],
    ["backlog", "75"],
    ["routingId", 5],
    ["linger", 2 ** 32 + 5],
    ["handshakeInterval", Number.POSITIVE_INFINITY],
    ["sendTimeout", 0.9],
  ]
  for (const [name, value] of sets) {
    it(`sock.${name} = ${String(value)}`, () =>
      same(name, (lib) => {
        const s = new lib.Dealer()
        open.push(s)
        ;(s as unknown as Record<string, unknown>)[name] = value
        return (s as unknown as Record<string, unknown>)[name]
      }))
  }

  const lowLevel: Array<[string, (s: Record<string, (...a: unknown[]) => unknown>) => unknown]> = [
    ["getBoolOption(39) (immediate)", (s) => s.getBoolOption!(39)],
    ["setBoolOption(39, true) then get", (s) => (s.setBoolOption!(39, true), s.getBoolOption!(39))],
    ["getInt32Option(19) (backlog)", (s) => s.getInt32Option!(19)],
    ["setInt32Option(19, 75) then get", (s) => (s.setInt32Option!(19, 75), s.getInt32Option!(19))],
    ["getInt64Option(22) (maxMessageSize)", (s) => s.getInt64Option!(22)],
    ["setInt64Option(22, 0xffffffffffff) then get", (s) => (s.setInt64Option!(22, 0xffffffffffff), s.getInt64Option!(22))],
    ["getUint64Option(4) (affinity)", (s) => s.getUint64Option!(4)],
    ["getStringOption(5) (routingId)", (s) => s.getStringOption!(5)],
    ['setStringOption(5, "åbç") then get', (s) => (s.setStringOption!(5, "åbçdé"), s.getStringOption!(5))],
    ["setStringOption(5, Buffer) then get", (s) => (s.setStringOption!(5, Buffer.from("åbçdé")), s.getStringOption!(5))],
    [
      "setStringOption(68, Buffer), null then get",
      (s) => (s.setStringOption!(68, Buffer.from("x")), s.setStringOption!(68, null), s.getStringOption!(68)),
    ],
    ["getInt32Option(43) (mechanism)", (s) => s.getInt32Option!(43)],
    ['getBoolOption("x"): id not a number', (s) => s.getBoolOption!("x")],
    ["setBoolOption(39, 1): value not a boolean", (s) => s.setBoolOption!(39, 1)],
    ['setInt32Option(19, "1"): value not a number', (s) => s.setInt32Option!(19, "1")],
    ["setStringOption(5, 1): value not a string", (s) => s.setStringOption!(5, 1)],
    ["getInt32Option(9999): unknown option", (s) => s.getInt32Option!(9999)],
  ]
  for (const [what, fn] of lowLevel) {
    it(what, () =>
      same(what, (lib) => {
        const s = new lib.Dealer()
        open.push(s)
        return fn(s as unknown as Record<string, (...a: unknown[]) => unknown>)
      }),
    )
  }

  async function warnings(fn: () => Promise<void> | void): Promise<string[]> {
    const got: string[] = []
    const listener = (w: Error) => got.push(w.message)
    const saved = process.listeners("warning")
    process.removeAllListeners("warning")
    process.on("warning", listener)
    try {
      await fn()
      await new Promise((r) => setImmediate(r))
    } finally {
      process.removeAllListeners("warning")
      for (const l of saved) process.on("warning", l)
    }
    return got
  }

  it("warns when an option is set that cannot take effect on a bound or connected socket, not for immediate ones", async () => {
    const late = "Socket option will not take effect until next connect/bind."
    const s = new omq.Dealer()
    open.push(s)
    expect(await warnings(() => void (s.routingId = "before"))).toEqual([])
    s.connect("inproc://omq-late-option")
    expect(await warnings(() => void (s.routingId = "after"))).toEqual([late])
    expect(await warnings(() => void (s.linger = 5))).toEqual([])
    expect(await warnings(() => void (s.sendHighWaterMark = 5))).toEqual([])
    const b = new omq.Dealer()
    open.push(b)
    const bound = b.bind("inproc://omq-late-option-2")
    expect(await warnings(() => void (b.routingId = "during"))).toEqual([late])
    await bound
  })

  it("warns when a uint64 option is set beyond Number.MAX_SAFE_INTEGER", async () => {
    const s = new omq.Dealer()
    open.push(s)
    // eslint-disable-next-line no-loss-of-precision -- the point: a literal beyond MAX_SAFE_INTEGER, as zeromq.js's own test uses
    const got = await warnings(() => s.setUint64Option(4, 0xfffffff7fab7fb))
    expect(got).toEqual(["Value is larger than Number.MAX_SAFE_INTEGER and may have been rounded inaccurately."])
    // eslint-disable-next-line no-loss-of-precision -- the same rounded literal as above
    expect(s.getUint64Option(4)).toBe(0xfffffff7fab7fb)
  })
})

describe("contexts (zeromq.js context-construction, context-options)", () => {
  const cases: Array<[string, (lib: Lib) => unknown]> = [
    ["Context called without new", (lib) => (lib.Context as unknown as () => unknown)()],
    ["new Context(1)", (lib) => new lib.Context(any(1))],
    ["new Context({}, 2)", (lib) => new (lib.Context as unknown as new (...a: unknown[]) => object)({}, 2)],
    ["new Context({ ioThreads: 5 }).ioThreads", (lib) => new lib.Context({ ioThreads: 5 }).ioThreads],
    ['new Context({ ioThreads: "hello" })', (lib) => new lib.Context(any({ ioThreads: "hello" }))],
    ["new Context({ maxSocketsLimit: 1 })", (lib) => new lib.Context(any({ maxSocketsLimit: 1 }))],
    ["new Context({ doesNotExist: 1 })", (lib) => new lib.Context(any({ doesNotExist: 1 }))],
    ["context.maxSocketsLimit = 1", (lib) => ((new lib.Context() as unknown as Record<string, unknown>).maxSocketsLimit = 1)],
    ["context.doesNotExist = 1", (lib) => ((new lib.Context() as unknown as Record<string, unknown>).doesNotExist = 1)],
    ["context.blocky = 1", (lib) => ((new lib.Context() as unknown as Record<string, unknown>).blocky = 1)],
    ["new Context().ioThreads", (lib) => new lib.Context().ioThreads],
  ]
  for (const [what, fn] of cases) it(what, () => same(what, fn))
})

describe("proxies (zeromq.js proxy-construction, proxy-run, proxy-terminate)", () => {
  const cases: Array<[string, (lib: Lib) => unknown]> = [
    ["Proxy called without new", (lib) => (lib.Proxy as unknown as () => unknown)()],
    ["new Proxy()", (lib) => new (lib.Proxy as unknown as new () => object)()],
    [
      "new Proxy(a, b, c): three sockets",
      (lib) => new (lib.Proxy as unknown as new (...a: unknown[]) => object)(new lib.Dealer(), new lib.Dealer(), new lib.Dealer()),
    ],
    ["terminate() before run()", (lib) => new (Prox(lib))(new lib.Router(), new lib.Dealer()).terminate()],
  ]
  for (const [what, fn] of cases) it(what, () => same(what, fn))

  it("new Proxy({}, {}): not sockets", () => same("new Proxy({}, {})", (lib) => new (Prox(lib))(any({}), any({}))))

  async function runError(lib: Lib, setup: (p: ProxyLike) => Promise<void>): Promise<unknown> {
    const proxy = new (Prox(lib))(new lib.Router(), new lib.Dealer())
    open.push(proxy.frontEnd, proxy.backEnd)
    await setup(proxy)
    try {
      await proxy.run()
      return "resolved"
    } catch (err) {
      return { message: (err as Error).message, code: (err as { code?: string }).code }
    }
  }

  for (const end of ["front", "back"] as const) {
    it(`run() with the ${end} end neither bound nor connected, or closed, rejects as zeromq.js's`, async () => {
      for (const closed of [false, true]) {
        const setup = async (p: ProxyLike): Promise<void> => {
          const other = end === "front" ? p.backEnd : p.frontEnd
          const self = end === "front" ? p.frontEnd : p.backEnd
          await other.bind("tcp://127.0.0.1:*")
          if (closed) {
            await self.bind("tcp://127.0.0.1:*")
            self.close()
          }
        }
        expect(await runError(omq, setup)).toEqual(await runError(zmq, setup))
      }
    })
  }

  it("terminate() after the proxy ended throws EBADF, as zeromq.js's", async () => {
    for (const lib of [zmq, omq] as Lib[]) {
      const proxy = new (Prox(lib))(new lib.Router(), new lib.Dealer())
      open.push(proxy.frontEnd, proxy.backEnd)
      await proxy.frontEnd.bind("tcp://127.0.0.1:*")
      await proxy.backEnd.bind("tcp://127.0.0.1:*")
      const running = proxy.run()
      setTimeout(() => proxy.terminate(), 20)
      await running
      expect(() => proxy.terminate()).toThrow(expect.objectContaining({ code: "EBADF", message: "Socket is closed" }))
    }
  })
})
