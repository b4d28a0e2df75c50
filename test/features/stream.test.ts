/**
 * STREAM socket: plain TCP peers, [routing id, data] messages, [id, ""]
 * connect/disconnect notifications, [id, ""] to close a connection, and
 * connect() with a chosen routing id.
 */
import * as http from "node:http"
import * as net from "node:net"
import { describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"
import { waitFor } from "../helpers.js"
import { netTarget, rawServer, tracker, tryReceive, withTimeout } from "./feature-util.js"

const t = tracker()
const IO = { linger: 0, receiveTimeout: 5000, sendTimeout: 5000 }

/** A raw TCP client that collects what it receives. */
function rawClient(endpoint: string) {
  const sock = net.connect(netTarget(endpoint))
  sock.on("error", () => {})
  t.cleanup(() => sock.destroy())
  let data = Buffer.alloc(0)
  const waiters = new Set<() => void>()
  const wake = () => {
    for (const w of [...waiters]) w()
  }
  sock.on("data", (d: Buffer) => {
    data = Buffer.concat([data, d])
    wake()
  })
  let closed = false
  sock.on("close", () => {
    closed = true
    wake()
  })
  const until = (cond: () => boolean, ms: number, what: string) =>
    withTimeout(
      new Promise<void>((resolve) => {
        const check = () => {
          if (cond()) {
            waiters.delete(check)
            resolve()
          }
        }
        waiters.add(check)
        check()
      }),
      ms,
      what,
    )
  return {
    sock,
    connected: withTimeout(new Promise<void>((r) => sock.once("connect", () => r())), 5000, "raw client connect"),
    get text() {
      return data.toString()
    },
    get closed() {
      return closed
    },
    until,
  }
}

/** Receives [id, data] chunks from `id` until they add up to `text`. */
async function receiveText(stream: omq.Stream, id: Buffer, text: string): Promise<void> {
  let got = ""
  while (got.length < text.length) {
    const [from, data] = await stream.receive()
    expect(Buffer.compare(from!, id)).toBe(0)
    expect(data!.length).toBeGreaterThan(0)
    got += data!.toString()
  }
  expect(got).toBe(text)
}

describe("Stream", () => {
  it('a raw client: connect notification [id, ""], data both ways, [id, ""] closes its connection, then a disconnect notification', async () => {
    const stream = t.track(new omq.Stream(IO))
    await stream.bind("tcp://127.0.0.1:*")
    const client = rawClient(stream.lastEndpoint!)
    await client.connected

    const hello = await stream.receive()
    expect(hello).toHaveLength(2)
    const id = hello[0]!
    expect(id.length).toBeGreaterThan(0)
    expect(hello[1]!.length).toBe(0)

    client.sock.write("hello stream")
    await receiveText(stream, id, "hello stream")

    await stream.send([id, "hello client"])
    await client.until(() => client.text === "hello client", 5000, "the client to get the reply")

    await stream.send([id, ""])
    await client.until(() => client.closed, 5000, "omq to close the client's connection")
    const bye = await stream.receive()
    expect(Buffer.compare(bye[0]!, id)).toBe(0)
    expect(bye[1]!.length).toBe(0)
    // The id is gone: sending to it fails.
    await expect(stream.send([id, "late"])).rejects.toMatchObject({ code: "EHOSTUNREACH" })
  })

  it('data sent just before [id, ""] still reaches the client before its connection is closed', async () => {
    const stream = t.track(new omq.Stream(IO))
    await stream.bind("tcp://127.0.0.1:*")
    const client = rawClient(stream.lastEndpoint!)
    await client.connected
    const [id] = await stream.receive()
    const body = "x".repeat(200_000)
    void stream.send([id!, body])
    await stream.send([id!, ""])
    await client.until(() => client.closed, 5000, "the connection to close")
    expect(client.text.length).toBe(body.length)
  })

  it('a raw client closing its side produces a disconnect notification [id, ""]', async () => {
    const stream = t.track(new omq.Stream(IO))
    await stream.bind("tcp://127.0.0.1:*")
    const client = rawClient(stream.lastEndpoint!)
    await client.connected
    const [id] = await stream.receive()
    client.sock.end()
    const bye = await stream.receive()
    expect(Buffer.compare(bye[0]!, id!)).toBe(0)
    expect(bye[1]!.length).toBe(0)
  })

  it("several raw clients get distinct routing ids and replies reach the right client", async () => {
    const stream = t.track(new omq.Stream(IO))
    await stream.bind("tcp://127.0.0.1:*")
    const a = rawClient(stream.lastEndpoint!)
    await a.connected
    const [idA] = await stream.receive()
    const b = rawClient(stream.lastEndpoint!)
    await b.connected
    const [idB] = await stream.receive()
    expect(Buffer.compare(idA!, idB!)).not.toBe(0)
    b.sock.write("from-b")
    await receiveText(stream, idB!, "from-b")
    a.sock.write("from-a")
    await receiveText(stream, idA!, "from-a")
    await stream.send([idB!, "to-b"])
    await stream.send([idA!, "to-a"])
    await a.until(() => a.text === "to-a", 5000, "client a's reply")
    await b.until(() => b.text === "to-b", 5000, "client b's reply")
  })

  it("connect() to a raw TCP server with a routingId: notification, data both ways under that id", async () => {
    let serverData = ""
    let onAccept!: (s: net.Socket) => void
    const accepted = new Promise<net.Socket>((r) => (onAccept = r))
    const { server, port } = await rawServer((s) => {
      s.on("error", () => {})
      s.on("data", (d: Buffer) => (serverData += d.toString()))
      t.cleanup(() => s.destroy())
      onAccept(s)
    })
    t.cleanup(() => server.close())
    const stream = t.track(new omq.Stream(IO))
    stream.connect(`tcp://127.0.0.1:${port}`, { routingId: "server-1" })
    const conn = await withTimeout(accepted, 5000, "omq to connect to the raw server")

    const hello = await stream.receive()
    expect(strs(hello)).toEqual(["server-1", ""])

    conn.write("greetings from the server")
    await receiveText(stream, Buffer.from("server-1"), "greetings from the server")

    await stream.send(["server-1", "hi server"])
    await waitFor(() => serverData === "hi server", 5000, "the server to get the data")

    // The server hanging up is announced under the same id.
    conn.end()
    expect(strs(await stream.receive())).toEqual(["server-1", ""])
  })

  it("with notify false there are no connect/disconnect notifications, only data", async () => {
    const stream = t.track(new omq.Stream({ ...IO, notify: false }))
    await stream.bind("tcp://127.0.0.1:*")
    const client = rawClient(stream.lastEndpoint!)
    await client.connected
    client.sock.write("data-first")
    const [id, data] = await stream.receive()
    expect(String(data)).toBe("data-first".slice(0, data!.length))
    let got = String(data)
    while (got.length < "data-first".length) got += String((await stream.receive())[1])
    expect(got).toBe("data-first")
    client.sock.end()
    await client.until(() => client.closed, 5000, "the client to close")
    expect(await tryReceive(stream, 200)).toBeUndefined()
    expect(id!.length).toBeGreaterThan(0)
  })

  it("sending to an unknown routing id fails with EHOSTUNREACH; a message that is not [id, data] with EINVAL", async () => {
    const stream = t.track(new omq.Stream(IO))
    await stream.bind("tcp://127.0.0.1:*")
    await expect(stream.send(["nobody", "x"])).rejects.toMatchObject({ code: "EHOSTUNREACH" })
    await expect(stream.send(["a", "b", "c"])).rejects.toMatchObject({ code: "EINVAL" })
  })
})

const strs = (m: Buffer[]) => m.map(String)

describe("Stream with HTTP peers (zeromq.js socket-stream)", () => {
  it("as a server: answers node's http client and closes at once, linger 0 included (the answer still goes out)", async () => {
    for (const linger of [0, -1]) {
      const stream = t.track(new omq.Stream({ linger }))
      await stream.bind("tcp://127.0.0.1:*")
      const url = `${stream.lastEndpoint!.replace("tcp:", "http:")}/foo`
      const serve = (async () => {
        for await (const [id, msg] of stream) {
          if (msg!.length === 0) continue // connect notification
          expect(msg!.toString().split("\r\n")[0]).toBe("GET /foo HTTP/1.1")
          await stream.send([id!, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nHello world!"])
          stream.close()
        }
      })()
      const body = await withTimeout(
        new Promise<string>((resolve, reject) => {
          http
            .get(url, (res) => {
              let b = ""
              res.on("data", (chunk) => (b += chunk))
              res.on("end", () => resolve(b))
            })
            .on("error", reject)
        }),
        5000,
        "the HTTP response",
      )
      await serve
      expect(body, `linger ${linger}`).toBe("Hello world!")
    }
  })

  it("as a client: connect() with a routing id and send at once — the request waits for the TCP connection", async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": 12 })
      res.end("Hello world!")
    })
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
    try {
      const stream = t.track(new omq.Stream(IO))
      const routingId = "abcdef1234567890"
      const address = `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`
      stream.connect(address, { routingId })
      await stream.send([routingId, `GET /foo HTTP/1.1\r\nHost: ${address.slice(6)}\r\n\r\n`])
      let body = ""
      for await (const [id, data] of stream) {
        expect(id!.toString()).toBe(routingId)
        if (data!.length > 0) {
          body += data!.toString()
          if (body.endsWith("Hello world!")) break
        }
      }
      expect(body.split("\r\n\r\n").pop()).toBe("Hello world!")
    } finally {
      server.close()
    }
  })
})
