/**
 * CURVE on this runtime, from the built package: key pairs, and a PUSH/PULL whose bytes cross
 * a relay that records them, so the check sees the payload is not on the wire in the clear.
 */
import { curveKeyPair, Pull, Push } from "omq"
import { z85 } from "omq/security"
import * as net from "node:net"
import { check, done, same, strings } from "./harness.mjs"

await check("curveKeyPair: two distinct 32-byte key pairs in Z85", () => {
  const a = curveKeyPair()
  const b = curveKeyPair()
  for (const k of [a.publicKey, a.secretKey, b.publicKey, b.secretKey]) {
    if (k.length !== 40) throw new Error(`a Z85 key has 40 characters, got ${k.length}`)
    if (z85.decode(k).length !== 32) throw new Error("a key decodes to 32 bytes")
  }
  if (a.secretKey === b.secretKey || a.publicKey === b.publicKey) throw new Error("two calls gave the same keys")
})

/** A TCP relay to `port` on 127.0.0.1 keeping every byte either way in `seen`. */
async function relay(port, seen) {
  const sockets = new Set()
  const server = net.createServer((inbound) => {
    const outbound = net.connect(port, "127.0.0.1")
    for (const [from, to] of [
      [inbound, outbound],
      [outbound, inbound],
    ]) {
      sockets.add(from)
      from.on("data", (d) => {
        seen.push(Buffer.from(d))
        to.write(d)
      })
      from.on("error", () => to.destroy())
      from.on("close", () => to.destroy())
    }
  })
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    port: server.address().port,
    close() {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}

await check("tcp: an encrypted PUSH/PULL delivers, and the payload is not on the wire", async () => {
  const server = curveKeyPair()
  const client = curveKeyPair()
  const pull = new Pull({ curveServer: true, curveSecretKey: server.secretKey })
  const push = new Push({ curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey })
  const seen = []
  let link
  try {
    await pull.bind("tcp://127.0.0.1:0")
    link = await relay(Number(new URL(pull.lastEndpoint.replace("tcp:", "http:")).port), seen)
    push.connect(`tcp://127.0.0.1:${link.port}`)
    const secret = "the secret payload"
    const big = Buffer.alloc(200_000, "curve")
    for (let i = 0; i < 20; i++) await push.send([secret, `${i}`])
    await push.send(big)
    for (let i = 0; i < 20; i++) same(strings(await pull.receive()), [secret, `${i}`])
    const [got] = await pull.receive()
    if (!got.equals(big)) throw new Error("200 kB message damaged")
    const wire = Buffer.concat(seen)
    if (wire.length < 200_000) throw new Error(`the relay saw only ${wire.length} bytes`)
    if (wire.includes(secret) || wire.includes("curvecurvecurve")) throw new Error("plaintext on the wire")
  } finally {
    push.close()
    pull.close()
    link?.close()
  }
})

done()
