/**
 * A small request-reply service: a REP server that upper-cases words, and a
 * REQ client; then the same service behind a ROUTER/DEALER broker so that
 * two clients share it (the envelope carries each reply back to its client).
 */
import { Dealer, Reply, Request, Router } from "../../lib/index.js"

async function serve(rep: Reply, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const [word] = await rep.receive()
    await rep.send(word!.toString().toUpperCase())
  }
}

export async function requestReply(): Promise<string> {
  const server = new Reply()
  await server.bind("tcp://127.0.0.1:*")
  const client = new Request()
  client.connect(server.lastEndpoint!)

  const serving = serve(server, 2)
  const answers: string[] = []
  for (const word of ["hello", "world"]) {
    await client.send(word)
    const [answer] = await client.receive()
    answers.push(answer!.toString())
  }
  await serving
  client.close()
  server.close()
  return `client got ${answers.join(" ")}`
}

export async function broker(): Promise<string> {
  const frontend = new Router()
  const backend = new Dealer()
  await frontend.bind("tcp://127.0.0.1:*")
  await backend.bind("tcp://127.0.0.1:*")

  const worker = new Reply()
  worker.connect(backend.lastEndpoint!)
  const clients = [new Request({ routingId: "c1" }), new Request({ routingId: "c2" })]
  for (const c of clients) c.connect(frontend.lastEndpoint!)

  // The broker relays whole messages, envelope included, both ways.
  const relay = async (from: Router | Dealer, to: Router | Dealer, count: number) => {
    for (let i = 0; i < count; i++) await to.send(await from.receive())
  }
  const relays = Promise.all([relay(frontend, backend, 2), relay(backend, frontend, 2), serve(worker, 2)])

  const replies = await Promise.all(
    clients.map(async (c, i) => {
      await c.send(`request from client ${i + 1}`)
      const [reply] = await c.receive()
      return reply!.toString()
    }),
  )
  await relays
  for (const s of [frontend, backend, worker, ...clients]) s.close()
  return `through a ROUTER/DEALER broker: ${replies.join(" | ")}`
}
