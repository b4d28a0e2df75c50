import * as zmq from "zeromq"
import { describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"

describe("exports match zeromq.js v6", () => {
  it("every name zeromq exports is exported by omq", () => {
    const missing = Object.keys(zmq).filter((k) => k !== "default" && k !== "__esModule" && !(k in omq))
    expect(missing).toEqual([])
  })

  it("version is a libzmq-style x.y.z and capability lists what omq provides", () => {
    expect(omq.version).toMatch(/^4\.\d+\.\d+$/)
    expect(omq.capability).toMatchObject({ ipc: true, curve: true, pgm: false })
  })
})
