/**
 * Facts about socket types on the wire: which pairings are valid (RFC 23 /
 * RFC 37, "Socket Types"; RFC 15, "Socket Compatibility") and the octet a
 * ZMTP 2.0 greeting carries for each type (RFC 15, "Formal Grammar").
 */
const VALID: Readonly<Record<string, readonly string[]>> = {
  PAIR: ["PAIR"],
  PUB: ["SUB", "XSUB"],
  XPUB: ["SUB", "XSUB"],
  SUB: ["PUB", "XPUB"],
  XSUB: ["PUB", "XPUB"],
  PUSH: ["PULL"],
  PULL: ["PUSH"],
  REQ: ["REP", "ROUTER"],
  REP: ["REQ", "DEALER"],
  DEALER: ["REP", "DEALER", "ROUTER"],
  ROUTER: ["REQ", "DEALER", "ROUTER"],
}

export function isCompatible(ours: string, theirs: string): boolean {
  return VALID[ours]?.includes(theirs) ?? false
}

/**
 * ZMTP 2.0 socket-type octets, indexed by value: RFC 15 numbers PAIR..PUSH
 * 0..8. libzmq sends its own ZMQ_XPUB (9) and ZMQ_XSUB (10) constants for
 * those types, so we understand them too.
 */
const ZMTP2_TYPES: readonly string[] = ["PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB"]

/**
 * The octet we announce to a ZMTP 2.0 peer. RFC 15: "XPUB and XSUB are
 * implemented at the protocol level as PUB and SUB", so they go out as PUB
 * and SUB, which every 2.0 peer knows. Undefined for a type 2.0 cannot name.
 */
export function zmtp2SocketType(name: string): number | undefined {
  const wire = name === "XPUB" ? "PUB" : name === "XSUB" ? "SUB" : name
  const n = ZMTP2_TYPES.indexOf(wire)
  return n >= 0 ? n : undefined
}

/** The socket type a ZMTP 2.0 peer announced with `octet`, or undefined if unknown. */
export function zmtp2SocketTypeName(octet: number): string | undefined {
  return ZMTP2_TYPES[octet]
}
