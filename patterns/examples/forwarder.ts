/**
 * An XPUB/XSUB forwarder: publishers connect to its XSUB side, subscribers
 * to its XPUB side. Messages flow downstream, subscriptions upstream, so the
 * publisher still filters for the subscribers behind the forwarder.
 */
import { Publisher, Subscriber, XPublisher, XSubscriber } from "../../lib/index.js"

export async function forwarder(): Promise<string> {
  const frontend = new XSubscriber() // faces the publishers
  const backend = new XPublisher() // faces the subscribers
  await frontend.bind("tcp://127.0.0.1:*")
  await backend.bind("tcp://127.0.0.1:*")

  let running = true
  const pump = async (from: XSubscriber | XPublisher, to: XSubscriber | XPublisher) => {
    while (running) {
      const msg = await from.receive().catch(() => null)
      if (msg === null) return // closed
      await to.send(msg)
    }
  }
  const pumps = Promise.all([pump(frontend, backend), pump(backend, frontend)])

  const publisher = new Publisher()
  publisher.connect(frontend.lastEndpoint!)
  const subscriber = new Subscriber({ receiveTimeout: 5000 })
  subscriber.connect(backend.lastEndpoint!)
  subscriber.subscribe("weather")

  // The subscription needs a moment to travel up through the forwarder:
  // publish until the first reading arrives.
  const received: string[] = []
  const reader = (async () => {
    for await (const [topic, reading] of subscriber) {
      received.push(`${topic}=${reading}`)
      if (received.length === 3) return
    }
  })()
  let n = 0
  while (received.length < 3) {
    await publisher.send(["traffic", "jam"]) // filtered out upstream
    await publisher.send(["weather", `${20 + (n++ % 5)}C`])
    await new Promise((r) => setTimeout(r, 10))
  }
  await reader
  running = false
  for (const s of [publisher, subscriber, frontend, backend]) s.close()
  await pumps
  return `subscriber behind the forwarder got ${received.join(", ")}`
}
