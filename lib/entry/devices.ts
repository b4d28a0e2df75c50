/** `omq/devices`: the classic libzmq devices (queue, forwarder, streamer) built from Proxy, and the Majordomo broker, worker and client. */
export { queueDevice, forwarderDevice, streamerDevice, type DeviceOptions, type DeviceEndpoints } from "../devices/devices.js"
/** Majordomo (MDP/0.2, ZeroMQ RFC 18 / 7): broker, worker and client. */
export { MajordomoBroker, type MajordomoBrokerOptions, type MajordomoServiceStats } from "../patterns/majordomo/broker.js"
export {
  MajordomoWorker,
  type MajordomoWorkerOptions,
  type MajordomoHandler,
  type MajordomoRequestContext,
} from "../patterns/majordomo/worker.js"
export { MajordomoClient, type MajordomoClientOptions } from "../patterns/majordomo/client.js"
