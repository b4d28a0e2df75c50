/** `omq/ws`: ws:// and wss:// on an application's own HTTP server (one port for pages and ZeroMQ). */
export { attachHttpServer } from "../transports/ws.js"
