/**
 * `setsockopt` / `getsockopt` of the zeromq 5.x API, mapped onto the option properties of
 * omq's sockets (zeromq.js v6 names). One table says, per libzmq option number, which property
 * it is, how 5.x values convert (libzmq booleans are the ints 0/1, string options may come as
 * Buffers) and which socket types have it.
 */
import { ZmqError } from "../errors.js"
import type { Socket as CoreSocket, SocketTypeName } from "../sockets/socket.js"
import * as C from "./constants.js"

/** A core socket seen as a bag of option properties. */
type Target = CoreSocket & Record<string, unknown>

interface OptionSpec {
  /** The libzmq name, for error messages. */
  readonly name: string
  /** Socket types that have the option (libzmq answers EINVAL on the others); absent: all. */
  readonly only?: readonly SocketTypeName[]
  readonly get?: (s: Target) => unknown
  readonly set?: (s: Target, value: unknown) => void
}

/** libzmq booleans are ints: any non-zero number is true. */
function truthy(v: unknown): boolean {
  return typeof v === "number" ? v !== 0 : Boolean(v)
}

/** String options arrive as strings or (from property assignment in 5.x code) as Buffers. */
function text(v: unknown): unknown {
  return Buffer.isBuffer(v) ? v.toString("utf8") : v
}

/** An option read and written as the property as it is (ints, keys, routing ids). */
function plain(name: string, property: string, only?: readonly SocketTypeName[]): OptionSpec {
  return {
    name,
    ...(only && { only }),
    get: (s) => s[property],
    set: (s, v) => {
      s[property] = v
    },
  }
}

/** A boolean property, read back as 0/1 as libzmq does. */
function flag(name: string, property: string, only?: readonly SocketTypeName[]): OptionSpec {
  return {
    name,
    ...(only && { only }),
    get: (s) => (s[property] ? 1 : 0),
    set: (s, v) => {
      s[property] = truthy(v)
    },
  }
}

function string(name: string, property: string): OptionSpec {
  return {
    name,
    get: (s) => s[property],
    set: (s, v) => {
      s[property] = text(v)
    },
  }
}

function unsupported(name: string): OptionSpec {
  const fail = (): never => {
    throw new ZmqError("ENOTSUP", `${name} is not supported in compatibility mode`)
  }
  return { name, get: fail, set: fail }
}

const MECHANISMS: Readonly<Record<string, number>> = { plain: 1, curve: 2 }

const OPTIONS = new Map<number, OptionSpec>([
  [C.ZMQ_AFFINITY, plain("ZMQ_AFFINITY", "affinity")],
  [C.ZMQ_IDENTITY, plain("ZMQ_IDENTITY", "routingId")],
  [C.ZMQ_SUBSCRIBE, { name: "ZMQ_SUBSCRIBE", only: ["SUB"], set: (s, v) => (s as unknown as Subscribing).subscribe(v as string) }],
  [C.ZMQ_UNSUBSCRIBE, { name: "ZMQ_UNSUBSCRIBE", only: ["SUB"], set: (s, v) => (s as unknown as Subscribing).unsubscribe(v as string) }],
  [C.ZMQ_RATE, plain("ZMQ_RATE", "rate")],
  [C.ZMQ_RECOVERY_IVL, plain("ZMQ_RECOVERY_IVL", "recoveryInterval")],
  [C.ZMQ_SNDBUF, plain("ZMQ_SNDBUF", "sendBufferSize")],
  [C.ZMQ_RCVBUF, plain("ZMQ_RCVBUF", "receiveBufferSize")],
  [C.ZMQ_RCVMORE, unsupported("ZMQ_RCVMORE")],
  [C.ZMQ_FD, unsupported("ZMQ_FD")],
  [C.ZMQ_EVENTS, { name: "ZMQ_EVENTS", get: (s) => (s.readable ? C.ZMQ_POLLIN : 0) | (s.writable ? C.ZMQ_POLLOUT : 0) }],
  [C.ZMQ_TYPE, { name: "ZMQ_TYPE", get: (s) => s.type }],
  [C.ZMQ_LINGER, plain("ZMQ_LINGER", "linger")],
  [C.ZMQ_RECONNECT_IVL, plain("ZMQ_RECONNECT_IVL", "reconnectInterval")],
  [C.ZMQ_BACKLOG, plain("ZMQ_BACKLOG", "backlog")],
  [C.ZMQ_RECONNECT_IVL_MAX, plain("ZMQ_RECONNECT_IVL_MAX", "reconnectMaxInterval")],
  [C.ZMQ_MAXMSGSIZE, plain("ZMQ_MAXMSGSIZE", "maxMessageSize")],
  [C.ZMQ_SNDHWM, plain("ZMQ_SNDHWM", "sendHighWaterMark")],
  [C.ZMQ_RCVHWM, plain("ZMQ_RCVHWM", "receiveHighWaterMark")],
  [C.ZMQ_MULTICAST_HOPS, plain("ZMQ_MULTICAST_HOPS", "multicastHops")],
  [C.ZMQ_RCVTIMEO, plain("ZMQ_RCVTIMEO", "receiveTimeout")],
  [C.ZMQ_SNDTIMEO, plain("ZMQ_SNDTIMEO", "sendTimeout")],
  [
    C.ZMQ_IPV4ONLY,
    {
      name: "ZMQ_IPV4ONLY",
      get: (s) => (s.ipv6 ? 0 : 1),
      set: (s, v) => {
        s.ipv6 = !truthy(v)
      },
    },
  ],
  [C.ZMQ_LAST_ENDPOINT, { name: "ZMQ_LAST_ENDPOINT", get: (s) => s.lastEndpoint }],
  [C.ZMQ_ROUTER_MANDATORY, flag("ZMQ_ROUTER_MANDATORY", "mandatory", ["ROUTER"])],
  [C.ZMQ_TCP_KEEPALIVE, plain("ZMQ_TCP_KEEPALIVE", "tcpKeepalive")],
  [C.ZMQ_TCP_KEEPALIVE_CNT, plain("ZMQ_TCP_KEEPALIVE_CNT", "tcpKeepaliveCount")],
  [C.ZMQ_TCP_KEEPALIVE_IDLE, plain("ZMQ_TCP_KEEPALIVE_IDLE", "tcpKeepaliveIdle")],
  [C.ZMQ_TCP_KEEPALIVE_INTVL, plain("ZMQ_TCP_KEEPALIVE_INTVL", "tcpKeepaliveInterval")],
  [C.ZMQ_TCP_ACCEPT_FILTER, string("ZMQ_TCP_ACCEPT_FILTER", "tcpAcceptFilter")],
  [C.ZMQ_DELAY_ATTACH_ON_CONNECT, flag("ZMQ_DELAY_ATTACH_ON_CONNECT", "immediate")],
  [
    C.ZMQ_XPUB_VERBOSE,
    {
      // Write-only in libzmq too.
      name: "ZMQ_XPUB_VERBOSE",
      only: ["XPUB"],
      set: (s, v) => {
        s.verbosity = truthy(v) ? "allSubs" : null
      },
    },
  ],
  [C.ZMQ_ROUTER_RAW, unsupported("ZMQ_ROUTER_RAW")],
  [C.ZMQ_IPV6, flag("ZMQ_IPV6", "ipv6")],
  [C.ZMQ_MECHANISM, { name: "ZMQ_MECHANISM", get: (s) => MECHANISMS[s.securityMechanism ?? ""] ?? 0 }],
  [C.ZMQ_PLAIN_SERVER, flag("ZMQ_PLAIN_SERVER", "plainServer")],
  [C.ZMQ_PLAIN_USERNAME, string("ZMQ_PLAIN_USERNAME", "plainUsername")],
  [C.ZMQ_PLAIN_PASSWORD, string("ZMQ_PLAIN_PASSWORD", "plainPassword")],
  [C.ZMQ_CURVE_SERVER, flag("ZMQ_CURVE_SERVER", "curveServer")],
  [C.ZMQ_CURVE_PUBLICKEY, plain("ZMQ_CURVE_PUBLICKEY", "curvePublicKey")],
  [C.ZMQ_CURVE_SECRETKEY, plain("ZMQ_CURVE_SECRETKEY", "curveSecretKey")],
  [C.ZMQ_CURVE_SERVERKEY, plain("ZMQ_CURVE_SERVERKEY", "curveServerKey")],
  [C.ZMQ_ZAP_DOMAIN, string("ZMQ_ZAP_DOMAIN", "zapDomain")],
  [C.ZMQ_ROUTER_HANDOVER, flag("ZMQ_ROUTER_HANDOVER", "handover", ["ROUTER"])],
  [C.ZMQ_HEARTBEAT_IVL, plain("ZMQ_HEARTBEAT_IVL", "heartbeatInterval")],
  [C.ZMQ_HEARTBEAT_TTL, plain("ZMQ_HEARTBEAT_TTL", "heartbeatTimeToLive")],
  [C.ZMQ_HEARTBEAT_TIMEOUT, plain("ZMQ_HEARTBEAT_TIMEOUT", "heartbeatTimeout")],
  [C.ZMQ_CONNECT_TIMEOUT, plain("ZMQ_CONNECT_TIMEOUT", "connectTimeout")],
])

interface Subscribing {
  subscribe(topic: string | Buffer): void
  unsubscribe(topic: string | Buffer): void
}

/**
 * The 5.x short option names: `sock.identity = "a"`, `sock.getsockopt("linger")`,
 * `zmq.socket("req", { backlog: 30 })`. Exported as `options`, as zeromq 5.x did.
 */
export const options = {
  _fd: C.ZMQ_FD,
  _ioevents: C.ZMQ_EVENTS,
  _receiveMore: C.ZMQ_RCVMORE,
  _subscribe: C.ZMQ_SUBSCRIBE,
  _unsubscribe: C.ZMQ_UNSUBSCRIBE,
  affinity: C.ZMQ_AFFINITY,
  backlog: C.ZMQ_BACKLOG,
  identity: C.ZMQ_IDENTITY,
  linger: C.ZMQ_LINGER,
  rate: C.ZMQ_RATE,
  rcvbuf: C.ZMQ_RCVBUF,
  last_endpoint: C.ZMQ_LAST_ENDPOINT,
  reconnect_ivl: C.ZMQ_RECONNECT_IVL,
  recovery_ivl: C.ZMQ_RECOVERY_IVL,
  sndbuf: C.ZMQ_SNDBUF,
  mechanism: C.ZMQ_MECHANISM,
  plain_server: C.ZMQ_PLAIN_SERVER,
  plain_username: C.ZMQ_PLAIN_USERNAME,
  plain_password: C.ZMQ_PLAIN_PASSWORD,
  curve_server: C.ZMQ_CURVE_SERVER,
  curve_publickey: C.ZMQ_CURVE_PUBLICKEY,
  curve_secretkey: C.ZMQ_CURVE_SECRETKEY,
  curve_serverkey: C.ZMQ_CURVE_SERVERKEY,
  zap_domain: C.ZMQ_ZAP_DOMAIN,
  heartbeat_ivl: C.ZMQ_HEARTBEAT_IVL,
  heartbeat_ttl: C.ZMQ_HEARTBEAT_TTL,
  heartbeat_timeout: C.ZMQ_HEARTBEAT_TIMEOUT,
  connect_timeout: C.ZMQ_CONNECT_TIMEOUT,
} as const

/** A short option name of `options`. */
export type OptionName = keyof typeof options

function lookup(option: number | string, socket: CoreSocket, access: "get" | "set"): OptionSpec {
  const n = typeof option === "number" ? option : (options as Record<string, number>)[option]
  const spec = n === undefined ? undefined : OPTIONS.get(n)
  if (spec === undefined) throw new ZmqError("EINVAL", `Unknown option: ${String(option)}`)
  if (spec.only && !spec.only.includes(socket.socketTypeName)) {
    throw new ZmqError("EINVAL", `${spec.name} is not an option of ${socket.socketTypeName} sockets`)
  }
  if (spec[access] === undefined) {
    throw new ZmqError("EINVAL", `${spec.name} is ${access === "get" ? "write" : "read"}-only`)
  }
  return spec
}

/** zmq_setsockopt: sets an option by number or short name. Throws EINVAL for unknown or invalid ones. */
export function setOption(socket: CoreSocket, option: number | string, value: unknown): void {
  lookup(option, socket, "set").set!(socket as Target, value)
}

/** zmq_getsockopt: reads an option by number or short name. Throws EINVAL for unknown ones. */
export function getOption(socket: CoreSocket, option: number | string): unknown {
  return lookup(option, socket, "get").get!(socket as Target)
}
