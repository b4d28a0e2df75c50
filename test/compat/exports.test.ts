/**
 * omq/v5-compat's module surface: socket creation by name and by ZMQ_* number, the constants
 * with libzmq's values, Context, curveKeypair, version.
 */
import { describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"
import * as zmq from "../../lib/entry/v5-compat.js"
import { z85 } from "../../lib/entry/security.js"
import { publicKeyOf } from "../../lib/security/crypto.js"

describe("v5-compat: creating sockets", () => {
  it("socket() and createSocket() are the same function", () => {
    expect(zmq.socket).toBe(zmq.createSocket)
  })

  it("creates each 5.x type by name; type is the name given (xreq/xrep kept as aliases)", () => {
    const names: zmq.SocketType[] = [
      "pair",
      "pub",
      "sub",
      "req",
      "rep",
      "dealer",
      "xreq",
      "router",
      "xrep",
      "pull",
      "push",
      "xpub",
      "xsub",
      "stream",
    ]
    const numbers = [0, 1, 2, 3, 4, 5, 5, 6, 6, 7, 8, 9, 10, 11]
    names.forEach((name, i) => {
      const s = zmq.socket(name)
      try {
        expect(s).toBeInstanceOf(zmq.Socket)
        expect(s.type).toBe(name)
        expect(s.getsockopt(zmq.ZMQ_TYPE)).toBe(numbers[i])
      } finally {
        s.close()
      }
    })
  })

  it("creates a socket by ZMQ_* type number; its type is then the type's name", () => {
    const cases: Array<[number, string]> = [
      [zmq.ZMQ_PUSH, "push"],
      [zmq.ZMQ_PULL, "pull"],
      [zmq.ZMQ_XREP, "router"],
      [zmq.ZMQ_XREQ, "dealer"],
      [zmq.ZMQ_STREAM, "stream"],
    ]
    for (const [n, name] of cases) {
      const s = zmq.socket(n)
      expect(s.type).toBe(name)
      expect(s.getsockopt(zmq.ZMQ_TYPE)).toBe(n)
      s.close()
    }
  })

  it("new Socket(type) works like socket(type)", () => {
    const s = new zmq.Socket("dealer")
    expect(s.type).toBe("dealer")
    s.close()
  })

  it("an unknown type name or number throws EINVAL", () => {
    expect(() => zmq.socket("nope" as zmq.SocketType)).toThrow(expect.objectContaining({ code: "EINVAL" }))
    expect(() => zmq.socket(12)).toThrow(/Invalid socket type: 12/)
    expect(() => zmq.socket("toString" as zmq.SocketType)).toThrow(/Invalid socket type/)
  })

  it("createSocket(type, options) assigns the options as properties", () => {
    const s = zmq.socket("dealer", { identity: "worker-1", linger: 25, backlog: 30, custom: 7 })
    expect(s.getsockopt(zmq.ZMQ_IDENTITY)).toBe("worker-1")
    expect(s.getsockopt("linger")).toBe(25)
    expect(s.backlog).toBe(30)
    expect(s.custom).toBe(7)
    s.close()
  })

  it("close() closes at once and returns the socket; closed says so", () => {
    const s = zmq.socket("req")
    expect(s.closed).toBe(false)
    expect(s.close()).toBe(s)
    expect(s.closed).toBe(true)
    s.close() // twice is fine
  })

  it("read() is gone, as in zeromq.js's compatibility mode", () => {
    const s = zmq.socket("pull")
    expect(() => s.read()).toThrow(/on\('message'/)
    s.close()
  })
})

describe("v5-compat: constants", () => {
  it("socket types, options, poll bits, send flag and capabilities have libzmq's values", () => {
    expect([zmq.ZMQ_PAIR, zmq.ZMQ_PUB, zmq.ZMQ_SUB, zmq.ZMQ_REQ, zmq.ZMQ_REP, zmq.ZMQ_DEALER, zmq.ZMQ_ROUTER]).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect([zmq.ZMQ_PULL, zmq.ZMQ_PUSH, zmq.ZMQ_XPUB, zmq.ZMQ_XSUB, zmq.ZMQ_STREAM]).toEqual([7, 8, 9, 10, 11])
    expect([zmq.ZMQ_IDENTITY, zmq.ZMQ_SUBSCRIBE, zmq.ZMQ_LINGER, zmq.ZMQ_SNDHWM, zmq.ZMQ_RCVHWM]).toEqual([5, 6, 17, 23, 24])
    expect([zmq.ZMQ_LAST_ENDPOINT, zmq.ZMQ_ROUTER_MANDATORY, zmq.ZMQ_CURVE_SERVER, zmq.ZMQ_ZAP_DOMAIN]).toEqual([32, 33, 47, 55])
    expect([zmq.ZMQ_HEARTBEAT_IVL, zmq.ZMQ_CONNECT_TIMEOUT, zmq.ZMQ_ROUTER_HANDOVER]).toEqual([75, 79, 56])
    expect(zmq.ZMQ_RECOVERY_IVL_MSEC).toBe(zmq.ZMQ_RECOVERY_IVL)
    expect([zmq.ZMQ_POLLIN, zmq.ZMQ_POLLOUT, zmq.ZMQ_POLLERR, zmq.ZMQ_SNDMORE]).toEqual([1, 2, 4, 2])
    expect([zmq.ZMQ_IO_THREADS, zmq.ZMQ_MAX_SOCKETS]).toEqual([1, 2])
    expect([zmq.STATE_READY, zmq.STATE_BUSY, zmq.STATE_CLOSED]).toEqual([0, 1, 2])
    expect([zmq.ZMQ_CAN_MONITOR, zmq.ZMQ_CAN_DISCONNECT, zmq.ZMQ_CAN_UNBIND, zmq.ZMQ_CAN_SET_CTX]).toEqual([1, 1, 1, 1])
  })

  it("options maps the 5.x short names to option numbers", () => {
    expect(zmq.options.identity).toBe(zmq.ZMQ_IDENTITY)
    expect(zmq.options.last_endpoint).toBe(zmq.ZMQ_LAST_ENDPOINT)
    expect(zmq.options.curve_serverkey).toBe(zmq.ZMQ_CURVE_SERVERKEY)
    expect(zmq.options._subscribe).toBe(zmq.ZMQ_SUBSCRIBE)
  })
})

describe("v5-compat: Context, curveKeypair, version", () => {
  it("Context's static methods read and write the default context's ioThreads and maxSockets", () => {
    const threads = omq.context.ioThreads
    const sockets = zmq.Context.getMaxSockets()
    try {
      zmq.Context.setMaxThreads(3)
      expect(zmq.Context.getMaxThreads()).toBe(3)
      expect(omq.context.ioThreads).toBe(3)
      zmq.Context.setMaxSockets(256)
      expect(zmq.Context.getMaxSockets()).toBe(256)
      expect(omq.context.maxSockets).toBe(256)
    } finally {
      zmq.Context.setMaxThreads(threads)
      zmq.Context.setMaxSockets(sockets)
    }
  })

  it("Context cannot be instantiated", () => {
    expect(() => new zmq.Context()).toThrow(/cannot be instantiated/)
  })

  it("curveKeypair() returns a matching pair of 40-character Z85 keys", () => {
    const kp = zmq.curveKeypair()
    expect(kp.public).toHaveLength(40)
    expect(kp.secret).toHaveLength(40)
    expect(publicKeyOf(z85.decode(kp.secret)).equals(z85.decode(kp.public))).toBe(true)
    expect(kp.public).not.toBe(zmq.curveKeypair().public)
  })

  it("version is the libzmq version omq follows, a semver string", () => {
    expect(zmq.version).toBe(omq.version)
    expect(zmq.version).toMatch(/^\d+\.\d+\.\d+$/)
  })
})
