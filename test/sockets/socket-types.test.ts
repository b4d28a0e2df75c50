/**
 * The socket type table (lib/sockets/socket-types.ts) against the specs and libzmq: the
 * pairings of RFC 23/37 are symmetric, the numbers are libzmq's (read from zeromq.js's own
 * sockets), and each omq class reports the facts of its type.
 */
import * as zmq from "zeromq"
import { describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"
import {
  SOCKET_TYPES,
  isCompatible,
  socketTypeName,
  zmtp2SocketType,
  zmtp2SocketTypeName,
  type SocketTypeName,
} from "../../lib/sockets/socket-types.js"

const CLASSES: Array<[SocketTypeName, string]> = [
  ["PAIR", "Pair"],
  ["PUB", "Publisher"],
  ["SUB", "Subscriber"],
  ["REQ", "Request"],
  ["REP", "Reply"],
  ["DEALER", "Dealer"],
  ["ROUTER", "Router"],
  ["PULL", "Pull"],
  ["PUSH", "Push"],
  ["XPUB", "XPublisher"],
  ["XSUB", "XSubscriber"],
  ["STREAM", "Stream"],
]

describe("socket type facts", () => {
  it("every pairing is allowed from both sides (RFC 23 / RFC 37 'Socket Types')", () => {
    for (const t of Object.values(SOCKET_TYPES)) {
      for (const p of t.peers) expect(isCompatible(p, t.name), `${p} → ${t.name}`).toBe(true)
    }
    expect(isCompatible("PUSH", "PUSH")).toBe(false)
    expect(isCompatible("REQ", "REQ")).toBe(false)
    expect(isCompatible("NOPE", "PAIR")).toBe(false)
  })

  it("the numbers are libzmq's, as zeromq.js's sockets report them; each omq class has its type's number", () => {
    for (const [name, cls] of CLASSES) {
      const theirs = new (zmq as unknown as Record<string, new () => { type: number; close(): void }>)[cls]!()
      const ours = new (omq as unknown as Record<string, new () => { type: number; close(): void }>)[cls]!()
      try {
        expect(SOCKET_TYPES[name].number, name).toBe(theirs.type)
        expect(ours.type, name).toBe(theirs.type)
        expect(socketTypeName(theirs.type)).toBe(name)
      } finally {
        theirs.close()
        ours.close()
      }
    }
    expect(socketTypeName(12)).toBeUndefined()
    expect(socketTypeName(1.5)).toBeUndefined()
  })

  it("ZMTP 2.0 octets follow RFC 15; XPUB and XSUB go out as PUB and SUB; STREAM has none", () => {
    expect(zmtp2SocketType("PUSH")).toBe(8)
    expect(zmtp2SocketType("XPUB")).toBe(1)
    expect(zmtp2SocketType("XSUB")).toBe(2)
    expect(zmtp2SocketType("STREAM")).toBeUndefined()
    expect(zmtp2SocketTypeName(9)).toBe("XPUB")
    expect(zmtp2SocketTypeName(11)).toBeUndefined()
  })
})
