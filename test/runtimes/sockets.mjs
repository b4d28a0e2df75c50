/**
 * Sockets on this runtime, from the built package: PUSH/PULL, REQ/REP, DEALER/ROUTER and
 * PUB/SUB over tcp, ipc and inproc; a wildcard ipc bind; inproc between worker threads.
 */
import { Dealer, Publisher, Pull, Push, Reply, Request, Router, Subscriber } from "omq"
import * as path from "node:path"
import { Worker } from "node:worker_threads"
import { check, done, runtime, same, scratchDir, strings } from "./harness.mjs"

const dir = scratchDir()
let serial = 0

/** A fresh bind address for `transport`; tcp and ipc bind to a wildcard, read back as lastEndpoint. */
function address(transport) {
  serial++
  if (transport === "tcp") return "tcp://127.0.0.1:0"
  if (transport === "ipc") return `ipc://${path.join(dir, `s${serial}.sock`)}`
  return `inproc://runtimes-${runtime}-${serial}`
}

/** Binds `a` to a fresh address, connects `b` to it, runs `f`, closes both. */
async function pair(transport, a, b, f) {
  try {
    await a.bind(address(transport))
    b.connect(a.lastEndpoint)
    await f(a, b)
  } finally {
    a.close()
    b.close()
  }
}

for (const transport of ["tcp", "ipc", "inproc"]) {
  await check(`${transport}: PUSH/PULL delivers in order, multipart intact`, () =>
    pair(transport, new Pull(), new Push(), async (pull, push) => {
      await push.send("one")
      await push.send(["two", "parts"])
      await push.send(Buffer.alloc(100_000, 7))
      same(strings(await pull.receive()), ["one"])
      same(strings(await pull.receive()), ["two", "parts"])
      const [big] = await pull.receive()
      if (big.length !== 100_000 || big.some((b) => b !== 7)) throw new Error("100 kB frame damaged")
    }),
  )

  await check(`${transport}: REQ/REP answers each request`, () =>
    pair(transport, new Reply(), new Request(), async (rep, req) => {
      for (const q of ["ping", "again"]) {
        await req.send(q)
        const [got] = await rep.receive()
        await rep.send(`${got}: pong`)
        same(strings(await req.receive()), [`${q}: pong`])
      }
    }),
  )

  await check(`${transport}: DEALER/ROUTER routes by identity`, () =>
    pair(transport, new Router(), new Dealer({ routingId: "dealer-1" }), async (router, dealer) => {
      await dealer.send(["hello", "there"])
      const [id, ...rest] = await router.receive()
      same(strings([id]), ["dealer-1"], "routing id")
      same(strings(rest), ["hello", "there"])
      await router.send([id, "back"])
      same(strings(await dealer.receive()), ["back"])
    }),
  )

  await check(`${transport}: PUB/SUB filters by prefix`, () =>
    pair(transport, new Publisher(), new Subscriber(), async (pub, sub) => {
      sub.subscribe("news")
      // The subscription reaches the publisher some time after connect: publish until it has.
      let publishing = true
      const publish = (async () => {
        while (publishing) {
          await pub.send("sport: ignored")
          await pub.send("news: wanted")
          await new Promise((r) => setTimeout(r, 10))
        }
      })()
      try {
        for (let i = 0; i < 3; i++) same(strings(await sub.receive()), ["news: wanted"])
      } finally {
        publishing = false
        await publish
      }
    }),
  )
}

await check("ipc://*: binds a fresh socket file, reported by lastEndpoint", async () => {
  const pull = new Pull()
  const push = new Push()
  try {
    await pull.bind("ipc://*")
    if (!/^ipc:\/\/.+\.sock$/.test(pull.lastEndpoint)) throw new Error(`lastEndpoint ${pull.lastEndpoint}`)
    push.connect(pull.lastEndpoint)
    await push.send("wildcard")
    same(strings(await pull.receive()), ["wildcard"])
  } finally {
    push.close()
    pull.close()
  }
})

await check("inproc: a PUSH in a worker thread to a PULL in the main thread", async () => {
  const pull = new Pull()
  const endpoint = address("inproc")
  let worker
  try {
    await pull.bind(endpoint)
    worker = new Worker(new URL("./worker.mjs", import.meta.url), { workerData: { address: endpoint } })
    same(strings(await pull.receive()), ["from a worker", endpoint])
  } finally {
    worker?.postMessage("close")
    pull.close()
  }
})

done()
