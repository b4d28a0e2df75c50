/**
 * Message-content interop tests shared by PUSH/PULL and PAIR: one sender,
 * one receiver, one of them omq and the other libzmq.
 */
import { it } from "vitest"
import { assertSameMessage, randomFrame, transferNumbered, type Receiver, type Sender } from "./peer-util.js"

export type Setup = () => Promise<{ sender: Sender; receiver: Receiver }>

const MiB = 1024 * 1024

function asBuffers(msg: (string | Buffer)[]): Buffer[] {
  return msg.map((f) => (typeof f === "string" ? Buffer.from(f) : f))
}

/** Sends each message and checks the receiver gets it unchanged, in order. */
async function roundTrip(sender: Sender, receiver: Receiver, messages: (string | Buffer)[][]): Promise<void> {
  for (const [i, msg] of messages.entries()) {
    // Single-frame messages go out as a bare string/Buffer, the others as arrays.
    await sender.send(msg.length === 1 ? msg[0] : msg)
    const got = await receiver.receive()
    try {
      assertSameMessage(got, asBuffers(msg))
    } catch (err) {
      throw new Error(`message #${i} (${msg.length} frames): ${(err as Error).message}`, { cause: err })
    }
  }
}

/** Defines the content tests for one direction/transport/binder combination; `name` says which. */
export function defineContentTests(name: string, setup: Setup): void {
  it(`${name}: single-part messages`, async () => {
    const { sender, receiver } = await setup()
    await roundTrip(sender, receiver, [["hello"], [Buffer.from([0x00, 0xff, 0x00, 0x7f, 0x80])], [""], ["x".repeat(255)]])
  })

  it(`${name}: multipart messages with empty frames`, async () => {
    const { sender, receiver } = await setup()
    await roundTrip(sender, receiver, [
      ["a", "b", "c"],
      ["", "x", ""],
      ["", ""],
      [Buffer.from([0]), "y", Buffer.alloc(0), "z"],
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? "" : `part-${i}`)),
    ])
  })

  it(`${name}: 255/256/300-byte frames and a 1 MiB frame, byte for byte`, async () => {
    const { sender, receiver } = await setup()
    const f255 = randomFrame(255)
    const f256 = randomFrame(256)
    const f300 = randomFrame(300)
    const f1m = randomFrame(MiB)
    await roundTrip(sender, receiver, [
      [f255],
      [f256],
      [f300],
      [f1m],
      // Long frames with the MORE flag, next to short and empty ones.
      [f300, "", randomFrame(MiB), "tail", f255],
    ])
  })

  it(`${name}: 10,000 numbered messages arrive complete and in order`, async () => {
    const { sender, receiver } = await setup()
    await transferNumbered(sender, receiver, 10_000, { prefix: "m" })
  })
}
