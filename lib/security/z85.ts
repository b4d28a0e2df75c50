/**
 * Z85 (ZeroMQ RFC 32): printable encoding of binary data in chunks of 4
 * bytes to 5 characters. Used for CURVE keys (32 bytes ⇄ 40 characters).
 */
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
const DECODE = new Int16Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i

/** Encodes bytes (length a multiple of 4) as Z85. */
export function encode(data: Uint8Array): string {
  if (data.length % 4 !== 0) throw new RangeError("Z85 input length must be a multiple of 4")
  let out = ""
  for (let i = 0; i < data.length; i += 4) {
    let value = ((data[i]! << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!) >>> 0
    const chunk = new Array<string>(5)
    for (let j = 4; j >= 0; j--) {
      chunk[j] = ALPHABET[value % 85]!
      value = Math.floor(value / 85)
    }
    out += chunk.join("")
  }
  return out
}

/** Decodes a Z85 string (length a multiple of 5); throws RangeError on bad input. */
export function decode(text: string): Buffer {
  if (text.length % 5 !== 0) throw new RangeError("Z85 input length must be a multiple of 5")
  const out = Buffer.allocUnsafe((text.length / 5) * 4)
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0
    for (let j = 0; j < 5; j++) {
      const c = text.charCodeAt(i + j)
      const d = c < 128 ? DECODE[c]! : -1
      if (d < 0) throw new RangeError(`Invalid Z85 character at ${i + j}`)
      value = value * 85 + d
    }
    if (value > 0xffffffff) throw new RangeError("Z85 chunk out of range")
    out.writeUInt32BE(value, o)
  }
  return out
}
