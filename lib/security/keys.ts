/** Key helpers exported as zeromq.js does. */
import { generateKeyPair } from "./crypto.js"
import { decode, encode } from "./z85.js"

/** A new CURVE key pair as Z85 strings (40 characters each), like zeromq.js's curveKeyPair(). */
export function curveKeyPair(): { publicKey: string; secretKey: string } {
  const kp = generateKeyPair()
  return { publicKey: encode(kp.publicKey), secretKey: encode(kp.secretKey) }
}

/** Z85 encoding (RFC 32). */
export const z85 = { encode, decode }
