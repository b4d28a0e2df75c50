/**
 * What serving a ZMTP 1.0 or 2.0 peer takes beyond the codec (RFC 13, RFC 15,
 * and libzmq 4.x's behaviour): who may be served, what the peer's identity
 * frame means (1.0 framing itself: wire/frame-v1.ts, wire/decoder.ts, wire/encoder.ts).
 *
 * Old peers have no security handshake, no metadata, no commands and no
 * heartbeats: the greeting's socket-type octet (2.0) and the first frame (the
 * peer's identity) are all we learn of them.
 */
import { ProtocolError } from "../errors.js"
import type { Mechanism } from "../mechanisms/mechanism.js"
import type { Metadata } from "../wire/metadata.js"
import type { PeerProtocol } from "../wire/negotiation.js"
import { isCompatible, zmtp2SocketTypeName } from "../sockets/socket-types.js"

export type LegacyPeer = Extract<PeerProtocol, { version: 1 | 2 }>

/** "ZMTP 2.0", "ZMTP 1.0": for messages and debugging. */
export function legacyName(peer: LegacyPeer): string {
  return peer.version === 2 ? "ZMTP 2.0" : peer.socketType === null ? "ZMTP 1.0" : "ZMTP 1.0 (revision 0)"
}

/**
 * Refuses an old peer this socket must not serve; returns the peer's socket
 * type name ("" for an unversioned 1.0 peer, which does not say).
 */
export function checkLegacyPeer(peer: LegacyPeer, ourType: string, mechanism: Mechanism): string {
  if (mechanism.servesLegacyPeers !== true) {
    const what = mechanism.name === "NULL" ? "NULL with ZAP" : mechanism.name
    throw new ProtocolError(
      "ZMTP_BAD_MECHANISM",
      `Security mechanism mismatch: a ${legacyName(peer)} peer has no security handshake, this socket requires ${what}`,
    )
  }
  if (peer.socketType === null) return "" // RFC 13: a 1.0 peer's type is assumed, never announced
  const theirs = zmtp2SocketTypeName(peer.socketType)
  if (theirs === undefined || !isCompatible(ourType, theirs)) {
    // RFC 15 "Socket Compatibility": other combinations SHOULD be disconnected.
    throw new ProtocolError(
      "ZMTP_INCOMPATIBLE_SOCKET",
      `Invalid socket type: ${ourType} cannot talk to ${theirs ?? `socket type ${peer.socketType}`} (${legacyName(peer)})`,
    )
  }
  return theirs
}

/**
 * The metadata an old peer's identity frame stands for: Identity (a ROUTER
 * uses a non-empty one as the routing id, as libzmq does) and, from a 2.0
 * greeting, Socket-Type.
 */
export function legacyMetadata(peerType: string, identity: Buffer): Metadata {
  if (identity.length > 255) {
    // RFC 13: "a unique string of 1 to 255 octets"; a routing id is never longer.
    throw new ProtocolError("ZMTP_HANDSHAKE", `Identity of ${identity.length} bytes is longer than 255`)
  }
  const md: Metadata = new Map()
  if (peerType !== "") md.set("socket-type", Buffer.from(peerType, "ascii"))
  // Copied: the body is a slice of a read chunk, and the routing id lives as long as the pipe.
  md.set("identity", Buffer.from(identity))
  return md
}
