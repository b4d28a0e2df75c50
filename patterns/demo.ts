/**
 * `npm run demo`: runs the examples end to end on this machine (no external
 * service) and prints what happened. Exits non-zero if any example fails.
 */
import * as os from "node:os"
import * as path from "node:path"
import { forwarder } from "./examples/forwarder.js"
import { inprocPipeline } from "./examples/inproc.js"
import { interop } from "./examples/interop.js"
import { observer } from "./examples/observer.js"
import { proxyQueue } from "./examples/proxy.js"
import { pair } from "./examples/pair.js"
import { pushPull } from "./examples/push-pull.js"
import { broker, requestReply } from "./examples/request-reply.js"
import { durableQueue } from "./examples/durable-queue.js"
import { v5Compat } from "./examples/v5-compat.js"
import { websocket } from "./examples/websocket.js"
import { browserPage } from "./examples/browser.js"

const ipc = (name: string) => `ipc://${path.join(os.tmpdir(), `omq-demo-${process.pid}-${name}.sock`)}`

const examples: Array<[string, () => Promise<string>]> = [
  ["PUSH/PULL over tcp", () => pushPull("tcp://127.0.0.1:*")],
  ["PUSH/PULL over ipc", () => pushPull(ipc("pipeline"))],
  ["PAIR over tcp", () => pair("tcp://127.0.0.1:*")],
  ["PAIR over ipc", () => pair(ipc("pair"))],
  ["REQ/REP service", requestReply],
  ["REQ -> ROUTER/DEALER broker -> REP", broker],
  ["PUB -> XSUB/XPUB forwarder -> SUB", forwarder],
  ["inproc pipeline", inprocPipeline],
  ["ws:// (ZWS 2.0): ROUTER and PUB on one HTTP port", websocket],
  ["A web page (omq/browser) joins over ws://", browserPage],
  ["Observer through a peer restart", observer],
  ["Proxy as a ROUTER/DEALER queue", proxyQueue],
  ["omq <-> libzmq (zeromq package)", interop],
  ["Durable queue: retry, dead letter, delay, restart", durableQueue],
  ["zeromq 5.x code (omq/v5-compat): evented REQ/REP", () => v5Compat("tcp://127.0.0.1:*")],
]

let failed = 0
for (const [name, run] of examples) {
  const timeout = new Promise<never>((_, reject) => {
    setTimeout(() => reject(new Error("timed out after 10 s")), 10_000).unref()
  })
  try {
    const result = await Promise.race([run(), timeout])
    console.log(`ok   ${name}: ${result}`)
  } catch (err) {
    failed++
    console.log(`FAIL ${name}: ${(err as Error).message}`)
  }
}
console.log(failed === 0 ? `all ${examples.length} examples passed` : `${failed} of ${examples.length} examples failed`)
process.exit(failed === 0 ? 0 : 1)
