/**
 * A program that closes its sockets ends by itself on this runtime: nothing omq opened keeps
 * the event loop alive (await check("tcp: CURVE PUSH/PULL, then both closed", async () => {
  const server = curveKeyPair()
  const client = curveKeyPair()
  const pull = new Pull({ curveServer: true, curveSecretKey: server.secretKey })
  const push = new Push({ curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey })
  try {
    await pull.bind("tcp://127.0.0.1:0")
    push.connect(pull.lastEndpoint)
    await push.send("bye")
    same(strings(await pull.receive()), ["bye"])
  } finally {
    push.close()
    pull.close()
  }
})

await check("queue: a device and a client, then both closed", async () => {
  const device = new QueueDevice({ dir: path.join(dir, "queue") })
  await device.bind("tcp://127.0.0.1:0")
  const client = new QueueClient(device.lastEndpoint)
  try {
    await client.put("q", "bye")
  } finally {
    await client.close()
    await device.close()
  }
})

done({ wait: true }) does not exit the process). runtimes.test.ts gives
 * it a few seconds.
 */
import { curveKeyPair, Pull, Push } from "omq"
import { QueueClient, QueueDevice } from "omq/queue"
import * as path from "node:path"
import { check, done, runtime, same, scratchDir, strings } from "./harness.mjs"

const dir = scratchDir()
const addresses = { tcp: "tcp://127.0.0.1:0", ipc: `ipc://${path.join(dir, "exit.sock")}`, inproc: `inproc://exit-${runtime}` }

for (const [transport, address] of Object.entries(addresses)) {
  await check(`${transport}: PUSH/PULL, then both closed`, async () => {
    const pull = new Pull()
    const push = new Push()
    try {
      await pull.bind(address)
      push.connect(pull.lastEndpoint)
      await push.send("bye")
      same(strings(await pull.receive()), ["bye"])
    } finally {
      push.close()
      pull.close()
    }
  })
}

await check("tcp: CURVE PUSH/PULL, then both closed", async () => {
  const server = curveKeyPair()
  const client = curveKeyPair()
  const pull = new Pull({ curveServer: true, curveSecretKey: server.secretKey })
  const push = new Push({ curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey })
  try {
    await pull.bind("tcp://127.0.0.1:0")
    push.connect(pull.lastEndpoint)
    await push.send("bye")
    same(strings(await pull.receive()), ["bye"])
  } finally {
    push.close()
    pull.close()
  }
})

await check("queue: a device and a client, then both closed", async () => {
  const device = new QueueDevice({ dir: path.join(dir, "queue") })
  await device.bind("tcp://127.0.0.1:0")
  const client = new QueueClient(device.lastEndpoint)
  try {
    await client.put("q", "bye")
  } finally {
    await client.close()
    await device.close()
  }
})

done({ wait: true })
