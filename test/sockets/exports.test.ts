import * as zmq from "zeromq"
import { describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"
import * as queue from "../../lib/entry/queue.js"
import * as devices from "../../lib/entry/devices.js"
import * as security from "../../lib/entry/security.js"
import * as errors from "../../lib/entry/errors.js"

const names = (mod: object): string[] =>
  Object.keys(mod)
    .filter((k) => k !== "default" && k !== "__esModule")
    .sort()

describe("exports match zeromq.js v6", () => {
  it("the package root exports exactly the names zeromq exports, no more", () => {
    expect(names(omq)).toEqual(names(zmq))
  })

  it("version is a libzmq-style x.y.z and capability lists what omq provides", () => {
    expect(omq.version).toMatch(/^4\.\d+\.\d+$/)
    expect(omq.capability).toMatchObject({ ipc: true, curve: true, pgm: false })
  })

  it("what omq adds lives in subpath exports", () => {
    expect(names(queue)).toEqual([
      "Delivery",
      "DurableForwarder",
      "DurableStreamer",
      "QueueClient",
      "QueueConsumer",
      "QueueDevice",
      "QueueError",
      "QueueStoreError",
      "Titanic",
    ])
    expect(names(devices)).toEqual([
      "MajordomoBroker",
      "MajordomoClient",
      "MajordomoWorker",
      "forwarderDevice",
      "queueDevice",
      "streamerDevice",
    ])
    expect(names(security)).toEqual(["curveKeyPair", "startZapHandler", "z85"])
    expect(names(errors)).toEqual(["ProtocolError", "ZmqError"])
    expect(security.curveKeyPair).toBe(omq.curveKeyPair)
  })
})
