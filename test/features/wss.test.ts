/**
 * wss:// — ZWS 2.0 over TLS, with the socket's ZMQ_WSS_* options (PEM strings): a server
 * needs a certificate and key; a client trusts what wssTrustPem says and checks the server's
 * certificate against wssHostname. The certificate is made for the test by openssl.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Dealer, Pull, Push, Router } from "../../lib/index.js"
import { waitFor } from "../helpers.js"
import { closeAfterEach } from "../helpers/close-after-each.js"
import { foreignPeer } from "../helpers/foreign-peer.js"

const track = closeAfterEach({ ignoreErrors: true })
const T = { linger: 0, sendTimeout: 5000, receiveTimeout: 5000 }
const hasOpenssl = foreignPeer("wss:// tests (a certificate is made with openssl)", ["openssl", "version"], "apt-get install openssl")

// Skipped where openssl is missing (the reason is printed); under CI=true foreignPeer() fails instead.
describe.skipIf(!hasOpenssl)("wss:// transport", () => {
  let dir: string
  let cert: string
  let key: string

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "omq-wss-"))
    const r = spawnSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
      ],
      { encoding: "utf8", timeout: 30_000 },
    )
    if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`)
    cert = fs.readFileSync(path.join(dir, "cert.pem"), "utf8")
    key = fs.readFileSync(path.join(dir, "key.pem"), "utf8")
  })

  afterAll(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
  })

  it("DEALER ↔ ROUTER over TLS, the client trusting the server's certificate for its name", async () => {
    const router = track(new Router({ ...T, wssCertPem: cert, wssKeyPem: key }))
    await router.bind("wss://127.0.0.1:*/secure")
    expect(router.lastEndpoint).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/secure$/)
    const dealer = track(new Dealer({ ...T, wssTrustPem: cert, wssHostname: "localhost", routingId: "d" }))
    dealer.connect(router.lastEndpoint!)
    await dealer.send("over tls")
    const [id, body] = await router.receive()
    expect([id!.toString(), body!.toString()]).toEqual(["d", "over tls"])
    await router.send([id!, "back"])
    expect((await dealer.receive())[0]!.toString()).toBe("back")
  })

  it("a client that does not trust the certificate does not connect (and says so in its events); a bind without a certificate is EINVAL", async () => {
    const pull = track(new Pull({ ...T, wssCertPem: cert, wssKeyPem: key }))
    await pull.bind("wss://127.0.0.1:*/untrusted")
    const push = track(new Push({ ...T, reconnectInterval: 50, wssTrustSystem: true }))
    const events: string[] = []
    void (async () => {
      for await (const e of push.events) events.push(e.type)
    })()
    push.connect(pull.lastEndpoint!)
    await waitFor(() => events.filter((e) => e === "connect:retry").length >= 2, 5000, "retries after the refused certificate")
    expect(events).not.toContain("handshake")

    const bare = track(new Pull(T))
    await expect(bare.bind("wss://127.0.0.1:*/no-cert")).rejects.toMatchObject({ code: "EINVAL" })
  })
})
