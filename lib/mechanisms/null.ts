/**
 * NULL mechanism (RFC 23 "The NULL Security Mechanism"): each side sends
 * READY with its metadata and waits for the peer's READY. An ERROR command
 * from the peer fails the handshake.
 */
import { ProtocolError } from "../errors.js"
import { decodeCommand } from "../wire/command.js"
import { readyFrame } from "../wire/command.js"
import type { Metadata } from "../wire/metadata.js"
import { localMetadata, type LocalProperties, type Mechanism } from "./mechanism.js"

export class NullMechanism implements Mechanism {
  readonly name = "NULL"
  done = false
  peerMetadata: Metadata | undefined

  constructor(private readonly local: LocalProperties) {}

  start(): Buffer[] {
    return [readyFrame(localMetadata(this.local))]
  }

  onCommand(body: Buffer): Buffer[] {
    const cmd = decodeCommand(body)
    if (this.done) throw new ProtocolError("ZMTP_UNEXPECTED_COMMAND", `Unexpected ${cmdName(cmd)} after READY`)
    if (cmd.name === "READY") {
      this.peerMetadata = cmd.metadata
      this.done = true
      return []
    }
    if (cmd.name === "ERROR") throw new ProtocolError("ZMTP_PEER_ERROR", `Peer refused the handshake: ${cmd.reason}`)
    throw new ProtocolError("ZMTP_UNEXPECTED_COMMAND", `Unexpected ${cmdName(cmd)} during NULL handshake`)
  }
}

function cmdName(cmd: ReturnType<typeof decodeCommand>): string {
  return cmd.name === "OTHER" ? cmd.command.name : cmd.name
}
