// Ticket codes as docs/tickets.md specifies them: the rotating digits a ticket page shows, and every
// check a scanner makes without the network. Plain functions over bytes; WebCrypto does the
// cryptography (HMAC-SHA256, Ed25519), so this needs a secure context (https, or localhost), as the
// camera does anyway.

export const STATIC_CODE_CHARS = 168;
export const ROTATING_DIGITS = 8;
export const STEP_S = 15;
export const SKEW_STEPS = 1;
const PAYLOAD_BYTES = 41;
const SIGNATURE_BYTES = 64;
const CODE_VERSION = 1;
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ROTATION_LABEL = new TextEncoder().encode('ticketd-rotation-v1');

export function hexToBytes(hex) {
  if (typeof hex !== 'string' || hex.length % 2 || /[^0-9a-f]/.test(hex)) throw new Error('not lower-case hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// RFC 4648 base32, upper case, no padding; null for anything else, including set leftover bits
// (one code, one spelling).
export function base32Decode(text) {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0, value = 0, n = 0;
  for (const ch of text) {
    const v = B32.indexOf(ch);
    if (v < 0) return null;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (value >>> bits) & 0xff;
    }
    value &= (1 << bits) - 1;
  }
  return value === 0 ? out : null;
}

// The code as read from a QR: its fields, or null when it is not a ticket code of this format.
export function parseCode(text) {
  if (typeof text !== 'string' || text.length > 256) return null;
  let staticPart = text, digits = null;
  if (text.length === STATIC_CODE_CHARS + 1 + ROTATING_DIGITS) {
    if (text[STATIC_CODE_CHARS] !== ':') return null;
    staticPart = text.slice(0, STATIC_CODE_CHARS);
    digits = text.slice(STATIC_CODE_CHARS + 1);
    if (!/^[0-9]{8}$/.test(digits)) return null;
  } else if (text.length !== STATIC_CODE_CHARS) {
    return null;
  }
  const bytes = base32Decode(staticPart);
  if (!bytes || bytes.length !== PAYLOAD_BYTES + SIGNATURE_BYTES) return null;
  const view = new DataView(bytes.buffer);
  if (view.getUint8(0) !== CODE_VERSION) return null;
  return {
    text, digits,
    keyId: view.getUint32(1),
    eventId: Number(view.getBigUint64(5)),
    seatId: view.getUint32(13),
    ticketIdBytes: bytes.slice(17, 33),
    ticketId: bytesToHex(bytes.slice(17, 33)),
    validFromS: view.getUint32(33),
    validUntilS: view.getUint32(37),
    payload: bytes.slice(0, PAYLOAD_BYTES),
    signature: bytes.slice(PAYLOAD_BYTES),
  };
}

async function hmacSha256(keyBytes, message) {
  const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, message));
}

// RFC 6238 with HMAC-SHA256, 8 digits, for time step `step` (= floor(unix seconds / 15)).
export async function totp(ticketKeyBytes, step) {
  const counter = new Uint8Array(8);
  new DataView(counter.buffer).setBigUint64(0, BigInt(step));
  const mac = await hmacSha256(ticketKeyBytes, counter);
  const offset = mac[mac.length - 1] & 15;
  const bin = new DataView(mac.buffer).getUint32(offset) & 0x7fffffff;
  return String(bin % 10 ** ROTATING_DIGITS).padStart(ROTATING_DIGITS, '0');
}

export function stepAt(unixMs) {
  return Math.floor(unixMs / 1000 / STEP_S);
}

// A scanner's copy of a ticket's rotation key: HMAC(rotation secret, label || ticket id).
export async function ticketKey(rotationSecretBytes, ticketIdBytes) {
  const msg = new Uint8Array(ROTATION_LABEL.length + ticketIdBytes.length);
  msg.set(ROTATION_LABEL);
  msg.set(ticketIdBytes, ROTATION_LABEL.length);
  return hmacSha256(rotationSecretBytes, msg);
}

// What the ticket page shows now: the static code, ":" and the current digits.
export async function rotatingCode(staticCode, ticketKeyHex, unixMs) {
  return `${staticCode}:${await totp(hexToBytes(ticketKeyHex), stepAt(unixMs))}`;
}

// The scanner's keys from its bundle: key id -> {verify: CryptoKey, rotationSecret: bytes}.
export async function importBundleKeys(bundle) {
  const keys = new Map();
  for (const k of bundle.keys) {
    const verify = await crypto.subtle.importKey('raw', hexToBytes(k.public_key), { name: 'Ed25519' }, false, ['verify']);
    keys.set(k.key_id, { verify, rotationSecret: hexToBytes(k.rotation_secret) });
  }
  return keys;
}

// The code alone, as the server's first step decides it: null when it passes, else the result
// (`invalid`, `wrong_event`, `code_expired`). `code` is parseCode's output (or null).
export async function checkCode(code, { eventId, keys, staticAccepted, nowMs }) {
  if (!code) return 'invalid';
  if (code.eventId !== eventId) return 'wrong_event';
  const key = keys.get(code.keyId);
  if (!key) return 'invalid';
  const signed = await crypto.subtle.verify('Ed25519', key.verify, code.signature, code.payload);
  if (!signed) return 'invalid';
  const nowS = Math.floor(nowMs / 1000);
  if (nowS < code.validFromS || nowS >= code.validUntilS) return 'invalid';
  if (code.digits === null) return staticAccepted ? null : 'code_expired';
  const tk = await ticketKey(key.rotationSecret, code.ticketIdBytes);
  const now = stepAt(nowMs);
  for (let s = now - SKEW_STEPS; s <= now + SKEW_STEPS; s++) if ((await totp(tk, s)) === code.digits) return null;
  return 'code_expired';
}
