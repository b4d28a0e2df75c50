import * as fs from "node:fs"
import * as net from "node:net"
import { describe, expect, it } from "vitest"
import { Pair, Pull, Push } from "../../lib/index.js"
import { uniqueIpc } from "../helpers.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

const track = closeAfterEach()

describe("bind and connect addresses", () => {
  it("binds an ephemeral tcp port and reports it in lastEndpoint", async () => {
    const s = track(new Pull())
    expect(s.lastEndpoint).toBe(null)
    await s.bind("tcp://127.0.0.1:*")
    expect(s.lastEndpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
  })

  it("binds tcp://*:* on all interfaces", async () => {
    const s = track(new Pull())
    await s.bind("tcp://*:*")
    expect(s.lastEndpoint).toMatch(/^tcp:\/\/0\.0\.0\.0:\d+$/)
  })

  it("rejects a taken port with EADDRINUSE and the address", async () => {
    const a = track(new Pull())
    await a.bind("tcp://127.0.0.1:*")
    const b = track(new Pull())
    await expect(b.bind(a.lastEndpoint!)).rejects.toMatchObject({
      code: "EADDRINUSE",
      address: a.lastEndpoint,
    })
  })

  it("rejects malformed addresses with EINVAL and unknown transports with EPROTONOSUPPORT", async () => {
    const s = track(new Pull())
    await expect(s.bind("tcp://127.0.0.1")).rejects.toMatchObject({ code: "EINVAL" })
    await expect(s.bind("tcp://127.0.0.1:99999")).rejects.toMatchObject({ code: "EINVAL" })
    await expect(s.bind("nonsense")).rejects.toMatchObject({ code: "EINVAL" })
    await expect(s.bind("foo://bar")).rejects.toMatchObject({ code: "EPROTONOSUPPORT" })
    expect(() => s.connect("tcp://127.0.0.1:*")).toThrow(expect.objectContaining({ code: "EINVAL" }))
    expect(() => s.connect("foo://x:1")).toThrow(expect.objectContaining({ code: "EPROTONOSUPPORT" }))
    // libzmq knows udp (for RADIO/DISH) and answers ENOCOMPATPROTO for other socket types.
    expect(() => s.connect("udp://x:1")).toThrow(expect.objectContaining({ code: "ENOCOMPATPROTO" }))
  })

  it("rejects ipc paths longer than the OS limit with ENAMETOOLONG", async () => {
    const s = track(new Pull())
    const long = `ipc:///tmp/${"x".repeat(120)}`
    await expect(s.bind(long)).rejects.toMatchObject({ code: "ENAMETOOLONG" })
    expect(() => s.connect(long)).toThrow(expect.objectContaining({ code: "ENAMETOOLONG" }))
  })

  it("replaces a stale ipc socket file but refuses one in use", async () => {
    const ep = uniqueIpc()
    const file = ep.slice("ipc://".length)
    // A socket file whose listener is gone (as after a crash).
    const server = net.createServer()
    await new Promise<void>((r) => server.listen(file, r))
    await new Promise<void>((r) => {
      // close() unlinks the file; recreate the stale situation by copying the inode away and back
      const tmp = `${file}.keep`
      fs.linkSync(file, tmp)
      server.close(() => {
        fs.renameSync(tmp, file)
        r()
      })
    })
    expect(fs.lstatSync(file).isSocket()).toBe(true)
    const a = track(new Pull())
    await a.bind(ep)
    const b = track(new Pull())
    await expect(b.bind(ep)).rejects.toMatchObject({ code: "EADDRINUSE" })
  })

  it("refuses to bind over a regular file", async () => {
    const ep = uniqueIpc()
    fs.writeFileSync(ep.slice(6), "data")
    const s = track(new Pull())
    await expect(s.bind(ep)).rejects.toMatchObject({ code: "EADDRINUSE" })
    expect(fs.readFileSync(ep.slice(6), "utf8")).toBe("data")
    fs.unlinkSync(ep.slice(6))
  })

  it("removes the ipc file on unbind and close", async () => {
    const ep = uniqueIpc()
    const s = new Pull()
    await s.bind(ep)
    expect(fs.existsSync(ep.slice(6))).toBe(true)
    await s.unbind(ep)
    expect(fs.existsSync(ep.slice(6))).toBe(false)
    await s.bind(ep)
    s.close()
    expect(fs.existsSync(ep.slice(6))).toBe(false)
  })

  it("binds and connects several endpoints on one socket", async () => {
    const pull = track(new Pull({ receiveTimeout: 2000 }))
    await pull.bind("tcp://127.0.0.1:*")
    const e1 = pull.lastEndpoint!
    await pull.bind(uniqueIpc())
    const e2 = pull.lastEndpoint!
    const p1 = track(new Push())
    const p2 = track(new Push())
    p1.connect(e1)
    p2.connect(e2)
    await p1.send("tcp")
    await p2.send("ipc")
    const got = [String((await pull.receive())[0]), String((await pull.receive())[0])].sort()
    expect(got).toEqual(["ipc", "tcp"])
  })

  it("unbind drops the connections accepted there; disconnect stops a connect", async () => {
    const pull = track(new Pull({ receiveTimeout: 2000 }))
    await pull.bind("tcp://127.0.0.1:*")
    const ep = pull.lastEndpoint!
    const push = track(new Push({ sendTimeout: 0 }))
    push.connect(ep)
    await push.send("one")
    await pull.receive()
    push.disconnect(ep)
    await expect(push.send("two")).rejects.toMatchObject({ code: "EAGAIN" })
    expect(() => push.disconnect(ep)).toThrow(expect.objectContaining({ code: "ENOENT" }))
    await pull.unbind(ep)
    await expect(pull.unbind(ep)).rejects.toMatchObject({ code: "ENOENT" })
  })
})

describe("reconnection", () => {
  it("connects before the peer binds and reconnects after the peer comes back", async () => {
    const probe = track(new Pull())
    await probe.bind("tcp://127.0.0.1:*")
    const ep = probe.lastEndpoint!
    probe.close()

    const push = track(new Push({ reconnectInterval: 10, linger: 0 }))
    push.connect(ep)
    await push.send("queued before bind")
    let pull = new Pull({ receiveTimeout: 5000, linger: 0 })
    await pull.bind(ep)
    expect(String((await pull.receive())[0])).toBe("queued before bind")
    pull.close()

    pull = track(new Pull({ receiveTimeout: 200, linger: 0 }))
    await pull.bind(ep)
    // The push may have written into the dead connection; resend until one arrives.
    let got: string | undefined
    for (let i = 0; i < 50 && got === undefined; i++) {
      await push.send(`again ${i}`)
      got = await pull.receive().then(
        (m) => String(m[0]),
        () => undefined,
      )
    }
    expect(got).toMatch(/^again/)
  })
})

describe("routing", () => {
  it("PUSH round-robins over its PULL peers", async () => {
    const pulls = [track(new Pull({ receiveTimeout: 2000 })), track(new Pull({ receiveTimeout: 2000 }))]
    const push = track(new Push())
    for (const p of pulls) {
      await p.bind("tcp://127.0.0.1:*")
      push.connect(p.lastEndpoint!)
    }
    for (let i = 0; i < 10; i++) await push.send(String(i))
    const got: string[][] = [[], []]
    for (let k = 0; k < 2; k++) for (let i = 0; i < 5; i++) got[k]!.push(String((await pulls[k]!.receive())[0]))
    expect(got[0]).toEqual(["0", "2", "4", "6", "8"])
    expect(got[1]).toEqual(["1", "3", "5", "7", "9"])
  })

  it("PULL receives from all its PUSH peers", async () => {
    const pull = track(new Pull({ receiveTimeout: 2000 }))
    await pull.bind("tcp://127.0.0.1:*")
    const busy = track(new Push())
    const quiet = track(new Push())
    busy.connect(pull.lastEndpoint!)
    quiet.connect(pull.lastEndpoint!)
    for (let i = 0; i < 200; i++) await busy.send("busy")
    await quiet.send("quiet")
    const seen: string[] = []
    for (let i = 0; i < 201; i++) seen.push(String((await pull.receive())[0]))
    expect(seen.filter((s) => s === "quiet")).toHaveLength(1)
  })

  it("PAIR accepts one peer and refuses a second while the first is connected", async () => {
    const server = track(new Pair({ receiveTimeout: 2000 }))
    await server.bind("tcp://127.0.0.1:*")
    const first = track(new Pair())
    first.connect(server.lastEndpoint!)
    await first.send("first")
    expect(String((await server.receive())[0])).toBe("first")
    const second = track(new Pair({ sendTimeout: 500 }))
    second.connect(server.lastEndpoint!)
    await second.send("second").catch(() => undefined)
    await server.send("to first")
    expect(String((await first.receive())[0])).toBe("to first")
    server.receiveTimeout = 100
    await expect(server.receive()).rejects.toMatchObject({ code: "EAGAIN" })
  })
})

describe("close and linger", () => {
  it("delivers queued messages after close with the default linger", async () => {
    const pull = track(new Pull({ receiveTimeout: 5000 }))
    await pull.bind("tcp://127.0.0.1:*")
    const push = new Push()
    push.connect(pull.lastEndpoint!)
    await push.send("warm up")
    await pull.receive()
    for (let i = 0; i < 100; i++) await push.send(String(i))
    push.close()
    for (let i = 0; i < 100; i++) expect(String((await pull.receive())[0])).toBe(String(i))
  })
})
