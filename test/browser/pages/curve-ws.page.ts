/**
 * CURVE from a page (test/browser/curve-ws.test.ts): a DEALER with CURVE keys made in the page
 * talks to a CURVE ROUTER bound on ws:// in Node. The page offers the bare ZWS2.0 (a browser can
 * say nothing else) and both sides, configured for CURVE, run the CURVE handshake over it. It
 * also reports the boxes' cipher: omq's SIMD WebAssembly module, which the browser build carries.
 */
import { Dealer, curveKeyPair } from "../../../lib/entry/browser.js"
import { cipherBackend, loadFastCipher } from "../../../lib/security/crypto.js"
import { param, report } from "./report.js"

report(async () => {
  const keys = curveKeyPair()
  const dealer = new Dealer({
    linger: 0,
    receiveTimeout: 8000,
    routingId: "secure-tab",
    curveServerKey: param("serverKey"),
    curvePublicKey: keys.publicKey,
    curveSecretKey: keys.secretKey,
  })
  try {
    dealer.connect(param("router"))
    await dealer.send("boxed in the page")
    const [reply] = await dealer.receive()
    await loadFastCipher() // started by the handshake
    return { reply: reply!.toString(), publicKey: keys.publicKey, cipher: cipherBackend() }
  } finally {
    dealer.close()
  }
})
