/**
 * DEALER->ROUTER echo throughput over tcp, client and server in separate processes.
 *
 *   --role server: binds a ROUTER on tcp://127.0.0.1:*, emits {type:"ready", endpoint},
 *                  sends every message ([routing id, body]) straight back; an empty body
 *                  is echoed and ends the loop.
 *   --role client: connects a DEALER and keeps --window requests in flight: it sends a
 *                  window's worth, then for each reply received sends one more, until
 *                  --count requests (or --seconds), then collects the last replies.
 *                  The first --warmup replies only warm up; emits {type:"result"}.
 */
import { args, emit, hrUs, markProfileWindow, num, parentDone, runPeer } from "./child.js"
import { createSocket, isLibName, type LibName } from "./libs.js"

const a = args(["role", "lib", "size", "count", "window", "warmup", "seconds", "endpoint", "deadline", "hwm"])
const lib: LibName = isLibName(a.lib ?? "") ? (a.lib as LibName) : fail(`bad --lib ${a.lib}`)
// Well above the window, so the ROUTER (which drops at HWM) never drops a reply.
const hwm = { sendHighWaterMark: num(a.hwm, "hwm"), receiveHighWaterMark: num(a.hwm, "hwm") }

function fail(msg: string): never {
  throw new Error(msg)
}

async function server(): Promise<void> {
  const sock = await createSocket(lib, "Router", { linger: 0, ...hwm })
  await sock.bind("tcp://127.0.0.1:*")
  emit({ type: "ready", endpoint: sock.lastEndpoint })
  let n = 0
  let startUs = 0
  for (;;) {
    const msg = await sock.receive()
    if (n++ === 0) startUs = hrUs()
    await sock.send(msg)
    if (msg[1]?.length === 0) break
  }
  markProfileWindow(startUs, hrUs())
  emit({ type: "served", requests: n })
  await parentDone()
  sock.close()
}

async function client(): Promise<void> {
  const size = num(a.size, "size")
  const count = num(a.count, "count")
  const window = num(a.window, "window")
  const warmup = num(a.warmup, "warmup")
  const budgetMs = num(a.seconds, "seconds") * 1000
  const sock = await createSocket(lib, "Dealer", { linger: 0, ...hwm })
  sock.connect(a.endpoint ?? "")
  const payload = Buffer.alloc(size, 0x61)
  const start = performance.now()
  let sent = 0
  let received = 0
  let warm = start
  let warmUs = hrUs()
  let stop = false
  for (; sent < window; sent++) await sock.send(payload)
  while (received < sent) {
    await sock.receive()
    if (++received === warmup) {
      warm = performance.now()
      warmUs = hrUs()
    }
    if (!stop && sent < count) {
      await sock.send(payload)
      sent++
      // Checked every 1024 replies: stop sending when the time is up, then drain the window.
      if ((received & 1023) === 0 && performance.now() - start > budgetMs) stop = true
    }
  }
  const end = performance.now()
  markProfileWindow(warmUs, hrUs())
  await sock.send(Buffer.alloc(0))
  await sock.receive()
  const timed = received > warmup ? received - warmup : received
  const seconds = (end - (received > warmup ? warm : start)) / 1000
  emit({ type: "result", received, timed, seconds, rtPerSec: timed / seconds })
  await parentDone()
  sock.close()
}

runPeer(`${lib} ${a.role}`, num(a.deadline, "deadline"), a.role === "server" ? server : client)
