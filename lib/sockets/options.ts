/**
 * Socket options with zeromq.js v6 names, libzmq defaults and validation.
 * Setting an invalid value throws a ZmqError with code EINVAL, as zeromq.js does.
 */
import { ZmqError } from "../errors.js"
import { decode as z85decode, encode as z85encode } from "../security/z85.js"
import type { SecuritySettings } from "./security.js"

function int(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ZmqError("EINVAL", `Invalid value for option ${name}: ${String(value)}`)
  }
  return value
}

function bool(name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new ZmqError("EINVAL", `Invalid value for option ${name}: ${String(value)}`)
  return value
}

/** A CURVE key: 40 Z85 characters or 32 bytes. */
function curveKey(name: string, v: unknown): Buffer | null {
  if (v === null) return null
  if (typeof v === "string") {
    if (v.length === 40) {
      try {
        return z85decode(v)
      } catch {
        /* fall through */
      }
    }
  } else if (v instanceof Uint8Array && v.length === 32) {
    return Buffer.from(v)
  }
  throw new ZmqError("EINVAL", `Invalid value for option ${name}: a CURVE key is 40 Z85 characters or 32 bytes`)
}

function str(name: string, v: unknown, max = 255): string | null {
  if (v === null) return null
  if (typeof v !== "string" || Buffer.byteLength(v) > max) throw new ZmqError("EINVAL", `Invalid value for option ${name}`)
  return v
}

/** A routing id: 1 to 255 bytes, not starting with a zero byte (reserved by libzmq for generated ids). */
export function validRoutingId(v: unknown): Buffer {
  const b = typeof v === "string" ? Buffer.from(v) : Buffer.isBuffer(v) ? v : null
  if (b === null || b.length === 0 || b.length > 255 || b[0] === 0) {
    throw new ZmqError("EINVAL", `Invalid routing id: ${String(v)}`)
  }
  return b
}

export abstract class SocketOptionsBase {
  protected routingIdBuffer: Buffer | undefined
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
    this._linger = int("linger", v, -1)
  }

  /**
   * ZMQ_SNDHWM: most messages queued per peer for sending (default 1000; 0 = no
   * limit). At the limit `send()` waits (PUSH, DEALER, PAIR) or drops (PUB).
   */
  get sendHighWaterMark(): number {
    return this._sendHwm
  }
  set sendHighWaterMark(v: number) {
    this._sendHwm = int("sendHighWaterMark", v, 0)
  }

  /** ZMQ_RCVHWM: most messages queued per peer on receipt (default 1000; 0 = no limit). Past it, reading from that peer pauses. */
  get receiveHighWaterMark(): number {
    return this._recvHwm
  }
  set receiveHighWaterMark(v: number) {
    this._recvHwm = int("receiveHighWaterMark", v, 0)
  }

  /** ZMQ_SNDTIMEO: ms `send()` may wait before rejecting with EAGAIN; -1 (default) waits forever, 0 never waits. */
  get sendTimeout(): number {
    return this._sendTimeout
  }
  set sendTimeout(v: number) {
    this._sendTimeout = int("sendTimeout", v, -1)
  }

  /** ZMQ_RCVTIMEO: ms `receive()` may wait before rejecting with EAGAIN; -1 (default) waits forever, 0 never waits. */
  get receiveTimeout(): number {
    return this._recvTimeout
  }
  set receiveTimeout(v: number) {
    this._recvTimeout = int("receiveTimeout", v, -1)
  }

  /** ZMQ_RECONNECT_IVL: ms between reconnection attempts (default 100); -1 disables reconnection. */
  get reconnectInterval(): number {
    return this._reconnectInterval
  }
  set reconnectInterval(v: number) {
    this._reconnectInterval = int("reconnectInterval", v, -1)
  }

  /** ZMQ_RECONNECT_IVL_MAX: upper bound (ms) for the doubling reconnect interval; 0 (default) keeps it constant. */
  get reconnectMaxInterval(): number {
    return this._reconnectMaxInterval
  }
  set reconnectMaxInterval(v: number) {
    this._reconnectMaxInterval = int("reconnectMaxInterval", v, 0)
  }

  /** ZMQ_MAXMSGSIZE: largest inbound message in bytes; a peer sending more is disconnected. -1 (default) = no limit. */
  get maxMessageSize(): number {
    return this._maxMessageSize
  }
  set maxMessageSize(v: number) {
    this._maxMessageSize = int("maxMessageSize", v, -1)
  }

  /** ZMQ_HANDSHAKE_IVL: ms a new connection has to complete the ZMTP handshake (default 30000; 0 = no limit). */
  get handshakeInterval(): number {
    return this._handshakeInterval
  }
  set handshakeInterval(v: number) {
    this._handshakeInterval = int("handshakeInterval", v, 0)
  }

  /** ZMQ_IMMEDIATE: queue messages only to completed connections (default false). */
  get immediate(): boolean {
    return this._immediate
  }
  set immediate(v: boolean) {
    this._immediate = bool("immediate", v)
  }

  /**
   * ZMQ_CONFLATE: keep only the last message in each peer's queues (default
   * false). Multipart messages are not supported with it, as in libzmq.
   */
  get conflate(): boolean {
    return this._conflate
  }
  set conflate(v: boolean) {
    this._conflate = bool("conflate", v)
  }

  /** ZMQ_BACKLOG: accepted for compatibility; Node's listen backlog is used as is. */
  get backlog(): number {
    return this._backlog
  }
  set backlog(v: number) {
    this._backlog = int("backlog", v, 0)
  }

  /**
   * ZMQ_ROUTING_ID: the identity this socket announces to ROUTER peers
   * (1-255 bytes, not starting with a zero byte). Default: none, so the peer
   * generates one.
   */
  get routingId(): string | null {
    return this.routingIdBuffer === undefined ? null : this.routingIdBuffer.toString()
  }
  set routingId(v: string | Buffer | null) {
    this.routingIdBuffer = v === null ? undefined : validRoutingId(v)
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
    this._heartbeatInterval = int("heartbeatInterval", v, 0)
  }

  /** ZMQ_HEARTBEAT_TIMEOUT: ms to wait for any traffic after a PING before dropping the peer (-1: heartbeatInterval). */
  get heartbeatTimeout(): number {
    return this._heartbeatTimeout
  }
  set heartbeatTimeout(v: number) {
    this._heartbeatTimeout = int("heartbeatTimeout", v, -1)
  }

  /** ZMQ_HEARTBEAT_TTL: ms the peer should wait for traffic from us before dropping us, sent in our PINGs (0: none; 100 ms granularity). */
  get heartbeatTimeToLive(): number {
    return this._heartbeatTtl
  }
  set heartbeatTimeToLive(v: number) {
    this._heartbeatTtl = int("heartbeatTimeToLive", v, 0, 6553500)
  }

  /** ZMQ_CONNECT_TIMEOUT: ms a TCP connect attempt may take before it is abandoned and retried (0: the OS decides). */
  get connectTimeout(): number {
    return this._connectTimeout
  }
  set connectTimeout(v: number) {
    this._connectTimeout = int("connectTimeout", v, 0)
  }

  /** ZMQ_TCP_KEEPALIVE: 1 enables SO_KEEPALIVE, 0 disables it, -1 (default) leaves the OS default. */
  get tcpKeepalive(): number {
    return this._tcpKeepalive
  }
  set tcpKeepalive(v: number) {
    this._tcpKeepalive = int("tcpKeepalive", v, -1, 1)
  }

  /** ZMQ_TCP_KEEPALIVE_IDLE: seconds of idleness before keepalive probes (-1: OS default). */
  get tcpKeepaliveIdle(): number {
    return this._tcpKeepaliveIdle
  }
  set tcpKeepaliveIdle(v: number) {
    this._tcpKeepaliveIdle = int("tcpKeepaliveIdle", v, -1)
  }

  /**
   * Options of zeromq.js that omq accepts and keeps but that have no effect
   * here (multicast, VMCI, GSSAPI, kernel buffer sizes that Node cannot set,
   * keepalive count/interval that Node cannot set, ...).
   */
  affinity = 0
  rate = 100
  recoveryInterval = 10000
  multicastHops = 1
  multicastMaxTransportDataUnit = 1500
  sendBufferSize = -1
  receiveBufferSize = -1
  tcpKeepaliveCount = -1
  tcpKeepaliveInterval = -1
  tcpAcceptFilter: string | null = null
  tcpMaxRetransmitTimeout = 0
  ipv6 = false
  typeOfService = 0
  socksProxy: string | null = null
  interface: string | null = null
  loopbackFastPath = false
  vmciBufferSize = 0
  vmciBufferMinSize = 0
  vmciBufferMaxSize = 0
  vmciConnectTimeout = -1
  gssapiServer = false
  gssapiPrincipal: string | null = null
  gssapiServicePrincipal: string | null = null
  gssapiPlainText = false
  gssapiPrincipalNameType: "hostBased" | "userName" | "krb5Principal" = "hostBased"
  gssapiServicePrincipalNameType: "hostBased" | "userName" | "krb5Principal" = "hostBased"

  // ---- security ----
  protected _plainServer = false
  protected _plainUsername: string | null = null
  protected _plainPassword: string | null = null
  protected _curveServer = false
  protected _curvePublicKey: Buffer | null = null
  protected _curveSecretKey: Buffer | null = null
  protected _curveServerKey: Buffer | null = null
  protected _zapDomain: string | null = null
  private _zapEnforceDomain = false

  /** ZMQ_PLAIN_SERVER: act as PLAIN server (checks credentials with ZAP). */
  get plainServer(): boolean {
    return this._plainServer
  }
  set plainServer(v: boolean) {
    this._plainServer = bool("plainServer", v)
  }

  /** ZMQ_PLAIN_USERNAME: makes this socket a PLAIN client with this user name. */
  get plainUsername(): string | null {
    return this._plainUsername
  }
  set plainUsername(v: string | null) {
    this._plainUsername = str("plainUsername", v)
  }

  /** ZMQ_PLAIN_PASSWORD: the PLAIN client's password. */
  get plainPassword(): string | null {
    return this._plainPassword
  }
  set plainPassword(v: string | null) {
    this._plainPassword = str("plainPassword", v)
  }

  /** ZMQ_CURVE_SERVER: act as CURVE server (needs curveSecretKey). */
  get curveServer(): boolean {
    return this._curveServer
  }
  set curveServer(v: boolean) {
    this._curveServer = bool("curveServer", v)
  }

  /** ZMQ_CURVE_PUBLICKEY: this socket's long-term public key (Z85 string or 32 bytes; read back as Z85). */
  get curvePublicKey(): string | null {
    return this._curvePublicKey && z85encode(this._curvePublicKey)
  }
  set curvePublicKey(v: string | Buffer | null) {
    this._curvePublicKey = curveKey("curvePublicKey", v)
  }

  /** ZMQ_CURVE_SECRETKEY: this socket's long-term secret key (Z85 string or 32 bytes). */
  get curveSecretKey(): string | null {
    return this._curveSecretKey && z85encode(this._curveSecretKey)
  }
  set curveSecretKey(v: string | Buffer | null) {
    this._curveSecretKey = curveKey("curveSecretKey", v)
  }

  /** ZMQ_CURVE_SERVERKEY: the server's public key; makes this socket a CURVE client. */
  get curveServerKey(): string | null {
    return this._curveServerKey && z85encode(this._curveServerKey)
  }
  set curveServerKey(v: string | Buffer | null) {
    this._curveServerKey = curveKey("curveServerKey", v)
  }

  /** ZMQ_ZAP_DOMAIN: the ZAP domain sent to the handler; for NULL sockets, setting it turns ZAP on. */
  get zapDomain(): string | null {
    return this._zapDomain
  }
  set zapDomain(v: string | null) {
    this._zapDomain = str("zapDomain", v)
  }

  /** ZMQ_ZAP_ENFORCE_DOMAIN: refuse clients when no ZAP handler is installed. */
  get zapEnforceDomain(): boolean {
    return this._zapEnforceDomain
  }
  set zapEnforceDomain(v: boolean) {
    this._zapEnforceDomain = bool("zapEnforceDomain", v)
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
