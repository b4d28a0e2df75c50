/**
 * `ws://host:port/path` and `wss://…`: ZeroMQ over WebSocket (ZWS 2.0, RFC 45), what a web
 * page can speak. The HTTP upgrade and the WebSocket framing are the `ws` library's; ZWS's
 * own framing is ws-stream.ts; the rest (mechanism handshake, engine, reconnect) is the same
 * as tcp's (stream-transport.ts).
 *
 * Several sockets may bind one host:port on different paths: they share one HTTP server,
 * which answers other requests with 404 (no such path) or 426 (not a WebSocket upgrade).
 * A subprotocol is chosen as RFC 45 says: the one naming the socket's mechanism
 * (`ZWS2.0/NULL`, `ZWS2.0/PLAIN`, `ZWS2.0/CURVE`), else `ZWS2.0` (no mechanism) for a NULL
 * socket; a client offering none of those is refused with 400.
 *
 * RFC 45's names contain a "/", which RFC 6455 does not allow in a subprotocol token, and the
 * `ws` library (like browsers) refuses them. libzmq sends and expects them all the same, so
 * this transport reads and writes the header itself and shows `ws` a stand-in token
 * (`ZWS2.0`): on the server, the request header is read before `ws` parses it; on the client,
 * the header is set on the request and the reply's is read before `ws` checks it.
 */
import * as http from "node:http"
import * as https from "node:https"
import * as tls from "node:tls"
import type { AddressInfo, Socket as NetSocket } from "node:net"
import type { Duplex } from "node:stream"
import type { WebSocketServer } from "ws"
import { ZmqError } from "../errors.js"
import { formatTcp, invalid, parseHostPort } from "./address.js"
import { interfaceAddress } from "./node-net.js"
import { streamTransport } from "./stream-transport.js"
import type { Endpoint, Listener, StreamOptions } from "./transport.js"
import { WsStream, asServer, impliedMechanism, mechanismFor, mechanismOf, subprotocolOf } from "./ws-stream.js"

export interface WsEndpoint extends Endpoint {
  readonly transport: "ws" | "wss"
  readonly host: string
  readonly port: number
  /** The request path, "/" when the address has none. */
  readonly path: string
}

function parseWs(address: string, forBind: boolean): WsEndpoint {
  const sep = address.indexOf("://")
  const scheme = address.slice(0, sep) as "ws" | "wss"
  const rest = address.slice(sep + 3)
  const slash = rest.indexOf("/")
  const hostPort = slash < 0 ? rest : rest.slice(0, slash)
  const path = slash < 0 ? "/" : rest.slice(slash)
  if (!/^\/[\x21-\x7e]*$/.test(path)) throw invalid(address)
  return { transport: scheme, ...parseHostPort(address, hostPort, forBind), path, raw: address }
}

/** What a client offers: its mechanism; a NULL socket also offers no mechanism (jszmq's). */
function offered(o: StreamOptions): string[] {
  const m = mechanismFor(o)
  return m === "NULL" ? [subprotocolOf("NULL"), subprotocolOf(null)] : [subprotocolOf(m)]
}

/** The subprotocol a server socket agrees to among those offered, or false. */
function choose(o: StreamOptions, protocols: Set<string>): string | false {
  const mine = subprotocolOf(mechanismFor(o))
  if (protocols.has(mine)) return mine
  // The bare ZWS2.0: no mechanism for a NULL socket (RFC 45); for a PLAIN or CURVE socket, that
  // mechanism, as a page (which can offer no other name) configured the same way runs it.
  if (protocols.has(subprotocolOf(null))) return subprotocolOf(null)
  return false
}

/** One path bound on a shared HTTP server. */
interface Route {
  /** The upgrade of this path: its own, for the socket's message size limit. */
  readonly wss: WebSocketServer
  readonly options: StreamOptions
  readonly onConnection: (s: WsStream) => void
}

/** An HTTP server shared by the sockets bound to its host:port, by path. */
interface SharedServer {
  readonly server: http.Server
  readonly routes: Map<string, Route>
  /** host:port as bound ("*" resolved), the registry key. */
  key: string
  /** Made by omq (closed with its last path), or the application's (attachHttpServer: only our upgrade listener goes). */
  readonly owned: boolean
  /** Our 'upgrade' listener, for an application's server. */
  upgrade?: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void
}

const servers = new Map<string, SharedServer>()

type WsModule = typeof import("ws")
let wsModule: Promise<WsModule> | undefined
/**
 * The `ws` library, loaded on first use of ws://: a program that never uses it never
 * evaluates it (ws reads process.env when it loads, which Deno refuses without --allow-env).
 */
function loadWs(): Promise<WsModule> {
  return (wsModule ??= import("ws"))
}

/** The token `ws` sees in place of RFC 45's subprotocol names (see the file comment). */
const STAND_IN = "ZWS2.0"
/** The subprotocol chosen for an upgrade request, for handleProtocols. */
const chosenFor = new WeakMap<http.IncomingMessage, string>()

/** A clean HTTP refusal on a raw socket that asked for an upgrade. */
function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  socket.destroy()
}

/**
 * An upgrade request to a server that serves ws:// paths. `refuseOthers`: a path that is not
 * ours gets 404 (omq's own server); on an application's server it is left to the
 * application's other 'upgrade' listeners.
 */
function upgrade(routes: Map<string, Route>, req: http.IncomingMessage, socket: Duplex, head: Buffer, refuseOthers: boolean): void {
  const route = routes.get(pathOf(req))
  if (route === undefined) {
    if (refuseOthers) refuse(socket, 404, "Not Found")
    return
  }
  socket.on("error", () => socket.destroy())
  const header = req.headers["sec-websocket-protocol"]
  const protocols = new Set(
    (header ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean),
  )
  const chosen = choose(route.options, protocols)
  if (chosen === false) return refuse(socket, 400, "Bad Request")
  chosenFor.set(req, chosen)
  req.headers["sec-websocket-protocol"] = STAND_IN
  const remote = (req.socket as NetSocket).remoteAddress ?? ""
  route.wss.handleUpgrade(req, socket, head, (ws) => {
    ;(ws as unknown as { _socket?: NetSocket })._socket?.setNoDelay(true)
    route.onConnection(
      new WsStream(
        ws,
        asServer(route.options),
        remote,
        // Known before the engine writes anything (its greeting is dropped only in a mechanism's framing).
        mechanismOf(chosen) ?? impliedMechanism(route.options),
        () => chosen,
        false,
        route.options.routingIdBytes,
        impliedMechanism(route.options),
      ),
    )
  })
}

/** `ws`'s maxPayload for a socket's maxMessageSize (0: no limit); a frame has the flags octet too. */
function payloadLimit(o: StreamOptions): number {
  return o.maxMessageSize < 0 ? 0 : o.maxMessageSize + 1
}

function newShared(scheme: "ws" | "wss", options: StreamOptions, address: string): SharedServer {
  let server: http.Server
  if (scheme === "wss") {
    if (options.wssCertPem === null || options.wssKeyPem === null) {
      throw new ZmqError("EINVAL", "wss:// needs the socket's wssCertPem and wssKeyPem", address)
    }
    server = https.createServer({ cert: options.wssCertPem, key: options.wssKeyPem })
  } else {
    server = http.createServer()
  }
  const routes = new Map<string, Route>()
  const shared: SharedServer = { server, routes, key: "", owned: true }
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    // Plain HTTP on a ZeroMQ port: a short answer, the connection closed.
    res.writeHead(routes.has(pathOf(req)) ? 426 : 404, { Connection: "close", "Content-Length": "0" })
    res.end()
  })
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => upgrade(routes, req, socket, head, true))
  server.on("clientError", (_err, socket: Duplex) => refuse(socket, 400, "Bad Request"))
  // A slow or silent client (a slow-loris upgrade) is dropped after this long.
  server.headersTimeout = 10_000
  server.requestTimeout = 10_000
  return shared
}

function pathOf(req: http.IncomingMessage): string {
  const url = req.url ?? "/"
  const q = url.indexOf("?")
  return q < 0 ? url : url.slice(0, q)
}

const MESSAGES: Record<string, string> = {
  EADDRINUSE: "Address already in use",
  EADDRNOTAVAIL: "Cannot assign requested address",
  EACCES: "Permission denied",
}

async function listen(ep: WsEndpoint, onConnection: (s: WsStream) => void, options: StreamOptions): Promise<Listener> {
  const { WebSocketServer } = await loadWs()
  const host = interfaceAddress(ep.host) ?? ep.host
  const key = `${ep.transport}|${host}|${ep.port}`
  let shared = ep.port !== 0 ? (servers.get(key) ?? attachedFor(ep, host)) : undefined
  if (shared === undefined) {
    shared = newShared(ep.transport, options, ep.raw)
    const s = shared
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        const code = err.code ?? "EINVAL"
        reject(new ZmqError(code, MESSAGES[code] ?? err.message, ep.raw))
      }
      s.server.once("error", onError)
      s.server.listen({ host, port: ep.port, exclusive: true }, () => {
        s.server.off("error", onError)
        resolve()
      })
    })
    s.server.unref()
    const a = s.server.address() as AddressInfo
    s.key = `${ep.transport}|${host}|${a.port}`
    servers.set(s.key, s)
  }
  if (shared.routes.has(ep.path)) throw new ZmqError("EADDRINUSE", MESSAGES.EADDRINUSE!, ep.raw)
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // The choice made in the upgrade handler (RFC 45's names are not tokens `ws` accepts).
    handleProtocols: (_protocols, req) => chosenFor.get(req) ?? false,
    // A message over the socket's limit is refused as it arrives (close 1009), not buffered
    // whole first: the engine's own check would come after `ws` had read it all.
    maxPayload: payloadLimit(options),
  })
  shared.routes.set(ep.path, { options, onConnection, wss })
  const a = shared.server.address() as AddressInfo
  const s = shared
  return {
    endpoint: `${ep.transport}${formatTcp(a.address, a.port).slice(3)}${ep.path === "/" && !ep.raw.slice(ep.raw.indexOf("://") + 3).includes("/") ? "" : ep.path}`,
    close() {
      s.routes.delete(ep.path)
      if (s.routes.size === 0 && s.owned) {
        servers.delete(s.key)
        s.server.close()
        s.server.closeAllConnections?.()
      }
    },
  }
}

/** Application servers given to attachHttpServer, and their routes. */
const attached = new Map<http.Server, SharedServer>()

/** The attached server listening where `ep` binds (its port, and its address or a wildcard), if any. */
function attachedFor(ep: WsEndpoint, host: string): SharedServer | undefined {
  for (const shared of attached.values()) {
    const a = shared.server.address()
    if (a === null || typeof a === "string" || a.port !== ep.port) continue
    if (shared.server instanceof https.Server !== (ep.transport === "wss")) continue
    if (a.address === host || a.address === "::" || a.address === "0.0.0.0" || host === "0.0.0.0") return shared
  }
  return undefined
}

/**
 * Serves ws:// (or wss://, for an https.Server) on an application's own HTTP server, so that a
 * web app serves its pages and ZeroMQ on one port. Once `server` listens, a bind to
 * `ws://host:port/path` with its port is served by it: omq answers WebSocket upgrades for the
 * paths bound and leaves every other request and upgrade to the application. Returns a
 * function that detaches it again (bound paths are no longer served).
 */
export function attachHttpServer(server: http.Server | https.Server): () => void {
  if (attached.has(server)) return () => detach(server)
  const routes = new Map<string, Route>()
  const shared: SharedServer = { server, routes, key: "", owned: false }
  shared.upgrade = (req, socket, head) => upgrade(routes, req, socket, head, server.listenerCount("upgrade") === 1)
  server.on("upgrade", shared.upgrade)
  attached.set(server, shared)
  return () => detach(server)
}

function detach(server: http.Server): void {
  const shared = attached.get(server)
  if (shared === undefined) return
  attached.delete(server)
  if (shared.upgrade !== undefined) server.off("upgrade", shared.upgrade)
  shared.routes.clear()
}

/** An IPv4 or IPv6 address rather than a name (IPv6 ones always contain a colon). */
function isAddress(host: string): boolean {
  return host.includes(":") || /^\d{1,3}(\.\d{1,3}){3}$/.test(host)
}

/** A wss:// client's TLS settings from the socket's ZMQ_WSS_* options. */
function tlsOptions(ep: WsEndpoint, o: StreamOptions): { ca?: string[]; servername?: string; rejectUnauthorized: true } {
  // SNI takes a name, never an address; without one the certificate is checked against the address.
  const name = o.wssHostname ?? ep.host
  const sni = isAddress(name) ? {} : { servername: name }
  if (o.wssTrustPem === null) return { ...sni, rejectUnauthorized: true }
  // Node's `ca` replaces the system's authorities; with wssTrustSystem they are added back.
  const ca = o.wssTrustSystem ? [...tls.rootCertificates, o.wssTrustPem] : [o.wssTrustPem]
  return { ca, ...sni, rejectUnauthorized: true }
}

/**
 * Endpoints whose server refused RFC 45's mechanism names with 400 (they are not RFC 6455
 * tokens, and WebSocket libraries such as jszmq's refuse them): later attempts offer `ZWS2.0`
 * alone, without a mechanism.
 */
const bareOnly = new WeakSet<WsEndpoint>()

function dial(ep: WsEndpoint, options: StreamOptions): WsStream {
  const host = ep.host.includes(":") ? `[${ep.host}]` : ep.host
  const full = offered(options)
  const bare = bareOnly.has(ep) && full.includes(STAND_IN)
  const offer = bare ? [STAND_IN] : full
  let agreed = ""
  const ws = loadWs().then(
    ({ WebSocket }) =>
      new WebSocket(`${ep.transport}://${host}:${ep.port}${ep.path}`, [STAND_IN], {
        perMessageDeflate: false,
        maxPayload: payloadLimit(options),
        ...(ep.transport === "wss" ? tlsOptions(ep, options) : {}),
        finishRequest(req) {
          // Our real offer, and the server's real answer read before `ws` compares it with the stand-in.
          req.setHeader("Sec-WebSocket-Protocol", offer.join(","))
          req.prependListener("upgrade", (res: http.IncomingMessage) => {
            const answer = res.headers["sec-websocket-protocol"]
            agreed = typeof answer === "string" ? answer : ""
            if (offer.includes(agreed)) res.headers["sec-websocket-protocol"] = STAND_IN
          })
          req.end()
        },
      }),
  )
  void ws.then((w) =>
    w.on("error", (err: Error) => {
      if (!bare && full.length > 1 && /Unexpected server response: 400\b/.test(err.message)) bareOnly.add(ep)
    }),
  )
  return new WsStream(ws, asServer(options), ep.host, bare ? null : mechanismFor(options), () => agreed, true, options.routingIdBytes)
}

function wsTransport(scheme: "ws" | "wss") {
  return streamTransport<WsEndpoint, WsStream>({
    scheme,
    parse: parseWs,
    listen,
    listenSync() {
      throw new ZmqError("ENOTSUP", "bindSync is not supported for ws:// (use bind)")
    },
    dial,
    remoteAddress: (s) => s.remoteAddress,
  })
}

export const ws = wsTransport("ws")
export const wss = wsTransport("wss")
