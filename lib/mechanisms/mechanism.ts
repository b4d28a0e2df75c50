/**
 * A security mechanism is a pure handshake state machine (RFC 23
 * "Authentication and Confidentiality"): the engine hands it each command
 * frame body received after the greeting, and it answers with the command
 * frames to send. When `done` is true the peer's metadata is known and
 * message traffic may flow.
 */
import type { Metadata } from "../wire/metadata.js"

export interface Mechanism {
  /** Name as sent in the greeting, e.g. "NULL". */
  readonly name: string
  /** Handshake finished successfully. */
  readonly done: boolean
  /** Metadata the peer sent (READY / INITIATE properties), keys lower-cased. */
  readonly peerMetadata: Metadata | undefined
  /** Frames to send once the greetings were exchanged. */
  start(): Buffer[]
  /** Feeds one received command frame body; returns frames to send. Throws ProtocolError on a bad handshake. */
  onCommand(body: Buffer): Buffer[]
}

/** The properties a socket announces in READY/INITIATE. */
export interface LocalProperties {
  socketType: string
  routingId?: Buffer | undefined
}

export function localMetadata(props: LocalProperties): Array<[string, Buffer | string]> {
  const out: Array<[string, Buffer | string]> = [["Socket-Type", props.socketType]]
  // libzmq sends Identity only for socket types that use it; an empty value is allowed.
  if (props.routingId !== undefined) out.push(["Identity", props.routingId])
  return out
}
