/**
 * ZAP (RFC 27) from the mechanism's side: ask the handler, turn its answer
 * into "go on" or an authentication error. With no handler installed the
 * peer is accepted, as libzmq does, unless the domain is enforced.
 */
import { ProtocolError, authError } from "../errors.js"
import type { ZapContext, ZapReply } from "./mechanism.js"

export async function zapCheck(
  zap: ZapContext | undefined,
  mechanism: string,
  credentials: Buffer[],
  requireHandler = false,
): Promise<ZapReply | null> {
  if (zap === undefined) return null
  const reply = await zap.authenticate(mechanism, credentials)
  if (reply === null) {
    // libzmq: a PLAIN server without a ZAP handler fails the handshake (nothing could check the password).
    if (requireHandler) throw new ProtocolError("ZMTP_NO_ZAP", "PLAIN server has no ZAP handler to check credentials")
    if (zap.enforce) throw authError(400, "No ZAP handler for the enforced domain")
    return null
  }
  if (reply.statusCode !== 200) throw authError(reply.statusCode, reply.statusText)
  return reply
}
