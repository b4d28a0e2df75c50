/**
 * The pure layers in a real browser (test/browser/pure-layers.test.ts): ZMTP frames and the
 * greeting (lib/wire), a whole CURVE handshake between CurveClient and CurveServer
 * (lib/mechanisms) and crypto_box (lib/security), computed here and handed to Node as hex to
 * check against the Node build of the same code.
 */
import { CurveClient, CurveServer } from "../../../lib/mechanisms/curve.js"
import type { Mechanism } from "../../../lib/mechanisms/mechanism.js"
import { generateKeyPair, open, precompute, publicKeyOf, seal } from "../../../lib/security/crypto.js"
import { decode as z85Decode, encode as z85Encode } from "../../../lib/security/z85.js"
import { decodeGreeting, encodeGreeting } from "../../../lib/wire/greeting.js"
import { encodeMessage } from "../../../lib/wire/encoder.js"
import { FLAG_COMMAND, FrameDecoder } from "../../../lib/wire/frame.js"
import { param, report } from "./report.js"

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")

/** Every frame of `bytes`, fed to a FrameDecoder one byte at a time (the worst chunking). */
function decodeByteByByte(bytes: Buffer): { flags: number; body: string }[] {
  const frames: { flags: number; body: string }[] = []
  const decoder = new FrameDecoder((flags, body) => frames.push({ flags, body: hex(body) }))
  for (let i = 0; i < bytes.length; i++) decoder.push(bytes.subarray(i, i + 1))
  return frames
}

/** Hands `frames` to `to` (decoded byte by byte, as from the wire); returns its answers. Logs each command's name. */
async function deliver(to: Mechanism, frames: Buffer[], log: string[], tag: string): Promise<Buffer[]> {
  const answers: Buffer[] = []
  for (const frame of frames) {
    for (const f of decodeByteByByte(frame)) {
      const body = Buffer.from(f.body, "hex")
      log.push(`${tag} ${(f.flags & FLAG_COMMAND) !== 0 ? "" : "(not a command) "}${body.subarray(1, 1 + body[0]!).toString("latin1")}`)
      answers.push(...(await to.onCommand(body)))
    }
  }
  return answers
}

/** Runs client ⇄ server until neither has anything to send; returns the commands that crossed, in order. */
async function handshake(client: Mechanism, server: Mechanism): Promise<string[]> {
  const log: string[] = []
  let toServer = client.start()
  let toClient = server.start()
  while (toServer.length > 0 || toClient.length > 0) {
    const answers = await deliver(server, toServer, log, "C→S")
    toServer = await deliver(client, toClient, log, "S→C")
    toClient = answers
  }
  return log
}

report(async () => {
  // lib/wire: a three-part message with an empty part and a long (8-octet size) frame.
  const parts = [Buffer.from("topic"), Buffer.alloc(0), Buffer.alloc(300, 0xab)]
  const message = encodeMessage(parts)
  const greeting = encodeGreeting("CURVE", true)

  // lib/security: our public key from the secret key Node chose, a box for Node, Node's box for us
  // (both with the shared key computed here), and a key pair made here, for Node to check.
  const ourSecret = Buffer.from(param("pageSecret"), "hex")
  const shared = precompute(z85Decode(param("nodePublic")), ourSecret)
  const nonce = Buffer.from(param("nonce"), "hex")
  const toNode = seal(shared, nonce, Buffer.from("from the page"))
  const fromNode = open(shared, nonce, Buffer.from(param("box"), "hex"))
  const made = generateKeyPair()

  // lib/mechanisms: a whole CURVE handshake, then one MESSAGE each way through the codecs.
  const clientKeys = generateKeyPair()
  const serverKeys = generateKeyPair()
  const client = new CurveClient({ socketType: "DEALER" }, clientKeys.publicKey, clientKeys.secretKey, serverKeys.publicKey)
  const server = new CurveServer({ socketType: "ROUTER" }, serverKeys.publicKey, serverKeys.secretKey, undefined)
  const crossed = await handshake(client, server)
  const sealed = client.codec!.encode(0, Buffer.from("hello over CURVE"))
  const unsealed = server.codec!.decode(sealed)
  const reply = client.codec!.decode(server.codec!.encode(1, Buffer.from("and back")))

  return {
    message: hex(message),
    messageFrames: decodeByteByByte(message),
    greeting: hex(greeting),
    greetingDecoded: decodeGreeting(greeting),
    pagePublic: z85Encode(publicKeyOf(ourSecret)),
    toNode: hex(toNode),
    fromNode: fromNode === null ? null : fromNode.toString(),
    made: { publicKey: z85Encode(made.publicKey), secretKey: hex(made.secretKey) },
    handshake: {
      commands: crossed,
      clientDone: client.done,
      serverDone: server.done,
      serverSaw: client.peerMetadata?.get("socket-type")?.toString(),
      clientSaw: server.peerMetadata?.get("socket-type")?.toString(),
    },
    message1: { flags: unsealed.flags, body: unsealed.body.toString() },
    message2: { flags: reply.flags, body: reply.body.toString() },
  }
})
