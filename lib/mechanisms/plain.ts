/**
 * PLAIN mechanism (RFC 24): the client sends HELLO with a user name and
 * password in clear text, the server answers WELCOME (after asking ZAP),
 * then INITIATE / READY carry each side's metadata.
 */
import { ProtocolError } from "../errors.js"
import { commandFrame, parseRawCommand } from "../wire/command.js"
import { decodeMetadata, encodeMetadata, type Metadata } from "../wire/metadata.js"
import { localMetadata, refusedBy, type LocalProperties, type Mechanism, type ZapContext } from "./mechanism.js"
import { zapCheck } from "./zap.js"

export class PlainClient implements Mechanism {
  readonly name = "PLAIN"
  done = false
  peerMetadata: Metadata | undefined
  private state: "welcome" | "ready" = "welcome"

  constructor(
    private readonly local: LocalProperties,
    private readonly username: string,
    private readonly password: string,
  ) {}

  start(): Buffer[] {
    const u = Buffer.from(this.username)
    const p = Buffer.from(this.password)
    if (u.length > 255 || p.length > 255) throw new ProtocolError("ZMTP_HANDSHAKE", "PLAIN user name and password are limited to 255 bytes")
    return [commandFrame("HELLO", Buffer.concat([Buffer.from([u.length]), u, Buffer.from([p.length]), p]))]
  }

  onCommand(body: Buffer): Buffer[] {
    const refused = refusedBy(body)
    if (refused) throw refused
    const cmd = parseRawCommand(body)
    if (this.state === "welcome" && cmd.name === "WELCOME") {
      if (cmd.data.length !== 0) throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Malformed WELCOME")
      this.state = "ready"
      return [commandFrame("INITIATE", encodeMetadata(localMetadata(this.local)))]
    }
    if (this.state === "ready" && cmd.name === "READY") {
      this.peerMetadata = decodeMetadata(cmd.data)
      this.done = true
      return []
    }
    throw new ProtocolError("ZMTP_UNEXPECTED_COMMAND", `Unexpected ${cmd.name} in PLAIN handshake`)
  }
}

export class PlainServer implements Mechanism {
  readonly name = "PLAIN"
  done = false
  peerMetadata: Metadata | undefined
  userId: string | undefined
  private state: "hello" | "initiate" = "hello"

  constructor(
    private readonly local: LocalProperties,
    private readonly zap: ZapContext | undefined,
  ) {}

  start(): Buffer[] {
    return []
  }

  onCommand(body: Buffer): Buffer[] | Promise<Buffer[]> {
    const cmd = parseRawCommand(body)
    if (this.state === "hello" && cmd.name === "HELLO") {
      const d = cmd.data
      const ulen = d[0]
      if (ulen === undefined || 1 + ulen >= d.length) throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Malformed HELLO")
      const username = d.subarray(1, 1 + ulen)
      const plen = d[1 + ulen]!
      if (2 + ulen + plen !== d.length) throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Malformed HELLO")
      const password = d.subarray(2 + ulen)
      this.state = "initiate"
      return zapCheck(this.zap, "PLAIN", [username, password], true).then((reply) => {
        this.userId = reply?.userId ?? ""
        return [commandFrame("WELCOME")]
      })
    }
    if (this.state === "initiate" && cmd.name === "INITIATE") {
      this.peerMetadata = decodeMetadata(cmd.data)
      this.done = true
      return [commandFrame("READY", encodeMetadata(localMetadata(this.local)))]
    }
    if (cmd.name === "ERROR") throw refusedBy(body)!
    throw new ProtocolError("ZMTP_UNEXPECTED_COMMAND", `Unexpected ${cmd.name} in PLAIN handshake`)
  }
}
