/** PAIR: two sockets talking both ways over one connection. */
import { Pair } from "../../lib/index.js"

export async function pair(endpoint: string): Promise<string> {
  const left = new Pair()
  const right = new Pair()
  await left.bind(endpoint)
  right.connect(left.lastEndpoint!)

  await right.send("ping")
  const [ping] = await left.receive()
  await left.send(["pong", ping!])
  const reply = await right.receive()

  left.close()
  right.close()
  return `right sent "ping", left answered ${JSON.stringify(reply.map(String))}`
}
