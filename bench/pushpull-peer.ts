/**
 * One side of the PUSH->PULL throughput test, run in its own process so the
 * sender and receiver don't share an event loop (as with two real services).
 *
 *   --role recv: binds a PULL on tcp://127.0.0.1:*, emits {type:"ready", endpoint},
 *                counts messages until an empty end marker, emits {type:"result"}.
 *   --role send: connects a PUSH, sends --count messages of --size bytes (or
 *                fewer if --seconds runs out), then the end marker; emits {type:"sent"}.
 */
import { args, emit, hrUs, markProfileWindow, num, parentDone, runPeer } from "./child.js"
import { createSocket, isLibName, type LibName } from "./libs.js"

const a = args(["role", "lib", "size", "count", "seconds", "endpoint", "deadline"])
const lib: LibName = isLibName(a.lib ?? "") ? (a.lib as LibName) : fail(`bad --lib ${a.lib}`)

function fail(msg: string): never {
  throw new Error(msg)
}

async function receiver(): Promise<void> {
  const sock = await createSocket(lib, "Pull", { linger: 0 })
  await sock.bind("tcp://127.0.0.1:*")
  emit({ type: "ready", endpoint: sock.lastEndpoint })
  let n = 0
  let bytes = 0
  let first = 0
  let firstUs = 0
  for (;;) {
    const [msg] = await sock.receive()
    if (msg === undefined || msg.length === 0) break
    // Only the first message is timed: a clock read per message costs ~8% of an omq receive.
    if (n++ === 0) {
      first = performance.now()
      firstUs = hrUs()
    }
    bytes += msg.length
  }
  // The end marker follows the last message on the same connection, so its arrival time stands for the last one's.
  const last = performance.now()
  markProfileWindow(firstUs, hrUs())
  // The first message only starts the clock, so n-1 messages took last-first.
  const secs = (last - first) / 1000
  emit({ type: "result", received: n, bytes, seconds: secs, msgsPerSec: (n - 1) / secs, mbPerSec: ((bytes * (n - 1)) / n / secs) / 1e6 })
  sock.close()
}

async function sender(): Promise<void> {
  const size = num(a.size, "size")
  const count = num(a.count, "count")
  const budgetMs = num(a.seconds, "seconds") * 1000
  const sock = await createSocket(lib, "Push", { linger: 0 })
  sock.connect(a.endpoint ?? "")
  // The same buffer every time: we measure the library, not the allocator.
  const payload = Buffer.alloc(size, 0x61)
  const start = performance.now()
  const startUs = hrUs()
  let sent = 0
  while (sent < count) {
    await sock.send(payload)
    sent++
    // A time cap, checked every 1024 messages, keeps a slow library from blowing the run's budget.
    if ((sent & 1023) === 0 && performance.now() - start > budgetMs) break
  }
  await sock.send(Buffer.alloc(0))
  markProfileWindow(startUs, hrUs())
  emit({ type: "sent", sent, seconds: (performance.now() - start) / 1000 })
  await parentDone()
  sock.close()
}

runPeer(`${lib} ${a.role}`, num(a.deadline, "deadline"), a.role === "recv" ? receiver : sender)
