/**
 * node:net for the tcp and ipc transports (tcp.ts, ipc.ts): listening (also synchronously,
 * for bindSync), dialling, and libzmq's error codes and ipc path rules.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { randomBytes } from "node:crypto"
import * as util from "node:util"
import { tempDirectory } from "../environment.js"
import { ZmqError } from "../errors.js"
import { formatTcp, type IpcEndpoint, type TcpEndpoint } from "./address.js"
import type { Listener } from "./transport.js"

type Endpoint = TcpEndpoint | IpcEndpoint

/** Linux `sun_path` holds 108 bytes including the terminating NUL. */
const MAX_IPC_PATH = 107

function ipcPath(p: string): string {
  // libzmq maps a leading '@' to Linux's abstract namespace.
  return p.startsWith("@") ? `\0${p.slice(1)}` : p
}

/** strerror() texts libzmq's errors carry, as zeromq.js reports them. */
const MESSAGES: Record<string, string> = {
  EADDRINUSE: "Address already in use",
  EADDRNOTAVAIL: "Cannot assign requested address",
  EACCES: "Permission denied",
  ENOENT: "No such file or directory",
  ENODEV: "No such device",
  EINVAL: "Invalid argument",
}

function translateError(err: NodeJS.ErrnoException, address: string): ZmqError {
  // A bind host that is neither an address, an interface nor a resolvable name: libzmq says ENODEV.
  const code = err.code === "ENOTFOUND" || err.code === "EAI_AGAIN" || err.code === "EAI_NONAME" ? "ENODEV" : (err.code ?? "EINVAL")
  return new ZmqError(code, MESSAGES[code] ?? err.message, address)
}

/**
 * A bind host as libzmq takes it: `*` (0.0.0.0), a numeric address, or a network interface
 * name (its first IPv4 address, else its first address). Other names are left to DNS.
 */
export function interfaceAddress(host: string): string | undefined {
  if (net.isIP(host) !== 0) return host
  const addrs = os.networkInterfaces()[host]
  if (addrs === undefined || addrs.length === 0) return undefined
  return (addrs.find((a) => a.family === "IPv4") ?? addrs[0]!).address
}

function configure(sock: net.Socket): void {
  sock.setNoDelay(true)
  sock.unref()
}

/** A server handing each accepted connection, configured, to `onConnection`. */
function newServer(onConnection: (s: net.Socket) => void): net.Server {
  const server = net.createServer({ noDelay: true, pauseOnConnect: false }, (sock) => {
    configure(sock)
    onConnection(sock)
  })
  server.on("error", () => {
    /* errors after listening are per-connection (and, after listenSync's ipc bind, the deferred bind error) */
  })
  return server
}

export async function listen(ep: Endpoint, onConnection: (s: net.Socket) => void): Promise<Listener> {
  const server = newServer(onConnection)
  let listenPath: string | undefined
  if (ep.transport === "ipc") {
    let p = ep.path
    if (p === "*") p = path.join(tempDirectory(), `omq-${randomBytes(6).toString("hex")}.sock`)
    if (Buffer.byteLength(p) > MAX_IPC_PATH) {
      throw new ZmqError("ENAMETOOLONG", "File name too long", ep.raw)
    }
    listenPath = ipcPath(p)
    if (!p.startsWith("@")) await removeStaleSocket(p, ep.raw)
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(translateError(err, ep.raw))
    server.once("error", onError)
    const done = () => {
      server.off("error", onError)
      resolve()
    }
    if (ep.transport === "tcp") server.listen({ host: interfaceAddress(ep.host) ?? ep.host, port: ep.port, exclusive: true }, done)
    else server.listen({ path: listenPath!, exclusive: true }, done)
  })
  return listening(ep, server, listenPath)
}

/** The Listener of a server that listens now. */
function listening(ep: Endpoint, server: net.Server, listenPath: string | undefined): Listener {
  server.unref()
  let endpoint: string
  if (ep.transport === "tcp") {
    const a = server.address() as net.AddressInfo
    endpoint = formatTcp(a.address, a.port)
  } else {
    endpoint = `ipc://${listenPath!.startsWith("\0") ? `@${listenPath!.slice(1)}` : listenPath}`
  }
  return {
    endpoint,
    close() {
      server.close()
      if (listenPath !== undefined && !listenPath.startsWith("\0")) {
        try {
          fs.unlinkSync(listenPath)
        } catch {
          /* already gone */
        }
      }
    },
  }
}

/** Node's TCP handle class, through which a listening socket can be made synchronously. */
interface HandleModule {
  constants: { SERVER: number }
  new (kind: number): {
    bind(a: string, port: number): number
    bind6(a: string, port: number, flags: number): number
    listen(backlog: number): number
    close(): void
  }
}

function handleClass(name: "tcp_wrap"): HandleModule | undefined {
  try {
    const binding = (process as unknown as { binding(n: string): Record<string, unknown> }).binding(name)
    const cls = binding.TCP as HandleModule | undefined
    if (cls !== undefined) cls.constants = binding.constants as HandleModule["constants"]
    return cls
  } catch {
    return undefined
  }
}

/**
 * bind() done synchronously, for zeromq.js's `bindSync`: a tcp listening socket is made with
 * Node's own TCP handle class (what `net.Server.listen` uses underneath), so errors such as
 * EADDRINUSE are known before returning; host names that need DNS are refused with ENODEV;
 * runtimes without that class get ENOTSUP.
 */
export function listenSync(ep: Endpoint, onConnection: (s: net.Socket) => void, backlog: number): Listener {
  const server = newServer(onConnection)
  if (ep.transport === "tcp") {
    const Handle = handleClass("tcp_wrap")
    if (Handle === undefined) throw new ZmqError("ENOTSUP", "bindSync is not supported on this runtime", ep.raw)
    const host = ep.host === "localhost" ? "127.0.0.1" : interfaceAddress(ep.host)
    if (host === undefined) throw new ZmqError("ENODEV", MESSAGES.ENODEV!, ep.raw)
    const handle = new Handle(Handle.constants.SERVER)
    let err = net.isIPv6(host) ? handle.bind6(host, ep.port, 0) : handle.bind(host, ep.port)
    if (err === 0) err = handle.listen(backlog > 0 ? backlog : 511)
    if (err !== 0) {
      handle.close()
      const code = util.getSystemErrorName(err)
      throw new ZmqError(code, MESSAGES[code] ?? code, ep.raw)
    }
    server.listen(handle as unknown as net.ListenOptions)
    return listening(ep, server, undefined)
  }
  // ipc: net.Server binds a path synchronously (no name lookup); its error would only come
  // in the next tick, so what can fail is checked first.
  let p = ep.path
  if (p === "*") p = path.join(tempDirectory(), `omq-${randomBytes(6).toString("hex")}.sock`)
  if (Buffer.byteLength(p) > MAX_IPC_PATH) throw new ZmqError("ENAMETOOLONG", "File name too long", ep.raw)
  const listenPath = ipcPath(p)
  if (!p.startsWith("@")) {
    removeStaleSocketSync(p, ep.raw)
    try {
      fs.accessSync(path.dirname(path.resolve(p)), fs.constants.W_OK)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "EACCES"
      throw new ZmqError(code, MESSAGES[code] ?? code, ep.raw)
    }
  }
  server.listen({ path: listenPath, backlog: backlog > 0 ? backlog : 511 })
  if (!server.listening) throw new ZmqError("EADDRINUSE", MESSAGES.EADDRINUSE!, ep.raw)
  return listening(ep, server, listenPath)
}

/**
 * removeStaleSocket without waiting: a socket file is live if the kernel lists a listener
 * on it (Linux's /proc/net/unix); elsewhere an existing socket file counts as live.
 */
function removeStaleSocketSync(p: string, address: string): void {
  if (!socketFileExists(p, address)) return
  let live = true
  try {
    const abs = path.resolve(p)
    live = fs
      .readFileSync("/proc/net/unix", "latin1")
      .split("\n")
      .some((line) => line.endsWith(` ${abs}`) || line.endsWith(` ${p}`))
  } catch {
    /* no /proc: assume live */
  }
  if (live) throw new ZmqError("EADDRINUSE", "Address already in use", address)
  try {
    fs.unlinkSync(p)
  } catch {
    /* raced with another remover */
  }
}

/** True if `p` is a socket file; false if nothing is there; EADDRINUSE for any other file. */
function socketFileExists(p: string, address: string): boolean {
  let st: fs.Stats
  try {
    st = fs.lstatSync(p)
  } catch {
    return false
  }
  if (!st.isSocket()) throw new ZmqError("EADDRINUSE", "Address already in use", address)
  return true
}

/**
 * A socket file left behind by a dead process is removed; one that a live
 * process still listens on is not (EADDRINUSE), nor is a file that is not a socket.
 */
async function removeStaleSocket(p: string, address: string): Promise<void> {
  if (!socketFileExists(p, address)) return
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path: p })
    probe.once("connect", () => {
      probe.destroy()
      resolve(true)
    })
    probe.once("error", () => resolve(false))
  })
  if (alive) throw new ZmqError("EADDRINUSE", "Address already in use", address)
  try {
    fs.unlinkSync(p)
  } catch {
    /* raced with another remover */
  }
}

/** Starts one outgoing connection attempt. Errors arrive as the socket's 'error' event. */
export function dial(ep: Endpoint): net.Socket {
  let sock: net.Socket
  if (ep.transport === "tcp") {
    const opts: net.NetConnectOpts = { host: ep.host, port: ep.port, noDelay: true }
    if (ep.source) {
      opts.localAddress = interfaceAddress(ep.source.host) ?? ep.source.host
      if (ep.source.port) opts.localPort = ep.source.port
    }
    sock = net.connect(opts)
  } else {
    sock = net.connect({ path: ipcPath(ep.path) })
  }
  configure(sock)
  return sock
}

export function checkIpcPath(ep: IpcEndpoint): void {
  if (Buffer.byteLength(ep.path) > MAX_IPC_PATH) {
    throw new ZmqError("ENAMETOOLONG", "File name too long", ep.raw)
  }
}
