/**
 * Socket options with zeromq.js v6 names, libzmq defaults and zeromq.js's validation: a value
 * of the wrong JavaScript type throws a TypeError ("Option value must be a number"), a value
 * libzmq refuses throws a ZmqError EINVAL ("Invalid argument"). Numbers are truncated to
 * integers as zeromq.js converts them (`linger: 1.5` sets 1).
 */
import { ZmqError } from "../errors.js"
import { decode as z85decode, encode as z85encode } from "../security/z85.js"
import type { SecuritySettings } from "./security.js"

const MAX_SAFE = Number.MAX_SAFE_INTEGER

function invalidValue(): ZmqError {
  return new ZmqError("EINVAL", "Invalid argument")
}

/**
 * A number option: TypeError unless a number; converted to the C type as zeromq.js converts
 * it (int32: ToInt32, so 1.5 → 1, NaN → 0, 2^32 + 5 → 5; int64: truncated; uint64: negative
 * → 0); EINVAL outside [min, max].
 */
function int(value: unknown, min: number, max = Number.POSITIVE_INFINITY, kind: "int32" | "int64" | "uint64" = "int32"): number {
  if (typeof value !== "number") throw new TypeError("Option value must be a number")
  let v: number
  if (kind === "int32") v = value | 0
  else v = Number.isNaN(value) ? 0 : Number.isFinite(value) ? Math.trunc(value) : value > 0 ? MAX_SAFE : -MAX_SAFE
  if (kind === "uint64" && v < 0) v = 0
  if (v < min || v > max) throw invalidValue()
  return v
}

function bool(value: unknown): boolean {
  if (typeof value !== "boolean") throw new TypeError("Option value must be a boolean")
  return value
}

/** A string option: a string, a Buffer (read as UTF-8) or null. */
function str(value: unknown, max = 255): string | null {
  if (value === null) return null
  let v: string
  if (typeof value === "string") v = value
  else if (Buffer.isBuffer(value)) v = value.toString()
  else throw new TypeError("Option value must be a string or buffer")
  if (Buffer.byteLength(v) > max) throw invalidValue()
  return v
}

/**
 * Gives read-only accessors of `proto` a setter that throws as zeromq.js's native Socket does
 * (a getter-only property there; the message names `#<Socket>` whatever the subclass).
 */
export function defineReadOnly(proto: object, names: readonly string[]): void {
  for (const name of names) {
    const d = Object.getOwnPropertyDescriptor(proto, name)
    if (d?.get === undefined) throw new Error(`no getter ${name}`)
    Object.defineProperty(proto, name, {
      ...d,
      set() {
        throw new TypeError(`Cannot set property ${name} of #<Socket> which has only a getter`)
      },
    })
  }
}

/** A CURVE key: 40 Z85 characters or 32 bytes. */
function curveKey(v: unknown): Buffer | null {
  if (v === null) return null
  if (typeof v === "string") {
    if (v.length === 40) {
      try {
        return z85decode(v)
      } catch {
        /* fall through */
      }
    }
  } else if (v instanceof Uint8Array) {
    if (v.length === 32) return Buffer.from(v)
    if (v.length === 40) return curveKey(Buffer.from(v).toString("latin1"))
  } else {
    throw new TypeError("Option value must be a string or buffer")
  }
  throw invalidValue()
}

/**
 * A routing id: 1 to 255 bytes. libzmq reserves ids starting with a zero byte for the ones it
 * generates but does not refuse them; neither does omq.
 */
export function validRoutingId(v: unknown): Buffer {
  const b = typeof v === "string" ? Buffer.from(v) : Buffer.isBuffer(v) ? v : null
  if (b === null) throw new TypeError("Option value must be a string or buffer")
  if (b.length === 0 || b.length > 255) throw new ZmqError("EINVAL", "Invalid argument")
  return b
}

const UINT64_OPTIONS = new Set(["affinity", "vmciBufferSize", "vmciBufferMinSize", "vmciBufferMaxSize"])

/**
 * Options of zeromq.js that omq accepts, validates and keeps but that have no effect here
 * (multicast, VMCI, GSSAPI, kernel buffer sizes and keepalive details Node cannot set, ...):
 * [name, kind, default, minimum].
 */
const INERT_OPTIONS: ReadonlyArray<readonly [string, "int" | "bool" | "string", number | boolean | string | null, number?]> = [
  ["affinity", "int", 0, 0],
  ["rate", "int", 100, 1],
  ["recoveryInterval", "int", 10000, 0],
  ["multicastHops", "int", 1, 1],
  ["multicastMaxTransportDataUnit", "int", 1500, 0],
  ["sendBufferSize", "int", -1, -1],
  ["receiveBufferSize", "int", -1, -1],
  ["tcpKeepaliveCount", "int", -1, -1],
  ["tcpKeepaliveInterval", "int", -1, -1],
  ["tcpAcceptFilter", "string", null],
  ["tcpMaxRetransmitTimeout", "int", 0, 0],
  ["ipv6", "bool", false],
  ["typeOfService", "int", 0, 0],
  ["socksProxy", "string", null],
  ["interface", "string", null],
  ["loopbackFastPath", "bool", false],
  ["vmciBufferSize", "int", 0, 0],
  ["vmciBufferMinSize", "int", 0, 0],
  ["vmciBufferMaxSize", "int", 0, 0],
  ["vmciConnectTimeout", "int", -1, -1],
  ["gssapiServer", "bool", false],
  ["gssapiPrincipal", "string", null],
  ["gssapiServicePrincipal", "string", null],
  ["gssapiPlainText", "bool", false],
]

export abstract class SocketOptionsBase {
  /** @internal Called after an option was set (the socket warns when it cannot take effect any more). */
  protected optionChanged(_name: string): void {}

  /** @internal */
  protected routingIdBuffer: Buffer | undefined
  /** @internal */
  protected _lastEndpoint: string | null = null
  private _linger = -1
  private _sendHwm = 1000
  private _recvHwm = 1000
  private _sendTimeout = -1
  private _recvTimeout = -1
  private _reconnectInterval = 100
  private _reconnectMaxInterval = 0
  private _maxMessageSize = -1
  private _handshakeInterval = 30_000
  private _immediate = false
  private _backlog = 100
  private _conflate = false

  /** ZMQ_LAST_ENDPOINT: the last endpoint bound, wildcards resolved (`tcp://127.0.0.1:37411`). */
  get lastEndpoint(): string | null {
    return this._lastEndpoint
  }

  /**
   * ZMQ_LINGER: how long (ms) queued outbound messages are still written after
   * `close()`. -1 (default) waits for connected peers until done, 0 drops them.
   */
  get linger(): number {
    return this._linger
  }
  set linger(v: number) {
    this._linger = int(v, -1)
    this.optionChanged("linger")
  }

  /**
   * ZMQ_SNDHWM: most messages queued per peer for sending (default 1000; 0 = no
   * limit). At the limit `send()` waits (PUSH, DEALER, PAIR) or drops (PUB).
   */
  get sendHighWaterMark(): number {
    return this._sendHwm
  }
  set sendHighWaterMark(v: number) {
    this._sendHwm = int(v, 0)
    this.optionChanged("sendHighWaterMark")
  }

  /** ZMQ_RCVHWM: most messages queued per peer on receipt (default 1000; 0 = no limit). Past it, reading from that peer pauses. */
  get receiveHighWaterMark(): number {
    return this._recvHwm
  }
  set receiveHighWaterMark(v: number) {
    this._recvHwm = int(v, 0)
    this.optionChanged("receiveHighWaterMark")
  }

  /** ZMQ_SNDTIMEO: ms `send()` may wait before rejecting with EAGAIN; -1 (default) waits forever, 0 never waits. */
  get sendTimeout(): number {
    return this._sendTimeout
  }
  set sendTimeout(v: number) {
    this._sendTimeout = int(v, -1)
    this.optionChanged("sendTimeout")
  }

  /** ZMQ_RCVTIMEO: ms `receive()` may wait before rejecting with EAGAIN; -1 (default) waits forever, 0 never waits. */
  get receiveTimeout(): number {
    return this._recvTimeout
  }
  set receiveTimeout(v: number) {
    this._recvTimeout = int(v, -1)
    this.optionChanged("receiveTimeout")
  }

  /** ZMQ_RECONNECT_IVL: ms between reconnection attempts (default 100); -1 disables reconnection. */
  get reconnectInterval(): number {
    return this._reconnectInterval
  }
  set reconnectInterval(v: number) {
    this._reconnectInterval = int(v, -1)
    this.optionChanged("reconnectInterval")
  }

  /** ZMQ_RECONNECT_IVL_MAX: upper bound (ms) for the doubling reconnect interval; 0 (default) keeps it constant. */
  get reconnectMaxInterval(): number {
    return this._reconnectMaxInterval
  }
  set reconnectMaxInterval(v: number) {
    this._reconnectMaxInterval = int(v, 0)
    this.optionChanged("reconnectMaxInterval")
  }

  /** ZMQ_MAXMSGSIZE: largest inbound message in bytes; a peer sending more is disconnected. -1 (default) = no limit. */
  get maxMessageSize(): number {
    return this._maxMessageSize
  }
  set maxMessageSize(v: number) {
    this._maxMessageSize = int(v, -MAX_SAFE, MAX_SAFE, "int64")
    this.optionChanged("maxMessageSize")
  }

  /** ZMQ_HANDSHAKE_IVL: ms a new connection has to complete the ZMTP handshake (default 30000; 0 = no limit). */
  get handshakeInterval(): number {
    return this._handshakeInterval
  }
  set handshakeInterval(v: number) {
    this._handshakeInterval = int(v, 0)
    this.optionChanged("handshakeInterval")
  }

  /** ZMQ_IMMEDIATE: queue messages only to completed connections (default false). */
  get immediate(): boolean {
    return this._immediate
  }
  set immediate(v: boolean) {
    this._immediate = bool(v)
    this.optionChanged("immediate")
  }

  /**
   * ZMQ_CONFLATE: keep only the last message in each peer's queues (default
   * false). Multipart messages are not supported with it, as in libzmq.
   */
  get conflate(): boolean {
    return this._conflate
  }
  set conflate(v: boolean) {
    this._conflate = bool(v)
    this.optionChanged("conflate")
  }

  /** ZMQ_BACKLOG: accepted for compatibility; Node's listen backlog is used as is. */
  get backlog(): number {
    return this._backlog
  }
  set backlog(v: number) {
    this._backlog = int(v, 0)
    this.optionChanged("backlog")
  }

  /**
   * ZMQ_ROUTING_ID: the identity this socket announces to ROUTER peers
   * (1-255 bytes). Default: none, so the peer
   * generates one.
   */
  get routingId(): string | null {
    return this.routingIdBuffer === undefined ? null : this.routingIdBuffer.toString()
  }
  set routingId(v: string | Buffer | null) {
    this.routingIdBuffer = v === null ? undefined : validRoutingId(v)
    this.optionChanged("routingId")
  }

  /** @internal The routing id as bytes (what a ZMTP 1.0/2.0 or ZWS 2.0 peer gets as our identity). */
  get routingIdBytes(): Buffer | undefined {
    return this.routingIdBuffer
  }

  private _heartbeatInterval = 0
  private _heartbeatTimeout = -1
  private _heartbeatTtl = 0
  private _connectTimeout = 0
  private _tcpKeepalive = -1
  private _tcpKeepaliveIdle = -1

  /** ZMQ_HEARTBEAT_IVL: ms between ZMTP PINGs on each connection (0, the default, disables heartbeats). */
  get heartbeatInterval(): number {
    return this._heartbeatInterval
  }
  set heartbeatInterval(v: number) {
    this._heartbeatInterval = int(v, 0)
    this.optionChanged("heartbeatInterval")
  }

  /** ZMQ_HEARTBEAT_TIMEOUT: ms to wait for any traffic after a PING before dropping the peer (-1: heartbeatInterval). */
  get heartbeatTimeout(): number {
    return this._heartbeatTimeout
  }
  set heartbeatTimeout(v: number) {
    this._heartbeatTimeout = int(v, -1)
    this.optionChanged("heartbeatTimeout")
  }

  /** ZMQ_HEARTBEAT_TTL: ms the peer should wait for traffic from us before dropping us, sent in our PINGs (0: none; 100 ms granularity). */
  get heartbeatTimeToLive(): number {
    return this._heartbeatTtl
  }
  set heartbeatTimeToLive(v: number) {
    this._heartbeatTtl = int(v, 0, 6553500)
    this.optionChanged("heartbeatTimeToLive")
  }

  /** ZMQ_CONNECT_TIMEOUT: ms a TCP connect attempt may take before it is abandoned and retried (0: the OS decides). */
  get connectTimeout(): number {
    return this._connectTimeout
  }
  set connectTimeout(v: number) {
    this._connectTimeout = int(v, 0)
    this.optionChanged("connectTimeout")
  }

  /** ZMQ_TCP_KEEPALIVE: 1 enables SO_KEEPALIVE, 0 disables it, -1 (default) leaves the OS default. */
  get tcpKeepalive(): number {
    return this._tcpKeepalive
  }
  set tcpKeepalive(v: number) {
    this._tcpKeepalive = int(v, -1, 1)
    this.optionChanged("tcpKeepalive")
  }

  /** ZMQ_TCP_KEEPALIVE_IDLE: seconds of idleness before keepalive probes (-1: OS default). */
  get tcpKeepaliveIdle(): number {
    return this._tcpKeepaliveIdle
  }
  set tcpKeepaliveIdle(v: number) {
    this._tcpKeepaliveIdle = int(v, -1)
    this.optionChanged("tcpKeepaliveIdle")
  }

  /** Inert options' values (see INERT_OPTIONS; accessors are defined below the class). */
  /** @internal */
  readonly inertOptions: Record<string, unknown> = Object.fromEntries(INERT_OPTIONS.map(([n, , d]) => [n, d]))

  /** ZMQ_GSSAPI_PRINCIPAL_NAMETYPE: accepted and kept (no GSSAPI here). */
  gssapiPrincipalNameType: "hostBased" | "userName" | "krb5Principal" = "hostBased"
  /** ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE: accepted and kept (no GSSAPI here). */
  gssapiServicePrincipalNameType: "hostBased" | "userName" | "krb5Principal" = "hostBased"

  // ---- wss:// (libzmq's draft ZMQ_WSS_* options, as omq names them) ----
  /** ZMQ_WSS_KEY_PEM: a wss:// server's private key, PEM (null: none; bind fails without one). */
  wssKeyPem: string | null = null
  /** ZMQ_WSS_CERT_PEM: a wss:// server's certificate (chain), PEM. */
  wssCertPem: string | null = null
  /** ZMQ_WSS_TRUST_PEM: certificates a wss:// client trusts, PEM (null: the system's, see wssTrustSystem). */
  wssTrustPem: string | null = null
  /** ZMQ_WSS_HOSTNAME: the name a wss:// client checks the server's certificate against (null: the address's host). */
  wssHostname: string | null = null
  /** ZMQ_WSS_TRUST_SYSTEM: a wss:// client also trusts the system's certificate authorities (default true). */
  wssTrustSystem = true

  // ---- security ----
  /** @internal */
  protected _plainServer = false
  /** @internal */
  protected _plainUsername: string | null = null
  /** @internal */
  protected _plainPassword: string | null = null
  /** @internal */
  protected _curveServer = false
  /** @internal */
  protected _curvePublicKey: Buffer | null = null
  /** @internal */
  protected _curveSecretKey: Buffer | null = null
  /** @internal */
  protected _curveServerKey: Buffer | null = null
  /** @internal */
  protected _zapDomain: string | null = null
  private _zapEnforceDomain = false

  /** ZMQ_PLAIN_SERVER: act as PLAIN server (checks credentials with ZAP). */
  get plainServer(): boolean {
    return this._plainServer
  }
  set plainServer(v: boolean) {
    this._plainServer = bool(v)
    this.optionChanged("plainServer")
  }

  /** ZMQ_PLAIN_USERNAME: makes this socket a PLAIN client with this user name. */
  get plainUsername(): string | null {
    return this._plainUsername
  }
  set plainUsername(v: string | null) {
    this._plainUsername = str(v)
    this.optionChanged("plainUsername")
  }

  /** ZMQ_PLAIN_PASSWORD: the PLAIN client's password. */
  get plainPassword(): string | null {
    return this._plainPassword
  }
  set plainPassword(v: string | null) {
    this._plainPassword = str(v)
    this.optionChanged("plainPassword")
  }

  /** ZMQ_CURVE_SERVER: act as CURVE server (needs curveSecretKey). */
  get curveServer(): boolean {
    return this._curveServer
  }
  set curveServer(v: boolean) {
    this._curveServer = bool(v)
    this.optionChanged("curveServer")
  }

  /** ZMQ_CURVE_PUBLICKEY: this socket's long-term public key (Z85 string or 32 bytes; read back as Z85). */
  get curvePublicKey(): string | null {
    return this._curvePublicKey && z85encode(this._curvePublicKey)
  }
  set curvePublicKey(v: string | Buffer | null) {
    this._curvePublicKey = curveKey(v)
    this.optionChanged("curvePublicKey")
  }

  /** ZMQ_CURVE_SECRETKEY: this socket's long-term secret key (Z85 string or 32 bytes). */
  get curveSecretKey(): string | null {
    return this._curveSecretKey && z85encode(this._curveSecretKey)
  }
  set curveSecretKey(v: string | Buffer | null) {
    this._curveSecretKey = curveKey(v)
    this.optionChanged("curveSecretKey")
  }

  /** ZMQ_CURVE_SERVERKEY: the server's public key; makes this socket a CURVE client. */
  get curveServerKey(): string | null {
    return this._curveServerKey && z85encode(this._curveServerKey)
  }
  set curveServerKey(v: string | Buffer | null) {
    this._curveServerKey = curveKey(v)
    this.optionChanged("curveServerKey")
  }

  /** ZMQ_ZAP_DOMAIN: the ZAP domain sent to the handler; for NULL sockets, setting it turns ZAP on. */
  get zapDomain(): string | null {
    return this._zapDomain
  }
  set zapDomain(v: string | null) {
    this._zapDomain = str(v)
    this.optionChanged("zapDomain")
  }

  /** ZMQ_ZAP_ENFORCE_DOMAIN: refuse clients when no ZAP handler is installed. */
  get zapEnforceDomain(): boolean {
    return this._zapEnforceDomain
  }
  set zapEnforceDomain(v: boolean) {
    this._zapEnforceDomain = bool(v)
    this.optionChanged("zapEnforceDomain")
  }

  /** @internal The security options as one plain object (see security.ts). */
  securitySettings(): SecuritySettings {
    return {
      curveServer: this._curveServer,
      curvePublicKey: this._curvePublicKey,
      curveSecretKey: this._curveSecretKey,
      curveServerKey: this._curveServerKey,
      plainServer: this._plainServer,
      plainUsername: this._plainUsername,
      plainPassword: this._plainPassword,
      zapDomain: this._zapDomain,
      zapEnforceDomain: this._zapEnforceDomain,
      routingId: this.routingIdBuffer,
    }
  }

  /** ZMQ_MECHANISM: the security mechanism configured: null (NULL), "plain" or "curve". */
  get securityMechanism(): null | "plain" | "curve" {
    if (this._curveServer || this._curveServerKey !== null) return "curve"
    if (this._plainServer || this._plainUsername !== null) return "plain"
    return null
  }

  /** ZMQ_THREAD_SAFE: omq sockets live on one event loop; always false, as zeromq.js reports for classic socket types. */
  get threadSafe(): boolean {
    return false
  }
}

/** Declarations of the inert options' accessors (defined on the prototype below). */
export interface SocketOptionsBase {
  /** ZMQ_AFFINITY: accepted and kept (no I/O threads here). */
  affinity: number
  /** ZMQ_RATE (multicast): accepted and kept. */
  rate: number
  /** ZMQ_RECOVERY_IVL (multicast): accepted and kept. */
  recoveryInterval: number
  /** ZMQ_MULTICAST_HOPS: accepted and kept. */
  multicastHops: number
  /** ZMQ_MULTICAST_MAXTPDU: accepted and kept. */
  multicastMaxTransportDataUnit: number
  /** ZMQ_SNDBUF: accepted and kept (Node sets no kernel buffer sizes). */
  sendBufferSize: number
  /** ZMQ_RCVBUF: accepted and kept (Node sets no kernel buffer sizes). */
  receiveBufferSize: number
  /** ZMQ_TCP_KEEPALIVE_CNT: accepted and kept (Node cannot set it). */
  tcpKeepaliveCount: number
  /** ZMQ_TCP_KEEPALIVE_INTVL: accepted and kept (Node cannot set it). */
  tcpKeepaliveInterval: number
  /** ZMQ_TCP_ACCEPT_FILTER: accepted and kept. */
  tcpAcceptFilter: string | null
  /** ZMQ_TCP_MAXRT: accepted and kept. */
  tcpMaxRetransmitTimeout: number
  /** ZMQ_IPV6: accepted and kept (IPv6 addresses always work). */
  ipv6: boolean
  /** ZMQ_TOS: accepted and kept. */
  typeOfService: number
  /** ZMQ_SOCKS_PROXY: accepted and kept (no SOCKS support). */
  socksProxy: string | null
  /** ZMQ_BINDTODEVICE: accepted and kept. */
  interface: string | null
  /** ZMQ_LOOPBACK_FASTPATH (Windows only): accepted and kept. */
  loopbackFastPath: boolean
  /** ZMQ_VMCI_BUFFER_SIZE: accepted and kept. */
  vmciBufferSize: number
  /** ZMQ_VMCI_BUFFER_MIN_SIZE: accepted and kept. */
  vmciBufferMinSize: number
  /** ZMQ_VMCI_BUFFER_MAX_SIZE: accepted and kept. */
  vmciBufferMaxSize: number
  /** ZMQ_VMCI_CONNECT_TIMEOUT: accepted and kept. */
  vmciConnectTimeout: number
  /** ZMQ_GSSAPI_SERVER: accepted and kept (no GSSAPI here). */
  gssapiServer: boolean
  /** ZMQ_GSSAPI_PRINCIPAL: accepted and kept. */
  gssapiPrincipal: string | null
  /** ZMQ_GSSAPI_SERVICE_PRINCIPAL: accepted and kept. */
  gssapiServicePrincipal: string | null
  /** ZMQ_GSSAPI_PLAINTEXT: accepted and kept. */
  gssapiPlainText: boolean
}

for (const [name, kind, , min] of INERT_OPTIONS) {
  Object.defineProperty(SocketOptionsBase.prototype, name, {
    configurable: true,
    enumerable: false,
    get(this: SocketOptionsBase) {
      return this.inertOptions[name]
    },
    set(this: SocketOptionsBase, v: unknown) {
      this.inertOptions[name] =
        kind === "int" ? int(v, min ?? 0, Infinity, UINT64_OPTIONS.has(name) ? "uint64" : "int32") : kind === "bool" ? bool(v) : str(v)
      ;(this as unknown as { optionChanged(n: string): void }).optionChanged(name)
    },
  })
}
defineReadOnly(SocketOptionsBase.prototype, ["lastEndpoint", "securityMechanism", "threadSafe"])
