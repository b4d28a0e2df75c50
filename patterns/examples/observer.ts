/** Observer: watch a socket's connection life cycle (zeromq.js event names). */
import { Pull, Push, type Event } from "../../lib/index.js"

export async function observer(): Promise<string> {
  const pull = new Pull()
  await pull.bind("tcp://127.0.0.1:*")

  const push = new Push({ reconnectInterval: 20 })
  const seen: string[] = []
  const handshakes = new Promise<void>((resolve) => {
    let n = 0
    push.events.on("handshake", () => {
      if (++n === 2) resolve()
    })
    for (const type of ["connect", "disconnect", "connect:retry"] as const) {
      push.events.on(type, (e: Event) => seen.push(e.type))
    }
    push.events.on("handshake", (e: Event) => seen.push(e.type))
  })
  push.connect(pull.lastEndpoint!)

  // Restart the peer on the same endpoint: the push reconnects by itself.
  const endpoint = pull.lastEndpoint!
  await new Promise<void>((resolve) => push.events.on("handshake", () => resolve()))
  pull.close()
  const again = new Pull()
  await again.bind(endpoint)
  await handshakes

  push.close()
  again.close()
  return seen.join(" -> ")
}
