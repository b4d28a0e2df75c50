/**
 * Address parsing for tcp:// and ipc:// (the registry, registry.ts, finds the transport of
 * an address; inproc parses its own). Bad addresses raise a ZmqError with the code libzmq
 * would report (EINVAL for a malformed address).
 */
import { ZmqError } from "../errors.js"
import type { Endpoint } from "./transport.js"

export interface TcpEndpoint extends Endpoint {
  readonly transport: "tcp"
  readonly host: string
  readonly port: number
  /** The local address to connect from (`tcp://source;host:port`). */
  readonly source?: { host: string; port: number } | undefined
}

export interface IpcEndpoint extends Endpoint {
  readonly transport: "ipc"
  readonly path: string
}

export function invalid(address: string, why = "Invalid argument"): ZmqError {
  return new ZmqError("EINVAL", why, address)
}

export function parseHostPort(address: string, hp: string, forBind: boolean): { host: string; port: number } {
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

/** `tcp://host:port`, `tcp://*:*`, `tcp://eth0:5555`; for connect also `tcp://source;host:port`. */
export function parseTcp(address: string, forBind: boolean): TcpEndpoint {
  const rest = address.slice(address.indexOf("://") + 3)
  const semi = rest.indexOf(";")
  if (semi >= 0 && !forBind) {
    const src = rest.slice(0, semi)
    return {
      transport: "tcp",
      source: parseHostPort(address, src.includes(":") ? src : `${src}:0`, true),
      ...parseHostPort(address, rest.slice(semi + 1), false),
      raw: address,
    }
  }
  // libzmq binds on the part after a source address (`tcp://src;host:port`).
  return { transport: "tcp", ...parseHostPort(address, semi >= 0 ? rest.slice(semi + 1) : rest, forBind), raw: address }
}

/** `ipc://path` (`ipc://*` for a fresh path, `ipc://@name` for Linux's abstract namespace). */
export function parseIpc(address: string): IpcEndpoint {
  const path = address.slice(address.indexOf("://") + 3)
  if (path.length === 0) throw invalid(address)
  return { transport: "ipc", path, raw: address }
}

/** `tcp://host:port` in the form libzmq reports (IPv6 hosts in brackets). */
export function formatTcp(host: string, port: number): string {
  return host.includes(":") ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`
}
