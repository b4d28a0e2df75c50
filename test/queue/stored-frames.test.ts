/** How the durable devices store a ZeroMQ message (stored-frames.ts): single frames as they are, multipart as CBOR. */
import { describe, expect, it } from "vitest"
import { encodeCbor } from "../../lib/devices/queue/cbor.js"
import { storedFrames, storedMessage } from "../../lib/devices/queue/stored-frames.js"

describe("stored frames", () => {
  it("a single frame is the body itself (a copy on request), headers the empty CBOR map", () => {
    const frame = Buffer.from("hello")
    const kept = storedMessage([frame], false)
    expect(kept.body).toBe(frame)
    expect(kept.headers).toEqual(Buffer.from([0xa0]))
    const copied = storedMessage([frame], true)
    expect(copied.body).not.toBe(frame)
    expect(copied.body).toEqual(frame)
    expect(storedFrames(kept.headers, kept.body)).toEqual([frame])
  })

  it("multipart messages, empty frames and binary bytes round-trip", () => {
    for (const frames of [[Buffer.alloc(0)], [Buffer.from("a"), Buffer.alloc(0), Buffer.from([0, 0xa0, 0xff])], [Buffer.from([0xa0])]]) {
      const m = storedMessage(frames, false)
      expect(storedFrames(m.headers, m.body)).toEqual(frames)
    }
  })

  it("reads what the first durable streamer stored: every message a CBOR array, empty headers", () => {
    const legacy = encodeCbor([Buffer.from("job"), Buffer.from("1")])
    expect(storedFrames(Buffer.alloc(0), legacy).map(String)).toEqual(["job", "1"])
    expect(storedFrames(Buffer.alloc(0), encodeCbor([Buffer.from("x")])).map(String)).toEqual(["x"])
  })
})
