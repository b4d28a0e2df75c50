/**
 * A security mechanism is a pure handshake state machine (RFC 23
 * "Authentication and Confidentiality"): the engine hands it each command
 * frame body received after the greeting, and it answers with the command
 * frames to send. When `done` is true the peer's metadata is known and
 * message traffic may flow.
 */
import { ProtocolError, authError } from "../errors.js"
import { decodeCommand, parseRawCommand } from "../wire/command.js"
import type { FrameCodec } from "../wire/frame-codec.js"
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
  /**
   * Feeds one received command frame body; returns frames to send (or a
   * promise of them, while a ZAP handler decides). Throws (or rejects with)
   * ProtocolError on a bad or refused handshake.
   */
  onCommand(body: Buffer): Buffer[] | Promise<Buffer[]>
  /** For mechanisms that encrypt traffic (CURVE): frame codec once done. */
  readonly codec?: FrameCodec | undefined
  /** The connection is over: forget the secrets the handshake made (short-term keys, session key). */
  dispose?(): void
  /** User id the ZAP handler returned for the peer ("" if none). */
  readonly userId?: string | undefined
  /**
   * True if a ZMTP 1.0/2.0 peer, which has no security handshake, may be
   * served in this mechanism's place: only NULL without ZAP (libzmq refuses
   * old peers whenever ZAP is enabled).
   */
  readonly servesLegacyPeers?: boolean
}

/** Encrypts / decrypts each frame after the handshake (ZMTP CURVE MESSAGE commands). */
export type { FrameCodec } from "../wire/frame-codec.js"

/** The properties a socket announces in READY/INITIATE. */
export interface LocalProperties {
  socketType: string
  routingId?: Buffer | undefined
}

/** What a server-side mechanism needs to ask a ZAP handler (RFC 27). */
export interface ZapContext {
  domain: string
  address: string
  identity: Buffer
  /** Resolves with the handler's reply, or null when no handler is installed. */
  authenticate(mechanism: string, credentials: Buffer[]): Promise<ZapReply | null>
  /** ZMQ_ZAP_ENFORCE_DOMAIN: refuse when no handler is installed. */
  enforce: boolean
}

export interface ZapReply {
  statusCode: number
  statusText: string
  userId: string
  metadata: Buffer
}

export function localMetadata(props: LocalProperties): Array<[string, Buffer | string]> {
  const out: Array<[string, Buffer | string]> = [["Socket-Type", props.socketType]]
  // libzmq sends Identity only for socket types that use it; an empty value is allowed.
  if (props.routingId !== undefined) out.push(["Identity", props.routingId])
  return out
}

/** If `body` is an ERROR command, the error it means (an auth failure for a ZAP status code); else null. */
export function refusedBy(body: Buffer): ProtocolError | null {
  if (parseRawCommand(body).name !== "ERROR") return null
  const cmd = decodeCommand(body)
  if (cmd.name !== "ERROR") return null
  // libzmq puts the ZAP status code in the reason.
  if (/^[345]\d\d$/.test(cmd.reason)) return authError(Number(cmd.reason), "refused by the server")
  return new ProtocolError("ZMTP_PEER_ERROR", `Peer refused the handshake: ${cmd.reason}`)
}
