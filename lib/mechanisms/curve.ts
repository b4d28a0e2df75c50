/**
 * CURVE mechanism (RFC 25 ZMTP-CURVE, RFC 26 CurveZMQ): HELLO, WELCOME
 * (with the server's cookie), INITIATE (with the client's vouch), READY; then
 * every frame travels in a MESSAGE box whose 8-byte nonce must strictly
 * increase. Keys: C/c client long-term, S/s server long-term, C'/c' and S'/s'
 * per-connection transient keys.
 */
import { randomBytes } from "node:crypto"
import { ProtocolError } from "../errors.js"
import { commandFrame, parseRawCommand } from "../wire/command.js"
import { decodeMetadata, encodeMetadata, type Metadata } from "../wire/metadata.js"
import {
  generateKeyPair,
  loadFastCipher,
  open,
  openMessageAt,
  precompute as rawPrecompute,
  seal,
  sealMessage,
  secretOpen,
  secretSeal,
  wipeCipherState,
} from "../security/crypto.js"
import { localMetadata, refusedBy, type FrameCodec, type LocalProperties, type Mechanism, type ZapContext } from "./mechanism.js"
import { zapCheck } from "./zap.js"

const MESSAGE_PREFIX = Buffer.from("\x07MESSAGE", "latin1")

function nonce(prefix: string, tail: Buffer): Buffer {
  return Buffer.concat([Buffer.from(prefix, "latin1"), tail])
}

function shortNonce(n: number): Buffer {
  const b = Buffer.allocUnsafe(8)
  b.writeUInt32BE(Math.floor(n / 0x100000000), 0)
  b.writeUInt32BE(n >>> 0, 4)
  return b
}

function readShortNonce(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * 0x100000000 + buf.readUInt32BE(offset + 4)
}

function crypto(msg: string): ProtocolError {
  return new ProtocolError("ZMTP_CRYPTOGRAPHIC", msg)
}

/** Key agreement with a peer-chosen key: a low-order or invalid key is the peer's fault, not ours. */
function precompute(theirPublic: Uint8Array, ourSecret: Uint8Array): Uint8Array {
  try {
    return rawPrecompute(theirPublic, ourSecret)
  } catch {
    throw crypto("Peer sent an invalid CURVE public key")
  }
}

/**
 * MESSAGE boxes in one direction each, with strictly increasing nonces.
 * Exported for the wire codec's tests (a real codec without a handshake).
 */
export class CurveCodec implements FrameCodec {
  private readonly sendNonce = Buffer.alloc(24)
  private readonly recvNonce = Buffer.alloc(24)

  constructor(
    private readonly key: Uint8Array,
    sendPrefix: string,
    recvPrefix: string,
    private nextNonce: number,
    private peerNonce: number,
  ) {
    this.sendNonce.write(sendPrefix, 0, "latin1")
    this.recvNonce.write(recvPrefix, 0, "latin1")
  }

  /** "MESSAGE" and the short nonce (16), the tag (16) and the flags byte (1). */
  readonly overhead = 33

  encode(flags: number, body: Buffer): Buffer {
    const out = Buffer.allocUnsafe(this.overhead + body.length)
    this.encodeInto(flags, body, out, 0)
    return out
  }

  /** "MESSAGE", the short nonce, then the box (tag + ciphertext of [flags, ...body]) sealed in place. */
  encodeInto(flags: number, body: Buffer, out: Buffer, off: number): number {
    const n = this.nextNonce++
    this.sendNonce.writeUInt32BE(Math.floor(n / 0x100000000), 16)
    this.sendNonce.writeUInt32BE(n >>> 0, 20)
    MESSAGE_PREFIX.copy(out, off)
    this.sendNonce.copy(out, off + 8, 16, 24)
    sealMessage(this.key, this.sendNonce, flags, body, out, off + 16)
    return this.overhead + body.length
  }

  decode(body: Buffer): { flags: number; body: Buffer } {
    if (body.length < 33 || body.compare(MESSAGE_PREFIX, 0, 8, 0, 8) !== 0) {
      throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Expected a CURVE MESSAGE")
    }
    const n = readShortNonce(body, 8)
    if (n <= this.peerNonce) throw new ProtocolError("ZMTP_SEQUENCE", "CURVE MESSAGE nonce replayed or out of order")
    body.copy(this.recvNonce, 16, 8, 16)
    const opened = openMessageAt(this.key, this.recvNonce, body, 16)
    if (opened === null) throw crypto("CURVE MESSAGE does not authenticate")
    this.peerNonce = n
    return opened
  }

  /** Zeroes the session key and has the WebAssembly cipher forget what it kept of it. */
  dispose(): void {
    this.key.fill(0)
    wipeCipherState()
  }
}

export class CurveClient implements Mechanism {
  readonly name = "CURVE"
  done = false
  peerMetadata: Metadata | undefined
  codec: CurveCodec | undefined
  private readonly transient = generateKeyPair()
  private nonce = 1
  private state: "welcome" | "ready" = "welcome"
  private sessionKey: Uint8Array | undefined

  constructor(
    private readonly local: LocalProperties,
    private readonly publicKey: Buffer,
    private readonly secretKey: Buffer,
    private readonly serverKey: Buffer,
  ) {
    void loadFastCipher()
  }

  /** The connection is over: zero the short-term secret key and the session key. */
  dispose(): void {
    this.transient.secretKey.fill(0)
    this.sessionKey?.fill(0)
    this.codec?.dispose()
  }

  start(): Buffer[] {
    const n = shortNonce(this.nonce++)
    const box = seal(precompute(this.serverKey, this.transient.secretKey), nonce("CurveZMQHELLO---", n), Buffer.alloc(64))
    const data = Buffer.concat([Buffer.from([1, 0]), Buffer.alloc(72), this.transient.publicKey, n, box])
    return [commandFrame("HELLO", data)]
  }

  onCommand(body: Buffer): Buffer[] {
    const refused = refusedBy(body)
    if (refused) throw refused
    const cmd = parseRawCommand(body)
    if (this.state === "welcome" && cmd.name === "WELCOME") return this.onWelcome(cmd.data)
    if (this.state === "ready" && cmd.name === "READY") return this.onReady(cmd.data)
    throw new ProtocolError("ZMTP_UNEXPECTED_COMMAND", `Unexpected ${cmd.name} in CURVE handshake`)
  }

  private onWelcome(d: Buffer): Buffer[] {
    if (d.length !== 16 + 144) throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Malformed WELCOME")
    const plain = open(precompute(this.serverKey, this.transient.secretKey), nonce("WELCOME-", d.subarray(0, 16)), d.subarray(16))
    if (plain === null) throw crypto("WELCOME does not authenticate (wrong server key?)")
    const serverTransient = plain.subarray(0, 32)
    const cookie = plain.subarray(32, 128)
    this.sessionKey = precompute(serverTransient, this.transient.secretKey)
    const vouchNonce = randomBytes(16)
    const vouch = seal(
      precompute(serverTransient, this.secretKey),
      nonce("VOUCH---", vouchNonce),
      Buffer.concat([this.transient.publicKey, this.serverKey]),
    )
    const inner = Buffer.concat([this.publicKey, vouchNonce, vouch, encodeMetadata(localMetadata(this.local))])
    const n = shortNonce(this.nonce++)
    const box = seal(this.sessionKey, nonce("CurveZMQINITIATE", n), inner)
    this.state = "ready"
    return [commandFrame("INITIATE", Buffer.concat([cookie, n, box]))]
  }

  private onReady(d: Buffer): Buffer[] {
    if (d.length < 8 + 16) throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Malformed READY")
    const plain = open(this.sessionKey!, nonce("CurveZMQREADY---", d.subarray(0, 8)), d.subarray(8))
    if (plain === null) throw crypto("READY does not authenticate")
    this.peerMetadata = decodeMetadata(plain)
    this.codec = new CurveCodec(this.sessionKey!, "CurveZMQMESSAGEC", "CurveZMQMESSAGES", this.nonce, readShortNonce(d, 0))
    this.done = true
    return []
  }
}

export class CurveServer implements Mechanism {
  readonly name = "CURVE"
  done = false
  peerMetadata: Metadata | undefined
  codec: CurveCodec | undefined
  userId: string | undefined
  private state: "hello" | "initiate" | "zap" = "hello"
  private readonly cookieKey = randomBytes(32)
  private clientTransient: Buffer | undefined
  private transient: { publicKey: Buffer; secretKey: Buffer } | undefined
  private nonce = 1

  constructor(
    private readonly local: LocalProperties,
    private readonly publicKey: Buffer,
    private readonly secretKey: Buffer,
    private readonly zap: ZapContext | undefined,
  ) {
    void loadFastCipher()
  }

  /** The connection is over: zero the short-term secret key, the cookie key and the session key. */
  dispose(): void {
    this.transient?.secretKey.fill(0)
    this.cookieKey.fill(0)
    this.codec?.dispose()
  }

  start(): Buffer[] {
    return []
  }

  onCommand(body: Buffer): Buffer[] | Promise<Buffer[]> {
    const cmd = parseRawCommand(body)
    if (this.state === "hello" && cmd.name === "HELLO") return this.onHello(cmd.data)
    if (this.state === "initiate" && cmd.name === "INITIATE") return this.onInitiate(cmd.data)
    if (cmd.name === "ERROR") throw refusedBy(body)!
    throw new ProtocolError("ZMTP_UNEXPECTED_COMMAND", `Unexpected ${cmd.name} in CURVE handshake`)
  }

  private onHello(d: Buffer): Buffer[] {
    if (d.length !== 194) throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Malformed HELLO")
    if (d[0] !== 1 || d[1] !== 0) throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Unsupported CURVE version")
    const clientTransient = Buffer.from(d.subarray(74, 106))
    const plain = open(precompute(clientTransient, this.secretKey), nonce("CurveZMQHELLO---", d.subarray(106, 114)), d.subarray(114))
    if (plain === null || plain.length !== 64 || plain.some((b) => b !== 0)) {
      throw crypto("HELLO does not authenticate (client uses another server key?)")
    }
    this.clientTransient = clientTransient
    this.transient = generateKeyPair()
    const cookieNonce = randomBytes(16)
    const cookie = Buffer.concat([
      cookieNonce,
      secretSeal(this.cookieKey, nonce("COOKIE--", cookieNonce), Buffer.concat([clientTransient, this.transient.secretKey])),
    ])
    const welcomeNonce = randomBytes(16)
    const box = seal(
      precompute(clientTransient, this.secretKey),
      nonce("WELCOME-", welcomeNonce),
      Buffer.concat([this.transient.publicKey, cookie]),
    )
    this.state = "initiate"
    return [commandFrame("WELCOME", Buffer.concat([welcomeNonce, box]))]
  }

  private onInitiate(d: Buffer): Promise<Buffer[]> {
    if (d.length < 96 + 8 + 16 + 128) throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Malformed INITIATE")
    const cookie = secretOpen(this.cookieKey, nonce("COOKIE--", d.subarray(0, 16)), d.subarray(16, 96))
    if (
      cookie === null ||
      !cookie.subarray(0, 32).equals(this.clientTransient!) ||
      !cookie.subarray(32, 64).equals(this.transient!.secretKey)
    ) {
      throw crypto("INITIATE carries an invalid cookie")
    }
    const sessionKey = precompute(this.clientTransient!, this.transient!.secretKey)
    const shortN = d.subarray(96, 104)
    const plain = open(sessionKey, nonce("CurveZMQINITIATE", shortN), d.subarray(104))
    if (plain === null || plain.length < 128) throw crypto("INITIATE does not authenticate")
    const clientKey = Buffer.from(plain.subarray(0, 32))
    const vouch = open(precompute(clientKey, this.transient!.secretKey), nonce("VOUCH---", plain.subarray(32, 48)), plain.subarray(48, 128))
    if (vouch === null || !vouch.subarray(0, 32).equals(this.clientTransient!) || !vouch.subarray(32, 64).equals(this.publicKey)) {
      throw crypto("INITIATE vouch is invalid")
    }
    const metadata = decodeMetadata(plain.subarray(128))
    this.state = "zap"
    return zapCheck(this.zap, "CURVE", [clientKey]).then((reply) => {
      this.userId = reply?.userId ?? ""
      this.peerMetadata = metadata
      const n = shortNonce(this.nonce++)
      const box = seal(sessionKey, nonce("CurveZMQREADY---", n), encodeMetadata(localMetadata(this.local)))
      this.codec = new CurveCodec(sessionKey, "CurveZMQMESSAGES", "CurveZMQMESSAGEC", this.nonce, readShortNonce(shortN, 0))
      this.done = true
      return [commandFrame("READY", Buffer.concat([n, box]))]
    })
  }
}
