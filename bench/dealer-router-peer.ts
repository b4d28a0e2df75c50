/**
 * DEALER->ROUTER echo throughput over tcp, client and server in separate processes.
 *
 *   --role server: binds a ROUTER on tcp://127.0.0.1:*, emits {type:"ready", endpoint},
 *                  sends every message ([routing id, body]) straight back; an empty body
 *                  is echoed, and the --clients-th one (default 1) ends the loop.
 *   --role client: connects --dealers DEALERs (default 1), each keeping --window requests
 *                  in flight: it sends a window's worth, then for each reply received sends
 *                  one more, until --count requests in all (or --seconds), then collects
 *                  its last replies and sends an empty end marker. The first --warmup
 *                  replies (all dealers together) only warm up; emits {type:"result"}
 *                  with the completed round trips of all dealers per second.
 */
import { args, emit, hrUs, markProfileWindow, num, parentDone, runPeer } from "./child.js"
import { createSocket, isLibName, type BenchSocket, type LibName } from "./libs.js"

const a = args(["role", "lib", "size", "count", "window", "warmup", "seconds", "endpoint", "deadline", "hwm", "clients", "dealers"])
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
  const clients = a.clients === undefined ? 1 : num(a.clients, "clients")
  let n = 0
  let ended = 0
  let startUs = 0
  for (;;) {
    const msg = await sock.receive()
    if (n++ === 0) startUs = hrUs()
    await sock.send(msg)
    if (msg[1]?.length === 0 && ++ended === clients) break
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
  const dealers = a.dealers === undefined ? 1 : num(a.dealers, "dealers")
  const budgetMs = num(a.seconds, "seconds") * 1000
  const socks = []
  for (let i = 0; i < dealers; i++) {
    const sock = await createSocket(lib, "Dealer", { linger: 0, ...hwm })
    sock.connect(a.endpoint ?? "")
    socks.push(sock)
  }
  const payload = Buffer.alloc(size, 0x61)
  const start = performance.now()
  // Shared by all dealers (one event loop): `count`, the warm-up and the time cap are totals.
  let sent = 0
  let received = 0
  let warm = start
  let warmUs = hrUs()
  let stop = false
  const loop = async (sock: BenchSocket): Promise<void> => {
    let inFlight = 0
    for (; inFlight < window && sent < count; inFlight++, sent++) await sock.send(payload)
    while (inFlight > 0) {
      await sock.receive()
      inFlight--
      if (++received === warmup) {
        warm = performance.now()
        warmUs = hrUs()
      }
      // Checked every 1024 replies: stop sending when the time is up, then drain the window.
      if ((received & 1023) === 0 && performance.now() - start > budgetMs) stop = true
      if (!stop && sent < count) {
        await sock.send(payload)
        sent++
        inFlight++
      }
    }
  }
  await Promise.all(socks.map(loop))
  const end = performance.now()
  markProfileWindow(warmUs, hrUs())
  for (const sock of socks) {
    await sock.send(Buffer.alloc(0))
    await sock.receive()
  }
  const timed = received > warmup ? received - warmup : received
  const seconds = (end - (received > warmup ? warm : start)) / 1000
  emit({ type: "result", received, timed, seconds, rtPerSec: timed / seconds })
  await parentDone()
  for (const sock of socks) sock.close()
}

runPeer(`${lib} ${a.role}`, num(a.deadline, "deadline"), a.role === "server" ? server : client)
