/**
 * Transports by scheme. A socket finds the transport of an address here; a new transport
 * is one file in lib/transports/ and one `registerTransport` line in index.ts.
 */
import { ZmqError } from "../errors.js"
import { invalid } from "./address.js"
import type { Endpoint, Transport } from "./transport.js"

const transports = new Map<string, Transport>()

/** Makes `transport` serve addresses `<scheme>://…` (replacing one registered before). */
export function registerTransport(transport: Transport): void {
  transports.set(transport.scheme, transport)
}

/** libzmq knows these transports but they need socket types or builds omq does not have. */
const INCOMPATIBLE = new Set(["udp", "pgm", "epgm", "norm", "vmci", "tipc"])

/**
 * The transport of `address`. Throws TypeError for a non-string, EINVAL without `://`,
 * ENOCOMPATPROTO / EPROTONOSUPPORT for a scheme omq does not serve (as libzmq would).
 */
export function transportOf(address: unknown): Transport {
  if (typeof address !== "string") throw new TypeError("Address must be a string")
  const sep = address.indexOf("://")
  if (sep < 0) throw invalid(address)
  const scheme = address.slice(0, sep)
  const t = transports.get(scheme)
  if (t !== undefined) return t
  if (INCOMPATIBLE.has(scheme)) throw new ZmqError("ENOCOMPATPROTO", "The protocol is not compatible with the socket type", address)
  throw new ZmqError("EPROTONOSUPPORT", "Protocol not supported", address)
}

/** Parses `address` with its transport. */
export function parseAddress(address: unknown, forBind: boolean): { transport: Transport; endpoint: Endpoint } {
  const transport = transportOf(address)
  return { transport, endpoint: transport.parse(address as string, forBind) }
}
