/**
 * zeromq 5.x code on omq (omq/v5-compat): an evented REP echo server and a REQ client that
 * queues three requests at once (each goes out when the previous reply is in), with a
 * multipart message built with ZMQ_SNDMORE and an option set the 5.x way.
 */
import * as zmq from "../../lib/entry/v5-compat.js"

export function v5Compat(endpoint: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rep = zmq.socket("rep")
    rep.on("message", (...frames: Buffer[]) => rep.send(`echo: ${frames.join(" ")}`))
    rep.bindSync(endpoint)

    const req = zmq.socket("req")
    req.setsockopt(zmq.ZMQ_LINGER, 0)
    req.on("error", reject)
    req.connect(rep.last_endpoint)
    const replies: string[] = []
    req.on("message", (reply: Buffer) => {
      replies.push(reply.toString())
      if (replies.length === 3) {
        req.close()
        rep.close()
        resolve(`${replies.length} replies over ${rep.last_endpoint}: ${replies.join(", ")}`)
      }
    })
    req.send("one")
    req.send("two")
    req.send("three", zmq.ZMQ_SNDMORE)
    req.send("parts", 0, (err) => err && reject(err))
  })
}
