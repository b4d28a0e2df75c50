/**
 * libzmq's socket option numbers (`ZMQ_*` in zmq.h) by omq/zeromq.js property name, for the
 * low-level accessors `getInt32Option(id)`, `setBoolOption(id, v)`, … that zeromq.js sockets
 * have. The kind is the C type libzmq uses for the option.
 */
export type OptionKind = "Bool" | "Int32" | "Uint32" | "Int64" | "Uint64" | "String"

export const OPTION_IDS: ReadonlyMap<number, readonly [name: string, kind: OptionKind]> = new Map([
  [4, ["affinity", "Uint64"]],
  [5, ["routingId", "String"]],
  [8, ["rate", "Int32"]],
  [9, ["recoveryInterval", "Int32"]],
  [11, ["sendBufferSize", "Int32"]],
  [12, ["receiveBufferSize", "Int32"]],
  [16, ["type", "Int32"]],
  [17, ["linger", "Int32"]],
  [18, ["reconnectInterval", "Int32"]],
  [19, ["backlog", "Int32"]],
  [21, ["reconnectMaxInterval", "Int32"]],
  [22, ["maxMessageSize", "Int64"]],
  [23, ["sendHighWaterMark", "Int32"]],
  [24, ["receiveHighWaterMark", "Int32"]],
  [25, ["multicastHops", "Int32"]],
  [27, ["receiveTimeout", "Int32"]],
  [28, ["sendTimeout", "Int32"]],
  [32, ["lastEndpoint", "String"]],
  [33, ["mandatory", "Bool"]],
  [34, ["tcpKeepalive", "Int32"]],
  [35, ["tcpKeepaliveCount", "Int32"]],
  [36, ["tcpKeepaliveIdle", "Int32"]],
  [37, ["tcpKeepaliveInterval", "Int32"]],
  [38, ["tcpAcceptFilter", "String"]],
  [39, ["immediate", "Bool"]],
  [42, ["ipv6", "Bool"]],
  [43, ["securityMechanism", "Int32"]],
  [44, ["plainServer", "Bool"]],
  [45, ["plainUsername", "String"]],
  [46, ["plainPassword", "String"]],
  [47, ["curveServer", "Bool"]],
  [48, ["curvePublicKey", "String"]],
  [49, ["curveSecretKey", "String"]],
  [50, ["curveServerKey", "String"]],
  [51, ["probeRouter", "Bool"]],
  [52, ["correlate", "Bool"]],
  [53, ["relaxed", "Bool"]],
  [54, ["conflate", "Bool"]],
  [55, ["zapDomain", "String"]],
  [56, ["handover", "Bool"]],
  [57, ["typeOfService", "Uint32"]],
  [62, ["gssapiServer", "Bool"]],
  [63, ["gssapiPrincipal", "String"]],
  [64, ["gssapiServicePrincipal", "String"]],
  [65, ["gssapiPlainText", "Bool"]],
  [66, ["handshakeInterval", "Int32"]],
  [68, ["socksProxy", "String"]],
  [69, ["noDrop", "Bool"]],
  [71, ["manual", "Bool"]],
  [72, ["welcomeMessage", "String"]],
  [73, ["notify", "Bool"]],
  [74, ["invertMatching", "Bool"]],
  [75, ["heartbeatInterval", "Int32"]],
  [76, ["heartbeatTimeToLive", "Int32"]],
  [77, ["heartbeatTimeout", "Int32"]],
  [79, ["connectTimeout", "Int32"]],
  [80, ["tcpMaxRetransmitTimeout", "Int32"]],
  [81, ["threadSafe", "Bool"]],
  [84, ["multicastMaxTransportDataUnit", "Int32"]],
  [85, ["vmciBufferSize", "Uint64"]],
  [86, ["vmciBufferMinSize", "Uint64"]],
  [87, ["vmciBufferMaxSize", "Uint64"]],
  [88, ["vmciConnectTimeout", "Int32"]],
  [92, ["interface", "String"]],
  [93, ["zapEnforceDomain", "Bool"]],
  [94, ["loopbackFastPath", "Bool"]],
] as const)

/** ZMQ_MECHANISM values as the names `securityMechanism` reports. */
export const MECHANISMS: readonly (string | null)[] = [null, "plain", "curve", "gssapi"]

/**
 * Options that take effect on a socket that is already bound or connected (zeromq.js warns
 * "Socket option will not take effect until next connect/bind." for the others).
 */
export const IMMEDIATE_OPTIONS: ReadonlySet<string> = new Set([
  "linger",
  "mandatory",
  "probeRouter",
  "verbosity",
  "correlate",
  "relaxed",
  "handover",
  "sendHighWaterMark",
  "receiveHighWaterMark",
  "sendTimeout",
  "receiveTimeout",
])
