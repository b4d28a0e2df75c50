/** `omq/devices`: the classic libzmq devices (queue, forwarder, streamer) built from Proxy. */
export { queueDevice, forwarderDevice, streamerDevice, type DeviceOptions, type DeviceEndpoints } from "../devices/devices.js"
