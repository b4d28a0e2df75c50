/**
 * One side of the PUSH->PULL throughput test, run in its own process so the
 * sender and receiver don't share an event loop (as with two real services).
 *
 *   --role recv: binds a PULL on --bind (default tcp://127.0.0.1:*; the runner passes an
 *                ipc:// path for the ipc scenario), emits {type:"ready", endpoint},
 *                counts messages until an empty end marker, emits {type:"result"}.
 *   --role send: connects a PUSH, sends --count messages of --size bytes (or
 *                fewer if --seconds runs out), then the end marker; emits {type:"sent"}.
 *   --role both: inproc:// only: both sockets in this process (inproc cannot
 *                cross processes), run concurrently; emits one {type:"result"} with `sent`.
 *   --curve 1:   (tcp) CURVE security: the PULL is the server with a key pair from the
 *                library's own curveKeyPair() and reports its public key as `serverKey`
 *                in "ready"; the PUSH makes its own key pair and gets --server-key.
 */
import { args, emit, hrUs, markProfileWindow, num, parentDone, runPeer } from "./child.js"
import { createSocket, curveKeyPair, isLibName, type BenchSocket, type LibName } from "./libs.js"

const a = args(["role", "lib", "size", "count", "seconds", "endpoint", "deadline", "curve", "server-key", "bind"])
const lib: LibName = isLibName(a.lib ?? "") ? (a.lib as LibName) : fail(`bad --lib ${a.lib}`)
const curve = a.curve === "1"

function fail(msg: string): never {
  throw new Error(msg)
}

interface Received {
  received: number
  bytes: number
  seconds: number
  msgsPerSec: number
  mbPerSec: number
  /** hrUs() at the first message and at the end marker, for the profile window. */
  firstUs: number
  endUs: number
}

async function receiveAll(sock: BenchSocket): Promise<Received> {
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
  // The first message only starts the clock, so n-1 messages took last-first.
  const secs = (last - first) / 1000
  return { received: n, bytes, seconds: secs, msgsPerSec: (n - 1) / secs, mbPerSec: (bytes * (n - 1)) / n / secs / 1e6, firstUs, endUs: hrUs() }
}

async function sendAll(sock: BenchSocket): Promise<{ sent: number; seconds: number; startUs: number }> {
  const size = num(a.size, "size")
  const count = num(a.count, "count")
  const budgetMs = num(a.seconds, "seconds") * 1000
  // The same buffer every time: we measure the library, not the allocator.
  const payload = Buffer.alloc(size, 0x61)
  const start = performance.now()
  const startUs = hrUs()
  let sent = 0
  while (sent < count) {
    await sock.send(payload)
    sent++
    // A time cap, checked every 1024 messages (64 for big messages), keeps a slow library from blowing the run's budget.
    if ((sent & (size > 4096 ? 63 : 1023)) === 0 && performance.now() - start > budgetMs) break
  }
  await sock.send(Buffer.alloc(0))
  return { sent, seconds: (performance.now() - start) / 1000, startUs }
}

async function receiver(): Promise<void> {
  let options: Record<string, unknown> = { linger: 0 }
  let serverKey: string | undefined
  if (curve) {
    const kp = await curveKeyPair(lib)
    serverKey = kp.publicKey
    options = { ...options, curveServer: true, curveSecretKey: kp.secretKey, curvePublicKey: kp.publicKey }
  }
  const sock = await createSocket(lib, "Pull", options)
  await sock.bind(a.bind ?? "tcp://127.0.0.1:*")
  emit({ type: "ready", endpoint: sock.lastEndpoint, serverKey })
  const r = await receiveAll(sock)
  markProfileWindow(r.firstUs, r.endUs)
  emit({ type: "result", ...r })
  sock.close()
}

async function sender(): Promise<void> {
  let options: Record<string, unknown> = { linger: 0 }
  if (curve) {
    const kp = await curveKeyPair(lib)
    options = {
      ...options,
      curveServerKey: a["server-key"] ?? fail("--curve needs --server-key"),
      curvePublicKey: kp.publicKey,
      curveSecretKey: kp.secretKey,
    }
  }
  const sock = await createSocket(lib, "Push", options)
  sock.connect(a.endpoint ?? "")
  const s = await sendAll(sock)
  markProfileWindow(s.startUs, hrUs())
  emit({ type: "sent", sent: s.sent, seconds: s.seconds })
  await parentDone()
  sock.close()
}

async function both(): Promise<void> {
  const pull = await createSocket(lib, "Pull", { linger: 0 })
  await pull.bind(`inproc://bench-pushpull-${process.pid}`)
  const push = await createSocket(lib, "Push", { linger: 0 })
  push.connect(`inproc://bench-pushpull-${process.pid}`)
  const [r, s] = await Promise.all([receiveAll(pull), sendAll(push)])
  markProfileWindow(s.startUs, r.endUs)
  emit({ type: "result", ...r, sent: s.sent })
  push.close()
  pull.close()
}

const roles: Record<string, () => Promise<void>> = { recv: receiver, send: sender, both }
runPeer(`${lib} ${a.role}`, num(a.deadline, "deadline"), roles[a.role ?? ""] ?? (() => Promise.reject(new Error(`bad --role ${a.role}`))))
