/**
 * One of the package's builds on this runtime — `esm` (import) or `cjs` (require), the first
 * argument — doing what each debug namespace logs: a bind and a handshake (omq:socket,
 * omq:engine), a refused connect (omq:transport), a queue device opening its store (omq:queue).
 * runtimes.test.ts runs it with DEBUG=omq:* and reads stderr for the four namespaces; on Deno
 * without --allow-env the loggers are silent (lib/debug.ts).
 */
import { createRequire } from "node:module"
import * as net from "node:net"
import { check, done, same, scratchDir, sleep, strings } from "./harness.mjs"

const build = process.argv[2] === "cjs" ? "cjs" : "esm"
const checks = ["PUSH/PULL over tcp", "a connect to a closed port is retried", "a queue device opens its store"]

const load = build === "cjs" ? (name) => createRequire(import.meta.url)(name) : (name) => import(name)
const { Pull, Push } = await load("omq")

await check(`${build}: ${checks[0]}`, async () => {
  const pull = new Pull()
  const push = new Push()
  try {
    await pull.bind("tcp://127.0.0.1:0")
    push.connect(pull.lastEndpoint)
    await push.send(`from ${build}`)
    same(strings(await pull.receive()), [`from ${build}`])
  } finally {
    push.close()
    pull.close()
  }
})

await check(`${build}: ${checks[1]}`, async () => {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = server.address().port
  await new Promise((resolve) => server.close(resolve))
  const push = new Push({ reconnectInterval: 20 })
  try {
    push.connect(`tcp://127.0.0.1:${port}`)
    await sleep(100)
  } finally {
    push.close()
  }
})

await check(`${build}: ${checks[2]}`, async () => {
  const { QueueDevice } = await load("omq/queue")
  const device = new QueueDevice({ dir: scratchDir() })
  await device.bind("tcp://127.0.0.1:0")
  await device.close()
})

done()
