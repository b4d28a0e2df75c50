import * as net from "node:net"
import { describe, expect, it } from "vitest"
import { Pull, Push } from "../../lib/index.js"
import { encodeGreeting, encodeSignature } from "../../lib/wire/greeting.js"
import { readyFrame } from "../../lib/wire/command.js"
import { encodeFrame } from "../../lib/wire/frame.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

const track = closeAfterEach()

/** Opens a raw TCP connection, writes `bytes`, and resolves with all it received once the peer closes. */
function rawExchange(endpoint: string, bytes: Buffer[], timeoutMs = 5000): Promise<Buffer> {
  const m = /tcp:\/\/(.+):(\d+)/.exec(endpoint)!
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: m[1]!, port: Number(m[2]) })
    const got: Buffer[] = []
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error("peer did not close the connection"))
    }, timeoutMs)
    sock.on("data", (d) => got.push(d))
    sock.on("error", () => {})
    sock.on("close", () => {
      clearTimeout(timer)
      resolve(Buffer.concat(got))
    })
    sock.on("connect", () => {
      for (const b of bytes) sock.write(b)
    })
  })
}

async function servingPull(): Promise<[Pull, Push]> {
  const pull = track(new Pull({ receiveTimeout: 3000, handshakeInterval: 1000 }))
  await pull.bind("tcp://127.0.0.1:*")
  const good = track(new Push())
  good.connect(pull.lastEndpoint!)
  await good.send("before")
  expect(String((await pull.receive())[0])).toBe("before")
  return [pull, good]
}

async function stillServes(pull: Pull, good: Push): Promise<void> {
  await good.send("after")
  expect(String((await pull.receive())[0])).toBe("after")
}

describe("hostile and incompatible peers (connection dropped, socket keeps serving)", () => {
  // Bytes that are not a ZMTP signature are a ZMTP 1.0 peer, as for libzmq (ZMTP-NOTES, RFC 15):
  // an HTTP request is read as 1.0 frames, so it is bounded by maxMessageSize and the handshake timer.
  it("reads an HTTP request as ZMTP 1.0 framing: its unfinished identity frame ('G' = 71 octets) is dropped after handshakeInterval", async () => {
    const [pull, good] = await servingPull()
    const t0 = Date.now()
    await rawExchange(pull.lastEndpoint!, [Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")])
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900)
    await stillServes(pull, good)
  })

  it("drops an HTTP request at once when its first octet, read as a ZMTP 1.0 length, exceeds maxMessageSize", async () => {
    const pull = track(new Pull({ receiveTimeout: 3000, maxMessageSize: 50, handshakeInterval: 10_000 }))
    await pull.bind("tcp://127.0.0.1:*")
    const events: string[] = []
    pull.events.on("disconnect", (e) => events.push(e.type))
    const t0 = Date.now()
    await rawExchange(pull.lastEndpoint!, [Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")])
    expect(Date.now() - t0).toBeLessThan(5000) // not the handshake interval: the length octet alone decided
    expect(events).toEqual([]) // it never got as far as a connection
    const good = track(new Push())
    good.connect(pull.lastEndpoint!)
    await good.send("small")
    expect(String((await pull.receive())[0])).toBe("small")
  })

  it("sends ERROR to a peer with an incompatible socket type and closes", async () => {
    const [pull, good] = await servingPull()
    const reply = await rawExchange(pull.lastEndpoint!, [encodeGreeting("NULL", false), readyFrame([["Socket-Type", "PUB"]])])
    expect(reply.subarray(64).includes(Buffer.from("ERROR"))).toBe(true)
    await stillServes(pull, good)
  })

  it("drops a peer announcing another security mechanism", async () => {
    const [pull, good] = await servingPull()
    await rawExchange(pull.lastEndpoint!, [encodeGreeting("CURVE", false)])
    await stillServes(pull, good)
  })

  it("drops a peer sending reserved flag bits after the handshake", async () => {
    const [pull, good] = await servingPull()
    await rawExchange(pull.lastEndpoint!, [
      encodeGreeting("NULL", false),
      readyFrame([["Socket-Type", "PUSH"]]),
      Buffer.from([0x80, 0x01, 0x41]),
    ])
    await stillServes(pull, good)
  })

  it("drops a peer sending a message before READY", async () => {
    const [pull, good] = await servingPull()
    await rawExchange(pull.lastEndpoint!, [encodeGreeting("NULL", false), encodeFrame(Buffer.from("hi"))])
    await stillServes(pull, good)
  })

  it("drops a peer that stalls mid-greeting after handshakeInterval", async () => {
    const [pull, good] = await servingPull()
    const t0 = Date.now()
    await rawExchange(pull.lastEndpoint!, [Buffer.from([0xff, 0, 0])], 5000)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900)
    await stillServes(pull, good)
  })

  it("drops a peer whose frame header exceeds maxMessageSize before the body arrives", async () => {
    const pull = track(new Pull({ receiveTimeout: 3000, maxMessageSize: 1000 }))
    await pull.bind("tcp://127.0.0.1:*")
    const header = Buffer.alloc(9)
    header[0] = 0x02
    header.writeUInt32BE(1, 1) // 4 GiB claimed, nothing sent
    await rawExchange(pull.lastEndpoint!, [encodeGreeting("NULL", false), readyFrame([["Socket-Type", "PUSH"]]), header])
    const good = track(new Push())
    good.connect(pull.lastEndpoint!)
    await good.send("small")
    expect(String((await pull.receive())[0])).toBe("small")
  })

  // omq used to refuse every ZMTP 2.0/1.0 peer; it now serves compatible ones (test/interop/zmtp1, jeromq).
  it("drops ZMTP 2.0 and versioned 1.0 peers of an incompatible socket type (PAIR, or unknown 0x42) with handshake:error:protocol", async () => {
    const [pull, good] = await servingPull()
    const events: Array<{ type: string; code: string | undefined }> = []
    pull.events.on("handshake:error:protocol", (e) => events.push({ type: e.type, code: (e.error as { code?: string }).code }))
    for (const [revision, type] of [
      [1, 0x00],
      [0, 0x00],
      [1, 0x42],
    ] as const) {
      // An old peer's greeting: signature, revision, socket type, then its identity frame.
      await rawExchange(pull.lastEndpoint!, [encodeSignature(), Buffer.from([revision, type]), Buffer.from([0x00, 0x00])])
    }
    await stillServes(pull, good)
    expect(events).toEqual(new Array(3).fill({ type: "handshake:error:protocol", code: "ERR_ZMTP_INVALID_METADATA" }))
  })

  it("reads a greeting with revision 2 as ZMTP 3.x (as libzmq 4.x does) and serves the peer", async () => {
    const [pull, good] = await servingPull()
    const m = /tcp:\/\/(.+):(\d+)/.exec(pull.lastEndpoint!)!
    const g = encodeGreeting("NULL", false)
    g[10] = 2
    const sock = net.connect({ host: m[1]!, port: Number(m[2]) })
    sock.on("error", () => {})
    sock.write(Buffer.concat([g, readyFrame([["Socket-Type", "PUSH"]]), encodeFrame(Buffer.from("from revision 2"))]))
    try {
      expect(String((await pull.receive())[0])).toBe("from revision 2")
    } finally {
      sock.destroy()
    }
    await stillServes(pull, good)
  })

  it("drops a peer sending garbage after a valid greeting, with a protocol event", async () => {
    const [pull, good] = await servingPull()
    const events: string[] = []
    pull.events.on("handshake:error:protocol", (e) => events.push(e.type))
    await rawExchange(pull.lastEndpoint!, [encodeGreeting("NULL", false), Buffer.from([0x04, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff])])
    await stillServes(pull, good)
    expect(events.length).toBeGreaterThan(0)
  })

  it("drops a peer whose frame claims 2^63 bytes, without allocating it", async () => {
    const [pull, good] = await servingPull()
    const header = Buffer.from([0x02, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    const before = process.memoryUsage().rss
    await rawExchange(pull.lastEndpoint!, [encodeGreeting("NULL", false), readyFrame([["Socket-Type", "PUSH"]]), header])
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024)
    await stillServes(pull, good)
  })

  it("drops a peer that dribbles its handshake one byte at a time after handshakeInterval", async () => {
    const [pull, good] = await servingPull()
    const m = /tcp:\/\/(.+):(\d+)/.exec(pull.lastEndpoint!)!
    const bytes = Buffer.concat([encodeGreeting("NULL", false), readyFrame([["Socket-Type", "PUSH"]])])
    const t0 = Date.now()
    await new Promise<void>((resolve, reject) => {
      const sock = net.connect({ host: m[1]!, port: Number(m[2]) })
      let i = 0
      const timer = setInterval(() => {
        if (i < bytes.length && !sock.destroyed) sock.write(bytes.subarray(i, ++i))
      }, 50)
      const deadline = setTimeout(() => reject(new Error("never dropped")), 8000)
      sock.on("error", () => {})
      sock.on("close", () => {
        clearInterval(timer)
        clearTimeout(deadline)
        resolve()
      })
    })
    // handshakeInterval is 1000 ms in servingPull(); 50 ms per byte would need ~5 s to finish.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900)
    expect(Date.now() - t0).toBeLessThan(5000)
    await stillServes(pull, good)
  })

  it("survives a peer resetting the connection in the middle of a frame", async () => {
    const [pull, good] = await servingPull()
    const m = /tcp:\/\/(.+):(\d+)/.exec(pull.lastEndpoint!)!
    const disconnected = new Promise<void>((resolve) => pull.events.on("disconnect", () => resolve()))
    await new Promise<void>((resolve) => {
      const sock = net.connect({ host: m[1]!, port: Number(m[2]) }, () => {
        sock.write(Buffer.concat([encodeGreeting("NULL", false), readyFrame([["Socket-Type", "PUSH"]])]))
        // Half of a 1000-byte frame, then a TCP RST.
        const partial = encodeFrame(Buffer.alloc(1000, 1)).subarray(0, 509)
        sock.write(partial, () => setTimeout(() => sock.resetAndDestroy(), 50))
      })
      sock.on("error", () => {})
      sock.on("close", () => resolve())
    })
    await disconnected
    await stillServes(pull, good)
  })
})
