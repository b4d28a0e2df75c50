/** Valid socket-type pairings (RFC 23 / RFC 37, "Socket Types"). */
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
