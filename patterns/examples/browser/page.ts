/**
 * The example page (patterns/examples/browser/server.ts serves it): a DEALER asks the server's
 * ROUTER the time and a SUB shows its ticker, both over ws:// from omq/browser.
 */
import { Dealer, Subscriber } from "../../../lib/entry/browser.js"

// The page's globals, typed here (the project's types are Node's, without the DOM's).
const { location, document } = globalThis as unknown as {
  location: { href: string }
  document: { getElementById(id: string): { textContent: string } | null; body: { dataset: Record<string, string> } }
}
const params = new URL(location.href).searchParams
const show = (id: string, text: string): void => {
  document.getElementById(id)!.textContent = text
}

async function main(): Promise<void> {
  const dealer = new Dealer({ routingId: "browser-tab", receiveTimeout: 5000 })
  dealer.connect(params.get("rpc")!)
  await dealer.send("what time is it?")
  const [answer] = await dealer.receive()
  show("answer", answer!.toString())

  const sub = new Subscriber()
  sub.connect(params.get("ticker")!)
  sub.subscribe("tick")
  let n = 0
  for await (const [, value] of sub) {
    show("ticks", `${++n} ticks, last: ${value!.toString()}`)
    if (n >= 3) document.body.dataset.done = "true"
  }
}

main().catch((err: Error) => show("answer", `error: ${err.message}`))
