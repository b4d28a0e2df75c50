/**
 * NULL mechanism (RFC 23 "The NULL Security Mechanism"): each side sends
 * READY with its metadata and waits for the peer's READY. An ERROR command
 * from the peer fails the handshake. A server with a ZAP domain asks the ZAP
 * handler before it answers READY (as libzmq does).
 */
import { ProtocolError } from "../errors.js"
import { decodeCommand, readyFrame } from "../wire/command.js"
import type { Metadata } from "../wire/metadata.js"
import { localMetadata, refusedBy, type LocalProperties, type Mechanism, type ZapContext } from "./mechanism.js"
import { zapCheck } from "./zap.js"

export class NullMechanism implements Mechanism {
  readonly name = "NULL"
  done = false
  peerMetadata: Metadata | undefined
  userId: string | undefined

  constructor(
    private readonly local: LocalProperties,
    private readonly zap?: ZapContext,
  ) {}

  /** An old peer has no READY to show ZAP, so it is served only when there is no ZAP to ask. */
  get servesLegacyPeers(): boolean {
    return this.zap === undefined
  }

  start(): Buffer[] {
    return this.zap === undefined ? [readyFrame(localMetadata(this.local))] : []
  }

  onCommand(body: Buffer): Buffer[] | Promise<Buffer[]> {
    const cmd = decodeCommand(body)
    if (this.done) throw new ProtocolError("ZMTP_UNEXPECTED_COMMAND", `Unexpected ${cmdName(cmd)} after READY`)
    if (cmd.name === "READY") {
      const metadata = cmd.metadata
      if (this.zap === undefined) {
        this.peerMetadata = metadata
        this.done = true
        return []
      }
      return zapCheck(this.zap, "NULL", []).then((reply) => {
        this.userId = reply?.userId ?? ""
        this.peerMetadata = metadata
        this.done = true
        return [readyFrame(localMetadata(this.local))]
      })
    }
    if (cmd.name === "ERROR") throw refusedBy(body)!
    throw new ProtocolError("ZMTP_UNEXPECTED_COMMAND", `Unexpected ${cmdName(cmd)} during NULL handshake`)
  }
}

function cmdName(cmd: ReturnType<typeof decodeCommand>): string {
  return cmd.name === "OTHER" ? cmd.command.name : cmd.name
}
