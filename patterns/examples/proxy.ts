/** Proxy: a shared ROUTER/DEALER queue between clients and workers. */
import { Dealer, Proxy, Reply, Request, Router } from "../../lib/index.js"

export async function proxyQueue(): Promise<string> {
  const proxy = new Proxy(new Router(), new Dealer())
  await proxy.frontEnd.bind("inproc://clients")
  await proxy.backEnd.bind("inproc://workers")
  const running = proxy.run()

  const workers = [1, 2].map((n) => {
    const w = new Reply()
    w.connect("inproc://workers")
    void (async () => {
      for await (const [req] of w) await w.send(`worker ${n} did ${req}`)
    })()
    return w
  })

  const client = new Request()
  client.connect("inproc://clients")
  const answers: string[] = []
  for (const job of ["job A", "job B"]) {
    await client.send(job)
    const [answer] = await client.receive()
    answers.push(answer!.toString())
  }

  proxy.terminate()
  await running // closes the proxy's sockets
  client.close()
  for (const w of workers) w.close()
  return answers.join("; ")
}
