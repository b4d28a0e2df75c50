/**
 * Tenancy and authorisation: namespaces and rights from the access list, identities from ZAP
 * (PLAIN user, CURVE key). An unauthorised client that tries every command changes nothing.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { curveKeyPair } from "../../lib/index.js"
import { QueueDevice, type QueueClient } from "../../lib/entry/queue.js"
import type { AccessList } from "../../lib/devices/queue/server/access.js"
import { client, onCleanup, tempDir } from "./queue-util.js"

const server = curveKeyPair()
const opsKeys = curveKeyPair()

const ACL: AccessList = {
  users: [
    { name: "alice", password: "alice-pw", namespace: "shop", allow: [{ queues: "orders*", rights: ["put", "consume"] }] },
    { name: "bob", password: "bob-pw", namespace: "shop", allow: [{ queues: "*", rights: ["put", "consume", "admin"] }] },
    { name: "eve", password: "eve-pw", namespace: "lab", allow: [{ queues: "*", rights: ["put", "consume", "admin"] }] },
    { name: "ops", curveKey: opsKeys.publicKey, namespace: "shop", allow: [{ queues: "*", rights: ["admin"] }] },
  ],
}

async function plainDevice(acl: AccessList | string = ACL): Promise<QueueDevice> {
  const dev = new QueueDevice({ dir: tempDir(), access: acl, socket: { plainServer: true }, trace: true })
  onCleanup(() => dev.close())
  await dev.bind("tcp://127.0.0.1:*")
  return dev
}

const as = (dev: QueueDevice, user: string, password = `${user}-pw`): QueueClient =>
  client(dev, { socket: { plainUsername: user, plainPassword: password } })

/** Resolves true if `p` settles within `ms` (for "no answer comes" checks). */
const settlesWithin = (p: Promise<unknown>, ms: number) =>
  Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ])

describe("access control", () => {
  it("namespaces keep tenants apart: the same queue name is two queues; stats show only one's own", async () => {
    const dev = await plainDevice()
    const alice = as(dev, "alice")
    const eve = as(dev, "eve")
    await alice.put("orders", "from shop")
    await eve.put("orders", "from lab")
    const a = (await alice.reserve("orders", { timeout: 1000 }))!
    expect([a.body.toString(), a.queue]).toEqual(["from shop", "orders"])
    const e = (await eve.reserve("orders", { timeout: 1000 }))!
    expect([e.body.toString(), e.queue]).toEqual(["from lab", "orders"])
    await a.ack()
    await e.ack()
    await eve.put("experiments", "x")
    expect(Object.keys((await eve.stats()).queues).sort()).toEqual(["experiments", "orders"])
    expect(Object.keys((await alice.stats()).queues)).toEqual(["orders"])
    // A consumer's deliveries carry its own names too.
    await alice.put("orders", "pushed")
    for await (const d of alice.consume("orders")) {
      expect(d.queue).toBe("orders")
      await d.ack()
      break
    }
  })

  it("an unauthorised client that tries every command gets FORBIDDEN (or NOT_FOUND) and changes nothing", async () => {
    const dev = await plainDevice()
    const bob = as(dev, "bob")
    const eve = as(dev, "eve")
    await bob.configure("payments", { ttr: 5000 })
    await bob.createGroup("orders-stream", "g")
    await bob.put("orders-stream", "s1")
    const { seq } = await bob.put("payments", "p1", { id: "pay-1" })
    await bob.put("orders", "o1")
    const labSeq = (await eve.put("secret", "lab data")).seq
    const before = JSON.stringify((await bob.stats()).queues, (k, v) => (k === "oldestAge" ? 0 : v))
    const alice = as(dev, "alice")
    const forbidden = { code: "FORBIDDEN" }
    const attempts: [string, () => Promise<unknown>][] = [
      ["put payments", () => alice.put("payments", "x")],
      ["putBatch payments", () => alice.putBatch("payments", [{ body: "a" }, { body: "b" }])],
      ["reserve payments", () => alice.reserve("payments", { timeout: 0 })],
      ["range payments", () => alice.range("payments")],
      ["kick orders", () => alice.kick("orders")],
      ["peek orders", () => alice.peek("orders")],
      ["configure orders", () => alice.configure("orders", { ttr: 1 })],
      ["createGroup orders-stream", () => alice.createGroup("orders-stream", "mine")],
      ["deleteGroup orders-stream", () => alice.deleteGroup("orders-stream", "g")],
      ["seek orders-stream", () => alice.seek("orders-stream", "g", "last")],
      ["trace payments", () => alice.trace({ queue: "payments", id: "pay-1" })],
      ["stats payments", () => alice.stats("payments")],
    ]
    for (const [what, f] of attempts) await expect(f(), what).rejects.toMatchObject(forbidden)
    const consumer = alice.consume("payments")
    await expect(
      (async () => {
        for await (const _ of consumer) void _
      })(),
    ).rejects.toMatchObject(forbidden)
    // By seq, another queue's or another namespace's message is not there for her.
    await expect(alice.peekMessage({ seq })).resolves.toBeNull()
    await expect(alice.trace({ seq })).rejects.toMatchObject({ code: expect.stringMatching(/FORBIDDEN|NOT_FOUND/) })
    await expect(bob.peekMessage({ seq: labSeq })).resolves.toBeNull()
    await expect(bob.trace({ seq: labSeq })).rejects.toMatchObject({ code: "NOT_FOUND" })
    // Settling what she does not hold finds nothing.
    await expect(alice.hello()).resolves.toMatchObject({ protocol: "omq-queue" })
    const after = JSON.stringify((await bob.stats()).queues, (k, v) => (k === "oldestAge" ? 0 : v))
    expect(after).toBe(before)
    expect((await bob.peek("payments"))[0]!.body.toString()).toBe("p1")
    expect((await eve.peek("secret"))[0]!.body.toString()).toBe("lab data")
  })

  it("a wrong password or an unknown user gets no connection (ZAP says 400); a CURVE client is known by its key", async () => {
    const dev = new QueueDevice({
      dir: tempDir(),
      access: ACL,
      socket: { curveServer: true, curveSecretKey: server.secretKey },
    })
    onCleanup(() => dev.close())
    await dev.bind("tcp://127.0.0.1:*")
    const ops = client(dev, {
      socket: { curveServerKey: server.publicKey, curvePublicKey: opsKeys.publicKey, curveSecretKey: opsKeys.secretKey },
    })
    expect(await ops.peek("orders")).toEqual([])
    await expect(ops.put("orders", "x")).rejects.toMatchObject({ code: "FORBIDDEN" })
    const stranger = curveKeyPair()
    const nobody = client(dev, {
      socket: { curveServerKey: server.publicKey, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey },
    })
    expect(await settlesWithin(nobody.hello(), 500)).toBe(false)

    const pdev = await plainDevice()
    expect(await settlesWithin(as(pdev, "alice", "wrong").hello(), 500)).toBe(false)
    expect(await settlesWithin(as(pdev, "mallory").hello(), 500)).toBe(false)
    expect(await as(pdev, "alice").hello()).toMatchObject({ protocol: "omq-queue" })
  })

  it("anonymous clients get the anonymous entry's namespace and rights, or UNAUTHENTICATED without one", async () => {
    const dir = tempDir()
    const file = join(dir, "acl.json")
    writeFileSync(
      file,
      JSON.stringify({ users: ACL.users.slice(0, 1), anonymous: { namespace: "public", allow: [{ queues: "inbox", rights: ["put"] }] } }),
    )
    const dev = new QueueDevice({ dir: join(dir, "data"), access: file })
    onCleanup(() => dev.close())
    await dev.bind("tcp://127.0.0.1:*")
    const anon = client(dev)
    await anon.put("inbox", "hello")
    await expect(anon.reserve("inbox", { timeout: 0 })).rejects.toMatchObject({ code: "FORBIDDEN" })
    await expect(anon.put("other", "x")).rejects.toMatchObject({ code: "FORBIDDEN" })

    const strict = new QueueDevice({ dir: tempDir(), access: { users: ACL.users.slice(0, 1) } })
    onCleanup(() => strict.close())
    await strict.bind("tcp://127.0.0.1:*")
    // A NULL client connects (libzmq, too, asks ZAP about NULL only with a ZAP domain), but is nobody: only HELLO.
    const stranger = client(strict)
    expect(await stranger.hello()).toMatchObject({ protocol: "omq-queue" })
    await expect(stranger.put("orders", "x")).rejects.toMatchObject({ code: "UNAUTHENTICATED" })
    await expect(stranger.stats()).rejects.toMatchObject({ code: "UNAUTHENTICATED" })
  })

  it("a bad access list is refused with a message naming the problem", () => {
    const bad = (acl: unknown) => () => new QueueDevice({ dir: tempDir(), access: acl as AccessList })
    expect(bad({})).toThrow(/users array/)
    expect(bad({ users: [{ name: "a", allow: [] }] })).toThrow(/password .* or a curveKey/)
    expect(bad({ users: [{ name: "a", password: "p", allow: [{ queues: "*", rights: ["fly"] }] }] })).toThrow(/rights/)
    expect(
      bad({
        users: [
          { name: "a", password: "p", allow: [] },
          { name: "a", password: "q", allow: [] },
        ],
      }),
    ).toThrow(/twice/)
    expect(bad({ users: [{ name: "a", curveKey: "short", allow: [] }] })).toThrow(/curveKey/)
    expect(bad({ users: [{ name: "a", password: "p", namespace: "no#pe", allow: [] }] })).toThrow(/namespace/)
    const dir = tempDir()
    writeFileSync(join(dir, "acl.json"), "{ not json")
    expect(() => new QueueDevice({ dir, access: join(dir, "acl.json") })).toThrow(/not JSON/)
    expect(() => new QueueDevice({ dir, access: join(dir, "missing.json") })).toThrow(/cannot read/)
  })
})
