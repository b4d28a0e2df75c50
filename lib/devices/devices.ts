/**
 * The classic devices, built on Proxy:
 * - queue: ROUTER front-end, DEALER back-end (shared request-reply queue)
 * - forwarder: XSUB front-end, XPUB back-end (pub-sub relay; subscriptions flow upstream)
 * - streamer: PULL front-end, PUSH back-end (pipeline relay)
 * Each binds or connects its sockets as given and runs until terminate().
 */
import { Dealer } from "../sockets/dealer.js"
import { Pull } from "../sockets/pull.js"
import { Push } from "../sockets/push.js"
import { Router } from "../sockets/router.js"
import { XPublisher } from "../sockets/xpub.js"
import { XSubscriber } from "../sockets/xsub.js"
import type { Socket } from "../sockets/socket.js"
import { Proxy, type ProxyOptions } from "./proxy.js"

/** Where a device socket attaches: `bind` and/or `connect` addresses. */
export interface DeviceEndpoints {
  bind?: string[]
  connect?: string[]
}

export interface DeviceOptions extends ProxyOptions {
  frontEnd: DeviceEndpoints
  backEnd: DeviceEndpoints
}

async function attach(sock: Socket, ep: DeviceEndpoints): Promise<void> {
  for (const a of ep.bind ?? []) await sock.bind(a)
  for (const a of ep.connect ?? []) sock.connect(a)
}

async function device<F extends Socket, B extends Socket>(front: F, back: B, opts: DeviceOptions): Promise<Proxy<F, B>> {
  try {
    await attach(front, opts.frontEnd)
    await attach(back, opts.backEnd)
  } catch (err) {
    front.close()
    back.close()
    throw err
  }
  const proxyOptions: ProxyOptions = {}
  if (opts.capture !== undefined) proxyOptions.capture = opts.capture
  return new Proxy(front, back, proxyOptions)
}

/** ROUTER/DEALER queue: call `run()` on the result to start it. */
export function queueDevice(opts: DeviceOptions): Promise<Proxy<Router, Dealer>> {
  return device(new Router(), new Dealer(), opts)
}

/** XSUB/XPUB forwarder: call `run()` on the result to start it. */
export function forwarderDevice(opts: DeviceOptions): Promise<Proxy<XSubscriber, XPublisher>> {
  return device(new XSubscriber(), new XPublisher(), opts)
}

/** PULL/PUSH streamer: call `run()` on the result to start it. */
export function streamerDevice(opts: DeviceOptions): Promise<Proxy<Pull, Push>> {
  return device(new Pull(), new Push(), opts)
}
