/**
 * Endpoint parsing: `tcp://host:port`, `ipc://path`, `inproc://name`.
 * Bad addresses raise a ZmqError with the code libzmq would report
 * (EINVAL for a malformed address, EPROTONOSUPPORT for an unknown transport).
 */
import { ZmqError } from "../errors.js"

export type Endpoint =
  | { transport: "tcp"; host: string; port: number; source?: { host: string; port: number } | undefined; raw: string }
  | { transport: "ipc"; path: string; raw: string }
  | { transport: "inproc"; name: string; raw: string }

export function invalid(address: string, why = "Invalid argument"): ZmqError {
  return new ZmqError("EINVAL", why, address)
}

function parseHostPort(address: string, hp: string, forBind: boolean): { host: string; port: number } {
  const colon = hp.lastIndexOf(":")
  if (colon <= 0) throw invalid(address)
  let host = hp.slice(0, colon)
  const portStr = hp.slice(colon + 1)
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1)
  if (host.length === 0) throw invalid(address)
  let port: number
  if (portStr === "*" || portStr === "0") {
    if (!forBind) throw invalid(address)
    port = 0
  } else {
    if (!/^\d{1,5}$/.test(portStr)) throw invalid(address)
    port = Number(portStr)
    if (port < 1 || port > 65535) throw invalid(address)
  }
  if (host === "*") {
    if (!forBind) throw invalid(address)
    host = "0.0.0.0"
  }
  return { host, port }
}

export function parseEndpoint(address: string, forBind: boolean): Endpoint {
  if (typeof address !== "string") throw new TypeError("Address must be a string")
  const sep = address.indexOf("://")
  if (sep < 0) throw invalid(address)
  const proto = address.slice(0, sep)
  const rest = address.slice(sep + 3)
  switch (proto) {
    case "tcp": {
      const semi = rest.indexOf(";")
      if (semi >= 0 && !forBind) {
        return {
          transport: "tcp",
          source: parseHostPort(address, rest.slice(0, semi).includes(":") ? rest.slice(0, semi) : `${rest.slice(0, semi)}:0`, true),
          ...parseHostPort(address, rest.slice(semi + 1), false),
          raw: address,
        }
      }
      // libzmq binds on the part after a source address (`tcp://src;host:port`).
      return { transport: "tcp", ...parseHostPort(address, semi >= 0 ? rest.slice(semi + 1) : rest, forBind), raw: address }
    }
    case "ipc": {
      if (rest.length === 0) throw invalid(address)
      return { transport: "ipc", path: rest, raw: address }
    }
    case "inproc": {
      if (rest.length === 0) throw invalid(address)
      return { transport: "inproc", name: rest, raw: address }
    }
    default:
      throw unsupportedProtocol(proto, address)
  }
}

/** libzmq knows these transports but they need socket types or builds omq does not have. */
const INCOMPATIBLE = new Set(["udp", "pgm", "epgm", "norm", "vmci", "tipc"])

function unsupportedProtocol(proto: string, address: string): ZmqError {
  if (INCOMPATIBLE.has(proto)) return new ZmqError("ENOCOMPATPROTO", "The protocol is not compatible with the socket type", address)
  return new ZmqError("EPROTONOSUPPORT", "Protocol not supported", address)
}

/** What libzmq checks of an address given to disconnect/unbind before looking it up: its protocol. */
export function checkProtocol(address: string): void {
  if (typeof address !== "string") throw new TypeError("Address must be a string")
  const sep = address.indexOf("://")
  if (sep < 0) throw invalid(address)
  const proto = address.slice(0, sep)
  if (proto !== "tcp" && proto !== "ipc" && proto !== "inproc") throw unsupportedProtocol(proto, address)
}

/** `tcp://host:port` in the form libzmq reports (IPv6 hosts in brackets). */
export function formatTcp(host: string, port: number): string {
  return host.includes(":") ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`
}
