/**
 * Stream transports (tcp, ipc): small adapters around node:net that hand a
 * connected byte stream to the engine. A Listener accepts connections; a
 * dial makes one outgoing connection attempt.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { randomBytes } from "node:crypto"
import { ZmqError } from "../errors.js"
import { formatTcp, type Endpoint } from "./address.js"

export interface Listener {
  /** The endpoint as bound, with wildcards resolved (for `lastEndpoint`). */
  readonly endpoint: string
  close(): void
}

/** Linux `sun_path` holds 108 bytes including the terminating NUL. */
const MAX_IPC_PATH = 107

function ipcPath(p: string): string {
  // libzmq maps a leading '@' to Linux's abstract namespace.
  return p.startsWith("@") ? `\0${p.slice(1)}` : p
}

function translateError(err: NodeJS.ErrnoException, address: string): ZmqError {
  const code = err.code ?? "EINVAL"
  const messages: Record<string, string> = {
    EADDRINUSE: "Address already in use",
    EADDRNOTAVAIL: "Can't assign requested address",
    EACCES: "Permission denied",
    ENOENT: "No such file or directory",
    ENOTFOUND: "Invalid argument",
    EAI_AGAIN: "Invalid argument",
  }
  const mapped = code === "ENOTFOUND" || code === "EAI_AGAIN" ? "EINVAL" : code
  return new ZmqError(mapped, messages[code] ?? err.message, address)
}

function configure(sock: net.Socket): void {
  sock.setNoDelay(true)
  sock.unref()
}

export async function listen(ep: Endpoint, onConnection: (s: net.Socket) => void): Promise<Listener> {
  if (ep.transport === "inproc") throw new Error("inproc is not a stream transport")
  const server = net.createServer({ noDelay: true, pauseOnConnect: false }, (sock) => {
    configure(sock)
    onConnection(sock)
  })
  server.on("error", () => {
    /* errors after listening are per-connection and handled there */
  })
  let listenPath: string | undefined
  if (ep.transport === "ipc") {
    let p = ep.path
    if (p === "*") p = path.join(os.tmpdir(), `omq-${randomBytes(6).toString("hex")}.sock`)
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
    if (ep.transport === "tcp") server.listen({ host: ep.host, port: ep.port, exclusive: true }, done)
    else server.listen({ path: listenPath!, exclusive: true }, done)
  })
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

/**
 * A socket file left behind by a dead process is removed; one that a live
 * process still listens on is not (EADDRINUSE), nor is a file that is not a socket.
 */
async function removeStaleSocket(p: string, address: string): Promise<void> {
  let st: fs.Stats
  try {
    st = fs.lstatSync(p)
  } catch {
    return
  }
  if (!st.isSocket()) throw new ZmqError("EADDRINUSE", "Address already in use", address)
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
      opts.localAddress = ep.source.host
      if (ep.source.port) opts.localPort = ep.source.port
    }
    sock = net.connect(opts)
  } else if (ep.transport === "ipc") {
    sock = net.connect({ path: ipcPath(ep.path) })
  } else {
    throw new Error("inproc is not a stream transport")
  }
  configure(sock)
  return sock
}

export function checkIpcPath(ep: Endpoint): void {
  if (ep.transport === "ipc" && Buffer.byteLength(ep.path) > MAX_IPC_PATH) {
    throw new ZmqError("ENAMETOOLONG", "File name too long", ep.raw)
  }
}
