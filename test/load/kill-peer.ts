/**
 * Child process for kill.test.ts and soak.ts.
 *
 *   node --import tsx test/load/kill-peer.ts <endpoint> <omq|libzmq> <tag> [push|pull]
 *
 * push (default): connects a PUSH to the endpoint and streams numbered
 * three-part messages [tag, seq (uint32 LE), payload] until it is killed.
 * The payload is 1,000 bytes of (seq & 0xff) so the receiver can check that
 * every message is whole. It prints "sending" once its first message is queued.
 *
 * pull: connects a PULL and reads (and drops) everything; it prints
 * "receiving" at its first message.
 *
 * It exits by itself when its stdin closes (the parent went away) or after
 * 60 s, so a crashed test cannot leave it behind.
 */
const [endpoint, lib, tag, mode = "push"] = process.argv.slice(2)
if (!endpoint || (lib !== "omq" && lib !== "libzmq") || !tag || (mode !== "push" && mode !== "pull")) {
  console.error("usage: kill-peer.ts <endpoint> <omq|libzmq> <tag> [push|pull]")
  process.exit(2)
}

setTimeout(() => process.exit(3), 60_000)
process.stdin.on("end", () => process.exit(0))
process.stdin.on("error", () => process.exit(0))
process.stdin.resume()

interface PushLike {
  connect(address: string): void
  send(msg: Buffer[]): Promise<void>
}
interface PullLike {
  connect(address: string): void
  receive(): Promise<Buffer[]>
}

const mod = lib === "omq" ? await import("../../lib/index.js") : await import("zeromq")

if (mode === "pull") {
  const pull = new mod.Pull({ linger: 0 }) as unknown as PullLike
  pull.connect(endpoint)
  await pull.receive()
  console.log("receiving")
  for (;;) await pull.receive()
}

const push = new mod.Push({ linger: 0, sendHighWaterMark: 1000 }) as unknown as PushLike
push.connect(endpoint)

const tagBuf = Buffer.from(tag)
for (let seq = 0; ; seq++) {
  const seqBuf = Buffer.allocUnsafe(4)
  seqBuf.writeUInt32LE(seq >>> 0, 0)
  await push.send([tagBuf, seqBuf, Buffer.alloc(1000, seq & 0xff)])
  if (seq === 0) console.log("sending")
  // Yield to I/O now and then, like a real producer.
  if (seq % 256 === 255) await new Promise((r) => setImmediate(r))
}
