/**
 * omq and libzmq on one wire: the `zeromq` package (zeromq.js over a real
 * libzmq) is the peer. It is a dev dependency, used here to show that omq
 * speaks ZMTP like libzmq does.
 */
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"

export async function interop(): Promise<string> {
  // libzmq PULL bound, omq PUSH connects.
  const zpull = new zmq.Pull()
  await zpull.bind("tcp://127.0.0.1:*")
  const opush = new omq.Push()
  opush.connect(zpull.lastEndpoint!)
  await opush.send(["from omq", Buffer.alloc(300, 7)])
  const [a, big] = await zpull.receive()

  // omq PAIR bound, libzmq PAIR connects; a round trip.
  const opair = new omq.Pair()
  await opair.bind("tcp://127.0.0.1:*")
  const zpair = new zmq.Pair()
  zpair.connect(opair.lastEndpoint!)
  await zpair.send("hello from libzmq")
  const [hello] = await opair.receive()
  await opair.send("hello from omq")
  const [back] = await zpair.receive()

  for (const s of [zpull, opush, opair, zpair]) s.close()
  return `libzmq received "${a}" + ${big!.length} bytes; omq received "${hello}"; libzmq received "${back}"`
}
