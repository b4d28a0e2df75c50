import { describe, expect, it } from "vitest"
import { Pair, Pull, Push } from "../../lib/index.js"
import { uniqueIpc } from "../helpers.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

const track = closeAfterEach()

for (const proto of ["tcp", "ipc"] as const) {
  const addr = () => (proto === "tcp" ? "tcp://127.0.0.1:*" : uniqueIpc())

  describe(`PAIR send/receive over ${proto}`, () => {
    async function connected(): Promise<[Pair, Pair]> {
      const a = track(new Pair({ linger: 0 }))
      const b = track(new Pair({ linger: 0 }))
      await b.bind(addr())
      a.connect(b.lastEndpoint!)
      return [a, b]
    }

    it("delivers single, multipart, typed array and coerced messages", async () => {
      const [a, b] = await connected()
      await a.send("foo")
      await a.send(["foo", Buffer.from("bar")])
      await a.send(Uint8Array.from([0x66, 0x6f, 0x6f]))
      await a.send(Int32Array.from([0x66]).buffer)
      await a.send(null)
      expect((await b.receive()).map(String)).toEqual(["foo"])
      expect((await b.receive()).map(String)).toEqual(["foo", "bar"])
      expect((await b.receive()).map(String)).toEqual(["foo"])
      expect((await b.receive())[0]).toEqual(Buffer.from([0x66, 0, 0, 0]))
      expect((await b.receive())[0]!.length).toBe(0)
    })

    it("sends both ways at once", async () => {
      const [a, b] = await connected()
      const [[ra], [rb]] = await Promise.all([Promise.all([a.receive(), a.send("from a")]), Promise.all([b.receive(), b.send("from b")])])
      expect(String(ra![0])).toBe("from b")
      expect(String(rb![0])).toBe("from a")
    })

    it("delivers messages sent before the connection exists", async () => {
      const a = track(new Pair({ linger: 0 }))
      const b = track(new Pair({ linger: 0 }))
      const endpoint = proto === "tcp" ? "tcp://127.0.0.1:*" : uniqueIpc()
      const received = b.receive()
      await b.bind(endpoint)
      const sent = a.send("early")
      a.connect(b.lastEndpoint!)
      await sent
      expect(String((await received)[0])).toBe("early")
    })

    it("iterates messages with for await", async () => {
      const [a, b] = await connected()
      for (const m of ["1", "2", "3"]) await a.send(m)
      const got: string[] = []
      for await (const [msg] of b) {
        got.push(String(msg))
        if (got.length === 3) break
      }
      expect(got).toEqual(["1", "2", "3"])
    })
  })
}

describe("send and receive rules (zeromq.js semantics)", () => {
  it("rejects receive with EAGAIN after receiveTimeout", async () => {
    const s = track(new Pull({ receiveTimeout: 20 }))
    await expect(s.receive()).rejects.toMatchObject({
      code: "EAGAIN",
      errno: 11,
      message: "Operation was not possible or timed out",
    })
  })

  it("rejects receive at once with receiveTimeout 0", async () => {
    const s = track(new Pull({ receiveTimeout: 0 }))
    await expect(s.receive()).rejects.toMatchObject({ code: "EAGAIN" })
  })

  it("throws EBUSY on a second receive while one is waiting", async () => {
    const s = track(new Pull({ receiveTimeout: 50 }))
    const first = s.receive().catch(() => null)
    expect(() => s.receive()).toThrow(expect.objectContaining({ code: "EBUSY", errno: 16 }))
    await first
  })

  it("throws EBUSY on a second send while one is waiting", async () => {
    const s = track(new Push({ sendTimeout: 50 }))
    const first = s.send("x").catch(() => null)
    expect(() => s.send("y")).toThrow(
      expect.objectContaining({
        code: "EBUSY",
        message: "Socket is busy writing; only one send operation may be in progress at any time",
      }),
    )
    await first
  })

  it("waits at the send high water mark and times out with EAGAIN", async () => {
    const s = track(new Push({ sendHighWaterMark: 1, sendTimeout: 20, linger: 0 }))
    s.connect("tcp://127.0.0.1:1")
    await s.send(Buffer.alloc(8192))
    await expect(s.send(Buffer.alloc(8192))).rejects.toMatchObject({ code: "EAGAIN" })
  })

  it("PUSH with no peer waits (sendTimeout 0 gives EAGAIN)", async () => {
    const s = track(new Push({ sendTimeout: 0 }))
    await expect(s.send("x")).rejects.toMatchObject({ code: "EAGAIN" })
  })

  it("refuses send and receive on a closed socket with EBADF", () => {
    const s = new Pair()
    s.close()
    expect(s.closed).toBe(true)
    expect(() => s.send("x")).toThrow(expect.objectContaining({ code: "EBADF", message: "Socket is closed" }))
    expect(() => s.receive()).toThrow(expect.objectContaining({ code: "EBADF" }))
  })

  it("ends async iteration when the socket is closed", async () => {
    const s = new Pull()
    process.nextTick(() => s.close())
    let n = 0
    for await (const _ of s) n++
    expect(n).toBe(0)
  })

  it("reports readable and writable", async () => {
    const a = track(new Pair({ linger: 0 }))
    const b = track(new Pair({ linger: 0 }))
    await b.bind("tcp://127.0.0.1:*")
    a.connect(b.lastEndpoint!)
    expect(a.writable).toBe(true)
    expect(b.readable).toBe(false)
    await a.send("x")
    await b.receive()
    const c = new Pair()
    c.close()
    expect(c.writable).toBe(false)
    expect(c.readable).toBe(false)
  })

  it("PUSH resolves a waiting send as soon as the HWM frees up", async () => {
    const push = track(new Push({ sendHighWaterMark: 2, linger: 0 }))
    const pull = track(new Pull({ receiveHighWaterMark: 2, linger: 0 }))
    await pull.bind("tcp://127.0.0.1:*")
    push.connect(pull.lastEndpoint!)
    const N = 2000
    const sender = (async () => {
      for (let i = 0; i < N; i++) await push.send(String(i))
    })()
    for (let i = 0; i < N; i++) expect(String((await pull.receive())[0])).toBe(String(i))
    await sender
  })
})
