/**
 * A ZAP handler (RFC 27) in a few lines: binds a ROUTER at
 * inproc://zeromq.zap.01 in a context and answers each request with what
 * `authenticate` decides. A handler written by hand as a REP or ROUTER
 * socket on that endpoint works just as well.
 */
import { context as defaultContext, type Context } from "../context.js"
import { ZAP_ENDPOINT } from "../mechanisms/zap-client.js"
import { Router } from "../sockets/router.js"

export interface ZapRequest {
  domain: string
  /** The peer's IP address (empty for ipc). */
  address: string
  /** The server socket's routing id. */
  identity: Buffer
  mechanism: "NULL" | "PLAIN" | "CURVE"
  /** PLAIN: [user name, password]; CURVE: [client public key (32 bytes)]; NULL: []. */
  credentials: Buffer[]
}

export interface ZapDecision {
  /** 200 accepts; 300 (temporary), 400 (denied) or 500 (internal error) refuse. */
  status: 200 | 300 | 400 | 500
  statusText?: string
  userId?: string
}

export interface ZapHandlerHandle {
  close(): void
}

export async function startZapHandler(
  authenticate: (req: ZapRequest) => ZapDecision | Promise<ZapDecision>,
  options: { context?: Context } = {},
): Promise<ZapHandlerHandle> {
  const router = new Router({ context: options.context ?? defaultContext, linger: 0 })
  await router.bind(ZAP_ENDPOINT)
  void (async () => {
    for await (const frames of router) {
      const [peer, , version, requestId, domain, address, identity, mechanism, ...credentials] = frames
      if (version?.toString() !== "1.0" || requestId === undefined) continue
      let decision: ZapDecision
      try {
        decision = await authenticate({
          domain: domain?.toString() ?? "",
          address: address?.toString() ?? "",
          identity: identity ?? Buffer.alloc(0),
          mechanism: (mechanism?.toString() ?? "NULL") as ZapRequest["mechanism"],
          credentials,
        })
      } catch (err) {
        decision = { status: 500, statusText: String(err) }
      }
      await router
        .send([
          peer!,
          Buffer.alloc(0),
          "1.0",
          requestId,
          String(decision.status),
          decision.statusText ?? (decision.status === 200 ? "OK" : "Denied"),
          decision.userId ?? "",
          Buffer.alloc(0),
        ])
        .catch(() => undefined)
    }
  })()
  return { close: () => router.close() }
}
