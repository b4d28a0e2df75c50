/**
 * What there is to know about each socket type outside its own class, in one place: its
 * name on the wire (READY's Socket-Type), libzmq's type number (zeromq.js's `new Socket(n)`,
 * ZMQ_TYPE), the peers it may talk to (RFC 23 / RFC 37 "Socket Types"; RFC 15 "Socket
 * Compatibility"), and whether it sends and receives. The engine and the transports read
 * this table, not the socket classes (which depend on them), so it imports nothing.
 */

export type SocketTypeName = "PAIR" | "PUB" | "SUB" | "REQ" | "REP" | "DEALER" | "ROUTER" | "PULL" | "PUSH" | "XPUB" | "XSUB" | "STREAM"

export interface SocketTypeFacts {
  readonly name: SocketTypeName
  /** libzmq's ZMQ_PAIR … ZMQ_STREAM. */
  readonly number: number
  /** Types this one may be connected to; a handshake with any other fails. */
  readonly peers: readonly SocketTypeName[]
  readonly sends: boolean
  readonly receives: boolean
  /** READY carries our Identity (the routing id, maybe empty): libzmq sends one for these types. */
  readonly announcesRoutingId: boolean
}

function facts(
  name: SocketTypeName,
  number: number,
  peers: SocketTypeName[],
  sends: boolean,
  receives: boolean,
  announcesRoutingId = false,
): SocketTypeFacts {
  return Object.freeze({ name, number, peers: Object.freeze(peers), sends, receives, announcesRoutingId })
}

export const SOCKET_TYPES: Readonly<Record<SocketTypeName, SocketTypeFacts>> = Object.freeze({
  PAIR: facts("PAIR", 0, ["PAIR"], true, true),
  PUB: facts("PUB", 1, ["SUB", "XSUB"], true, false),
  SUB: facts("SUB", 2, ["PUB", "XPUB"], false, true),
  REQ: facts("REQ", 3, ["REP", "ROUTER"], true, true, true),
  REP: facts("REP", 4, ["REQ", "DEALER"], true, true),
  DEALER: facts("DEALER", 5, ["REP", "DEALER", "ROUTER"], true, true, true),
  ROUTER: facts("ROUTER", 6, ["REQ", "DEALER", "ROUTER"], true, true, true),
  PULL: facts("PULL", 7, ["PUSH"], false, true),
  PUSH: facts("PUSH", 8, ["PULL"], true, false),
  XPUB: facts("XPUB", 9, ["SUB", "XSUB"], true, true),
  XSUB: facts("XSUB", 10, ["PUB", "XPUB"], true, true),
  // STREAM talks raw bytes to peers that are not ZeroMQ: no handshake, so no peer types.
  STREAM: facts("STREAM", 11, [], true, true),
})

/** Socket type names by libzmq number. */
const BY_NUMBER: readonly SocketTypeName[] = Object.values(SOCKET_TYPES)
  .sort((a, b) => a.number - b.number)
  .map((t) => t.name)

/** libzmq's number of each type, by name (ZMQ_PAIR = 0 …). */
export const SOCKET_TYPE_NUMBER: Readonly<Record<SocketTypeName, number>> = Object.freeze(
  Object.fromEntries(BY_NUMBER.map((n) => [n, SOCKET_TYPES[n].number])) as Record<SocketTypeName, number>,
)

/** The type with libzmq number `n`, or undefined. */
export function socketTypeName(n: number): SocketTypeName | undefined {
  return Number.isInteger(n) ? BY_NUMBER[n] : undefined
}

/** Whether a socket of type `ours` may talk to a peer that announced `theirs`. */
export function isCompatible(ours: string, theirs: string): boolean {
  const t = SOCKET_TYPES[ours as SocketTypeName] as SocketTypeFacts | undefined
  return t !== undefined && (t.peers as readonly string[]).includes(theirs)
}

/**
 * ZMTP 2.0 socket-type octets, indexed by value: RFC 15 numbers PAIR..PUSH 0..8, as libzmq's
 * numbers do. libzmq sends its own ZMQ_XPUB (9) and ZMQ_XSUB (10) for those types, so we
 * understand them too.
 */
const ZMTP2_TYPES: readonly string[] = BY_NUMBER.filter((n) => SOCKET_TYPES[n].number <= 10)

/**
 * The octet we announce to a ZMTP 2.0 peer. RFC 15: "XPUB and XSUB are implemented at the
 * protocol level as PUB and SUB", so they go out as PUB and SUB, which every 2.0 peer knows.
 * Undefined for a type 2.0 cannot name.
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
