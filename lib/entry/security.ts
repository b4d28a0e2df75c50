/** `omq/security`: Z85 encoding, CURVE key helpers and a ZAP (RFC 27) handler. */
export { curveKeyPair, z85 } from "../security/keys.js"
export { startZapHandler, type ZapRequest, type ZapDecision, type ZapHandlerHandle } from "../security/zap-handler.js"
