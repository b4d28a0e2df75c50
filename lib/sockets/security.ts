/**
 * Which security mechanism a new connection runs, from a socket's security
 * options (zeromq.js names): CURVE server/client, PLAIN server/client, or
 * NULL; servers get a ZAP context for their context's handler.
 */
import { CurveClient, CurveServer } from "../mechanisms/curve.js"
import type { LocalProperties, Mechanism, ZapContext } from "../mechanisms/mechanism.js"
import { NullMechanism } from "../mechanisms/null.js"
import { PlainClient, PlainServer } from "../mechanisms/plain.js"
import type { ZapClient } from "../mechanisms/zap-client.js"
import { publicKeyOf } from "../security/crypto.js"

export interface SecuritySettings {
  curveServer: boolean
  curvePublicKey: Buffer | null
  curveSecretKey: Buffer | null
  curveServerKey: Buffer | null
  plainServer: boolean
  plainUsername: string | null
  plainPassword: string | null
  zapDomain: string | null
  zapEnforceDomain: boolean
  /** The socket's own routing id (sent to ZAP as "identity", as libzmq does). */
  routingId: Buffer | undefined
}

/**
 * libzmq's CURVE keys are all zero until set, and a socket with curveServer but no key binds
 * and handshakes with them (a peer that expects a real key then fails). omq does the same
 * rather than refusing the bind or connect.
 */
const ZERO_KEY = Buffer.alloc(32)

/** The greeting's as-server flag. */
export function isSecurityServer(s: SecuritySettings): boolean {
  return s.curveServer || s.plainServer
}

/** A mechanism for one new connection to `peerAddress`. */
export function createMechanism(s: SecuritySettings, local: LocalProperties, peerAddress: string, zapClient: ZapClient): Mechanism {
  const zap = (mechanism: "NULL" | "PLAIN" | "CURVE"): ZapContext | undefined => {
    // NULL asks ZAP only when a domain is set (libzmq 4.3); PLAIN and CURVE servers always do.
    if (mechanism === "NULL" && !s.zapDomain) return undefined
    const request = {
      domain: s.zapDomain ?? "",
      address: peerAddress,
      identity: s.routingId ?? Buffer.alloc(0),
    }
    return {
      ...request,
      enforce: s.zapEnforceDomain,
      authenticate: (m, credentials) => zapClient.authenticate({ ...request, mechanism: m, credentials }),
    }
  }
  if (s.curveServer) {
    const secret = s.curveSecretKey ?? ZERO_KEY
    return new CurveServer(local, s.curvePublicKey ?? publicKeyOf(secret), secret, zap("CURVE"))
  }
  if (s.curveServerKey !== null) {
    const secret = s.curveSecretKey ?? ZERO_KEY
    return new CurveClient(local, s.curvePublicKey ?? publicKeyOf(secret), secret, s.curveServerKey)
  }
  if (s.plainServer) return new PlainServer(local, zap("PLAIN"))
  if (s.plainUsername !== null) return new PlainClient(local, s.plainUsername, s.plainPassword ?? "")
  return new NullMechanism(local, zap("NULL"))
}
