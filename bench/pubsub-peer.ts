/**
 * PUB -> N SUB fan-out over tcp: one publisher process, one process per subscriber.
 *
 *   --role pub: binds a PUB on tcp://127.0.0.1:*, emits {type:"ready", endpoint}, then sends
 *               a 2-byte probe "A?" every 10 ms until the parent sends "go" (every SUB has
 *               seen a probe, so its subscription has reached the PUB). Then it publishes
 *               --count messages of --size bytes (or fewer if --seconds runs out), alternately
 *               starting with "A" and "B", emits {type:"sent"}, and sends a 2-byte end marker
 *               "A!" every 10 ms until the parent closes its stdin.
 *   --role sub: connects a SUB, subscribes to --topic ("" = everything, "A" = half),
 *               emits {type:"ready"}, {type:"synced"} at the first probe, and
 *               {type:"result"} at the first end marker.
 *
 * The PUB drops messages for a subscriber whose queue is full (send HWM), so both HWMs
 * are set above the message count: nothing can be dropped, and the subscribers report
 * what they got so the parent can check it.
 */
import { args, emit, hrUs, markProfileWindow, num, parentCommand, parentDone, runPeer, sleep } from "./child.js"
import { createSocket, isLibName, type LibName } from "./libs.js"

const a = args(["role", "lib", "size", "count", "seconds", "endpoint", "deadline", "topic", "hwm"])
const lib: LibName = isLibName(a.lib ?? "") ? (a.lib as LibName) : fail(`bad --lib ${a.lib}`)
const PROBE = Buffer.from("A?")
const END = Buffer.from("A!")

function fail(msg: string): never {
  throw new Error(msg)
}

/** Wall-clock ms with sub-ms resolution, comparable across processes. */
const wallMs = () => performance.timeOrigin + performance.now()

async function publisher(): Promise<void> {
  const size = num(a.size, "size")
  const count = num(a.count, "count")
  const budgetMs = num(a.seconds, "seconds") * 1000
  const sock = await createSocket(lib, "Publisher", { linger: 0, sendHighWaterMark: num(a.hwm, "hwm") })
  await sock.bind("tcp://127.0.0.1:*")
  emit({ type: "ready", endpoint: sock.lastEndpoint })
  let go = false
  const started = parentCommand().then((cmd) => {
    if (cmd !== "go") throw new Error(`unexpected command ${cmd}`)
    go = true
  })
  while (!go) {
    await sock.send(PROBE)
    await Promise.race([sleep(10), started])
  }
  await started
  const payloadA = Buffer.alloc(size, 0x61)
  payloadA[0] = 0x41 // "A"
  const payloadB = Buffer.alloc(size, 0x62)
  payloadB[0] = 0x42 // "B"
  const start = performance.now()
  const startUs = hrUs()
  let sent = 0
  while (sent < count) {
    await sock.send((sent & 1) === 0 ? payloadA : payloadB)
    sent++
    if ((sent & 1023) === 0 && performance.now() - start > budgetMs) break
  }
  const seconds = (performance.now() - start) / 1000
  emit({ type: "sent", sent, sentA: Math.ceil(sent / 2), seconds, startWallMs: wallMs() - seconds * 1000 })
  // Repeated in case a subscriber joins late or a marker is dropped; the subscribers stop at the first one.
  let done = false
  const finished = parentDone().then(() => {
    done = true
  })
  let endUs = 0
  while (!done) {
    await sock.send(END)
    await Promise.race([sleep(10), finished])
    if (endUs === 0) endUs = hrUs() // the profile window covers publishing plus the first 10 ms of draining
  }
  markProfileWindow(startUs, endUs)
  sock.close()
}

async function subscriber(): Promise<void> {
  const size = num(a.size, "size")
  const sock = await createSocket(lib, "Subscriber", { linger: 0, receiveHighWaterMark: num(a.hwm, "hwm") })
  sock.connect(a.endpoint ?? "")
  sock.subscribe!(a.topic ?? "")
  emit({ type: "ready" })
  let synced = false
  let n = 0
  let wrong = 0
  let first = 0
  let firstWall = 0
  let firstUs = 0
  for (;;) {
    const [msg] = await sock.receive()
    if (msg!.length !== size) {
      if (msg![1] === 0x21) break // "A!": end
      if (!synced) emit({ type: "synced" }) // "A?": probe
      synced = true
      continue
    }
    // As in pushpull: only the first message reads the clock.
    if (n++ === 0) {
      first = performance.now()
      firstWall = wallMs()
      firstUs = hrUs()
    }
    if (a.topic !== "" && msg![0] !== 0x41) wrong++
  }
  const seconds = (performance.now() - first) / 1000
  markProfileWindow(firstUs, hrUs())
  emit({ type: "result", received: n, wrong, seconds, msgsPerSec: (n - 1) / seconds, firstWallMs: firstWall, endWallMs: wallMs() })
  await parentDone()
  sock.close()
}

runPeer(`${lib} ${a.role}`, num(a.deadline, "deadline"), a.role === "pub" ? publisher : subscriber)
