/**
 * The wire protocol as another language's client would speak it (a bare
 * DEALER, CBOR from cbor-x's generic encoder), and bad input: every bad
 * request gets an ERR reply to its sender while the device keeps serving.
 */
import { connect } from "node:net"
import { Encoder } from "cbor-x"
import { describe, expect, it } from "vitest"
import { Dealer } from "../../lib/index.js"
import { BACKENDS, client, startDevice, useBackend } from "./queue-util.js"
import { afterEach } from "vitest"

// A generic CBOR encoder as a client in another language might use (uint64 for big ints via bigint).
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true })
const enc = (v: unknown) => Buffer.from(cbor.encode(v))
const dec = (b: Buffer) => cbor.decode(b) as Record<string, unknown>

const dealers: Dealer[] = []
afterEach(() => {
  for (const d of dealers.splice(0)) d.close()
})

async function raw(endpoint: string): Promise<Dealer> {
  const d = new Dealer({ receiveTimeout: 3000, linger: 0 })
  dealers.push(d)
  d.connect(endpoint)
  return d
}

let next = 1
const rid = () => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(next++)
  return b
}

/** Sends one request and returns [kind, requestId, result, ...data]. */
async function call(d: Dealer, frames: (Buffer | string)[]): Promise<[string, Buffer, Record<string, unknown>, Buffer[]]> {
  await d.send(frames)
  const [kind, id, result, ...data] = await d.receive()
  return [kind!.toString(), id!, result!.length ? dec(result!) : {}, data]
}

async function expectError(d: Dealer, frames: (Buffer | string)[], code: string): Promise<Record<string, unknown>> {
  const [kind, , result] = await call(d, frames)
  expect(kind).toBe("ERR")
  expect(result.code).toBe(code)
  expect(typeof result.message).toBe("string")
  return result
}

describe.each(BACKENDS)("queue protocol from a bare DEALER (%s backend)", (kind) => {
  useBackend(kind)
  it("HELLO, PUT, RESERVE, ACK with generic CBOR", async () => {
    const dev = await startDevice()
    const d = await raw(dev.lastEndpoint!)
    const [k0, , hello] = await call(d, ["HELLO", rid(), ""])
    expect(k0).toBe("OK")
    expect(hello).toMatchObject({ protocol: "omq-queue", version: 1 })

    const id = rid()
    const [k1, echoed, put] = await call(d, ["PUT", id, enc({ queue: "py", priority: 3 }), enc({ lang: "python" }), Buffer.from("body")])
    expect(k1).toBe("OK")
    expect(echoed.equals(id)).toBe(true)
    const seq = put.seq as number

    const [k2, , got, data] = await call(d, ["RESERVE", rid(), enc({ queue: "py", timeout: 1000 })])
    expect(k2).toBe("OK")
    expect(got.queue).toBe("py")
    const [tuple] = got.messages as unknown[][]
    expect(tuple!.slice(0, 3)).toEqual([seq, 1, 3])
    expect(dec(data[0]!)).toEqual({ lang: "python" })
    expect(data[1]!.toString()).toBe("body")

    // seq as a CBOR uint64 (what some encoders produce) is accepted.
    const [k3, , acked] = await call(d, ["ACK", rid(), enc({ acks: [BigInt(seq), 1] })])
    expect(k3).toBe("OK")
    expect(acked).toMatchObject({ acked: 1 })
  })

  it("pipelines: many requests in flight, replies matched by request id", async () => {
    const dev = await startDevice()
    const d = await raw(dev.lastEndpoint!)
    const ids = Array.from({ length: 50 }, rid)
    for (const [i, id] of ids.entries()) await d.send(["PUT", id, enc({ queue: "pipe" }), "", String(i)])
    const seen = new Set<string>()
    for (let i = 0; i < ids.length; i++) {
      const [kind, id] = await d.receive()
      expect(kind!.toString()).toBe("OK")
      seen.add(id!.toString("hex"))
    }
    expect(seen).toEqual(new Set(ids.map((b) => b.toString("hex"))))
  })

  it("CONSUME pushes MSG bundles tagged with its request id; CREDIT and CANCEL address it", async () => {
    const dev = await startDevice()
    const d = await raw(dev.lastEndpoint!)
    for (let i = 0; i < 3; i++) await call(d, ["PUT", rid(), enc({ queue: "c" }), "", `m${i}`])
    const sub = rid()
    await d.send(["CONSUME", sub, enc({ queue: "c", credit: 2 })])
    const msgs: string[] = []
    while (msgs.length < 2) {
      const [kind, tag, payload, ...data] = await d.receive()
      if (kind!.toString() === "OK") continue
      expect(kind!.toString()).toBe("MSG")
      expect(tag!.equals(sub)).toBe(true)
      const n = (dec(payload!).messages as unknown[]).length
      for (let i = 0; i < n; i++) msgs.push(data[2 * i + 1]!.toString())
    }
    expect(msgs).toEqual(["m0", "m1"])
    const [kind] = await call(d, ["CREDIT", rid(), enc({ sub, credit: 3 })])
    expect(kind).toBe("OK")
    const [more, , payload, ...data] = await d.receive()
    expect(more!.toString()).toBe("MSG")
    expect((dec(payload!).messages as unknown[]).length).toBe(1)
    expect(data[1]!.toString()).toBe("m2")
    expect((await call(d, ["CANCEL", rid(), enc({ sub })]))[0]).toBe("OK")
    await expectError(d, ["CANCEL", rid(), enc({ sub })], "NOT_FOUND")
  })
})

describe.each(BACKENDS)("bad input gets an error reply and the device keeps serving (%s backend)", (kind) => {
  useBackend(kind)
  it("refuses malformed requests with the right code", async () => {
    const dev = await startDevice({ maxBodySize: 1024 })
    const d = await raw(dev.lastEndpoint!)
    const q = enc({ queue: "bad" })
    await expectError(d, ["NOPE", rid(), ""], "UNKNOWN_COMMAND")
    await expectError(d, ["PUT", rid(), Buffer.from([0xff, 0x00])], "BAD_REQUEST") // not CBOR
    await expectError(d, ["PUT", rid(), enc([1, 2, 3])], "BAD_REQUEST") // not a map
    await expectError(d, ["PUT", rid(), enc({ queue: "bad" }), "only a header frame"], "BAD_REQUEST") // frame count
    await expectError(d, ["PUT", rid(), q, "", Buffer.alloc(1025)], "TOO_LARGE")
    await expectError(d, ["PUT", rid(), enc({ queue: "bad", priority: -1 }), "", "x"], "BAD_OPTION")
    await expectError(d, ["PUT", rid(), enc({ queue: "bad", delay: "soon" }), "", "x"], "BAD_OPTION")
    await expectError(d, ["PUT", rid(), enc({ queue: "bad", ttr: 0 }), "", "x"], "BAD_OPTION")
    await expectError(d, ["PUT", rid(), enc({ queue: "bad", colour: "red" }), "", "x"], "BAD_OPTION")
    await expectError(d, ["PUT", rid(), enc({ queue: "bad", retry: { backoff: "random" } }), "", "x"], "BAD_OPTION")
    await expectError(d, ["PUT", rid(), enc({ queue: "bad", id: "" }), "", "x"], "BAD_OPTION")
    await expectError(d, ["PUT", rid(), enc({ queue: "no spaces allowed" }), "", "x"], "BAD_OPTION")
    await expectError(d, ["PUT", rid(), q, enc([1]), "x"], "BAD_OPTION") // headers not a map
    await expectError(d, ["PUTB", rid(), enc({ queue: "bad", items: [null, null] }), "", "a"], "BAD_REQUEST")
    await expectError(d, ["ACK", rid(), enc({ acks: [1] })], "BAD_OPTION")
    await expectError(d, ["ACK", rid(), enc({ acks: "all" })], "BAD_OPTION")
    await expectError(d, ["NACK", rid(), enc({ seq: 1 })], "BAD_OPTION") // no attempt
    await expectError(d, ["NACK", rid(), enc({ seq: 12345, attempt: 1 })], "NOT_FOUND")
    await expectError(d, ["RESERVE", rid(), enc({ queue: "bad", timeout: -1 })], "BAD_OPTION")
    await expectError(d, ["CONSUME", rid(), enc({ queue: "bad", credit: 0 })], "BAD_OPTION")
    await expectError(d, ["PEEK", rid(), enc({ queue: "bad", state: "lost" })], "BAD_OPTION")
    await expectError(d, ["CONFIG", rid(), enc({ queue: "bad", retry: { maxAttempts: 1.5 } })], "BAD_OPTION")
    // Nothing was stored by any of that.
    const c = client(dev)
    expect((await c.stats()).queues.bad?.total ?? 0).toBe(0)
  })

  it("a missing or oversized request id is answered with an empty one", async () => {
    const dev = await startDevice()
    const d = await raw(dev.lastEndpoint!)
    await d.send(["PUT"])
    const [kind, id, result] = await d.receive()
    expect(kind!.toString()).toBe("ERR")
    expect(id!.length).toBe(0)
    expect(dec(result!).code).toBe("BAD_REQUEST")
    await d.send(["HELLO", Buffer.alloc(33), ""])
    const [kind2, id2] = await d.receive()
    expect(kind2!.toString()).toBe("ERR")
    expect(id2!.length).toBe(0)
  })

  it("other clients, and the offender itself, keep being served", async () => {
    const dev = await startDevice({ maxBodySize: 64 })
    const good = client(dev)
    const bad = await raw(dev.lastEndpoint!)
    const put = good.put("ok", "before")
    for (let i = 0; i < 20; i++) await bad.send(["PUT", rid(), enc({ queue: "ok" }), "", Buffer.alloc(100)])
    for (let i = 0; i < 20; i++) expect((await bad.receive())[0]!.toString()).toBe("ERR")
    await put
    // Garbage on a raw TCP connection is a ZMTP error: that connection is dropped, nothing else.
    const port = Number(dev.lastEndpoint!.split(":").pop())
    await new Promise<void>((resolve) => {
      const s = connect(port, "127.0.0.1", () => s.end(Buffer.from("GET / HTTP/1.1\r\n\r\n")))
      s.on("close", () => resolve())
      s.on("error", () => resolve())
      s.resume()
    })
    await good.put("ok", "after")
    expect((await call(bad, ["PUT", rid(), enc({ queue: "ok" }), "", "small"]))[0]).toBe("OK")
    expect((await good.peek("ok", { count: 5 })).map((m) => m.body.toString())).toEqual(["before", "after", "small"])
  })

  it("rejects bad device options", async () => {
    const { QueueDevice } = await import("../../lib/entry/queue.js")
    expect(() => new QueueDevice({ dir: "" })).toThrow(/dir/)
    expect(() => new QueueDevice({ dir: "/tmp/x", fsync: { intervalMs: 0 } })).toThrow(/fsync/)
    expect(() => new QueueDevice({ dir: "/tmp/x", fsync: "sometimes" as never })).toThrow(/fsync/)
    expect(() => new QueueDevice({ dir: "/tmp/x", maxBodySize: -1 })).toThrow(/maxBodySize/)
  })
})
