/**
 * PAIR interop between omq and libzmq 4.3.5 (through zeromq.js 6), both
 * ways, over tcp and ipc, with each side binding in turn.
 */
import { describe, it } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import { defineContentTests } from "./content-tests.js"
import {
  BOUNDED,
  SIDES,
  TRANSPORTS,
  all,
  bindRetry,
  probeUntilDelivered,
  socketTracker,
  transferNumbered,
  type Sender,
  type Receiver,
  type Side,
} from "./peer-util.js"

type AnyPair = Sender & Receiver

const t = socketTracker()

function pair(side: Side): AnyPair {
  const opts = { ...BOUNDED, reconnectInterval: 20 }
  return t.track(side === "omq" ? new omq.Pair(opts) : new zmq.Pair(opts)) as unknown as AnyPair
}

const other = (side: Side): Side => (side === "omq" ? "libzmq" : "omq")

/** An omq PAIR and a libzmq PAIR, one bound and the other connected to it. */
async function connectedPairs(transport: "tcp" | "ipc", binder: Side): Promise<Record<Side, AnyPair>> {
  const socks = { omq: pair("omq"), libzmq: pair("libzmq") }
  await socks[binder].bind(t.endpoint(transport))
  socks[other(binder)].connect(socks[binder].lastEndpoint!)
  return socks
}

for (const transport of TRANSPORTS) {
  describe(`PAIR interop over ${transport}`, () => {
    for (const binder of SIDES) {
      // ---- contents, sizes, volume: each direction ----
      for (const senderSide of SIDES) {
        const name = `${senderSide} PAIR → ${other(senderSide)} PAIR [${transport}, ${binder} binds]`
        defineContentTests(name, async () => {
          const socks = await connectedPairs(transport, binder)
          return { sender: socks[senderSide], receiver: socks[other(senderSide)] }
        })
      }

      it(`omq PAIR ⇄ libzmq PAIR [${transport}, ${binder} binds]: 10,000 messages each way at the same time`, async () => {
        const socks = await connectedPairs(transport, binder)
        await all([
          transferNumbered(socks.omq, socks.libzmq, 10_000, { prefix: "o" }),
          transferNumbered(socks.libzmq, socks.omq, 10_000, { prefix: "z" }),
        ])
      })
    }

    // ---- reconnection: omq connects, the libzmq PAIR is closed and re-bound ----
    for (const probeFrom of SIDES) {
      it(`omq PAIR ⇄ libzmq PAIR [${transport}, libzmq binds]: omq reconnects after libzmq PAIR is closed and re-bound on the same endpoint (first message after restart: ${probeFrom} → ${other(probeFrom)})`, async () => {
        let zpair = pair("libzmq")
        await zpair.bind(t.endpoint(transport))
        const endpoint = zpair.lastEndpoint!
        const opair = pair("omq")
        opair.connect(endpoint)
        await transferNumbered(opair, zpair, 100, { prefix: "before-o" })
        await transferNumbered(zpair, opair, 100, { prefix: "before-z" })

        zpair.close()
        zpair = pair("libzmq")
        await bindRetry(zpair, endpoint)

        if (probeFrom === "omq") await probeUntilDelivered(opair, zpair, "probe-")
        else await probeUntilDelivered(zpair, opair, "probe-")
        await all([
          transferNumbered(opair, zpair, 1000, { prefix: "after-o", skipPrefix: "probe-" }),
          transferNumbered(zpair, opair, 1000, { prefix: "after-z", skipPrefix: "probe-" }),
        ])
      })
    }
  })
}
