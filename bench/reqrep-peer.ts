/**
 * REQ/REP round-trip latency over tcp, client and server in separate processes.
 *
 *   --role server: binds a REP on --bind (default tcp://127.0.0.1:*), emits {type:"ready", endpoint},
 *                  echoes every request; an empty request is echoed and ends the loop.
 *   --role client: connects a REQ, makes --warmup untimed round trips, then up to --count
 *                  timed ones (fewer if --seconds runs out), one at a time (send, await the
 *                  reply, send the next), each timed on its own; emits {type:"result"} with
 *                  the round-trip time quantiles in µs.
 */
import { args, emit, hrUs, markProfileWindow, num, parentDone, runPeer } from "./child.js"
import { createSocket, isLibName, type LibName } from "./libs.js"
import { quantile } from "./stats.js"

const a = args(["role", "lib", "size", "count", "warmup", "seconds", "endpoint", "deadline", "bind"])
const lib: LibName = isLibName(a.lib ?? "") ? (a.lib as LibName) : fail(`bad --lib ${a.lib}`)

function fail(msg: string): never {
  throw new Error(msg)
}

async function server(): Promise<void> {
  const sock = await createSocket(lib, "Reply", { linger: 0 })
  await sock.bind(a.bind ?? "tcp://127.0.0.1:*")
  emit({ type: "ready", endpoint: sock.lastEndpoint })
  let n = 0
  let startUs = 0
  for (;;) {
    const msg = await sock.receive()
    if (n++ === 0) startUs = hrUs()
    await sock.send(msg)
    if (msg[0]!.length === 0) break
  }
  markProfileWindow(startUs, hrUs())
  emit({ type: "served", requests: n })
  await parentDone()
  sock.close()
}

async function client(): Promise<void> {
  const size = num(a.size, "size")
  const count = num(a.count, "count")
  const warmup = num(a.warmup, "warmup")
  const budgetMs = num(a.seconds, "seconds") * 1000
  const sock = await createSocket(lib, "Request", { linger: 0 })
  sock.connect(a.endpoint ?? "")
  const payload = Buffer.alloc(size, 0x61)
  for (let i = 0; i < warmup; i++) {
    await sock.send(payload)
    await sock.receive()
  }
  const rtt = new Float64Array(count)
  const startUs = hrUs()
  const start = performance.now()
  let n = 0
  while (n < count) {
    const t = performance.now()
    await sock.send(payload)
    const [reply] = await sock.receive()
    rtt[n++] = performance.now() - t
    if (reply?.length !== size) throw new Error(`reply of ${reply?.length} bytes, expected ${size}`)
    if ((n & 255) === 0 && performance.now() - start > budgetMs) break
  }
  const seconds = (performance.now() - start) / 1000
  markProfileWindow(startUs, hrUs())
  await sock.send(Buffer.alloc(0))
  await sock.receive()
  const xs = Array.from(rtt.subarray(0, n), (ms) => ms * 1000)
  emit({
    type: "result",
    requests: n,
    seconds,
    p50: quantile(xs, 0.5),
    p99: quantile(xs, 0.99),
    mean: xs.reduce((s, x) => s + x, 0) / n,
    rtPerSec: n / seconds,
  })
  await parentDone()
  sock.close()
}

runPeer(`${lib} ${a.role}`, num(a.deadline, "deadline"), a.role === "server" ? server : client)
