/** Socket type facts the engine checks: kept in lib/sockets/socket-types.ts, with the rest of them. */
export { isCompatible, zmtp2SocketType, zmtp2SocketTypeName } from "../sockets/socket-types.js"
