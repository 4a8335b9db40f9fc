// scripts/bench: how long the door scanner takes to check one code in Chromium, offline, with the web
// app's own module (web/js/ticket_code.js): signature (Ed25519), validity window, and the rotating
// digits (HMAC-SHA256) for the three accepted time steps. Codes are made here, per docs/tickets.md,
// with Node's crypto, so nothing but ticketd's static files is needed.
//   node scanner_verify_bench.mjs <ticketd base url> [codes]
// Prints one JSON line: {"codes": n, "verify_ms_mean": x, "verify_ms_p99": y}.
import crypto from 'node:crypto';
import { launchBrowser } from './support.mjs';

const base = process.argv[2];
const count = Number(process.argv[3] || 2000);
if (!base) { console.error('usage: node scanner_verify_bench.mjs <base url> [codes]'); process.exit(2); }

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(bytes) {
  let bits = 0, value = 0, out = '';
  for (const b of bytes) {
    value = (value << 8) | b; bits += 8;
    while (bits >= 5) { out += B32[(value >>> (bits - 5)) & 31]; bits -= 5; }
    value &= (1 << bits) - 1;
  }
  if (bits) out += B32[(value << (5 - bits)) & 31];
  return out;
}
const hmac = (key, msg) => crypto.createHmac('sha256', key).update(msg).digest();
function totp(key, step) {
  const c = Buffer.alloc(8); c.writeBigUInt64BE(BigInt(step));
  const mac = hmac(key, c); const off = mac[31] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1e8).padStart(8, '0');
}

const eventId = 42;
const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
const publicRaw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
const rotationSecret = crypto.randomBytes(32);
const nowS = Math.floor(Date.now() / 1000);
const codes = [];
for (let i = 0; i < count; i++) {
  const p = Buffer.alloc(41);
  p.writeUInt8(1, 0); p.writeUInt32BE(1, 1); p.writeBigUInt64BE(BigInt(eventId), 5); p.writeUInt32BE(i, 13);
  const ticketId = crypto.randomBytes(16); ticketId.copy(p, 17);
  p.writeUInt32BE(nowS - 60, 33); p.writeUInt32BE(nowS + 86400, 37);
  const sig = crypto.sign(null, p, privateKey);
  const ticketKey = hmac(rotationSecret, Buffer.concat([Buffer.from('ticketd-rotation-v1'), ticketId]));
  codes.push(`${base32(Buffer.concat([p, sig]))}:${totp(ticketKey, Math.floor(Date.now() / 15000))}`);
}

const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  await page.goto(base + '/scan');
  const result = await page.evaluate(async ({ codes, eventId, pk, rs }) => {
    const m = await import('/js/ticket_code.js');
    const keys = await m.importBundleKeys({ keys: [{ key_id: 1, public_key: pk, rotation_secret: rs }] });
    const times = [];
    let refused = 0;
    for (const text of codes) {
      const t0 = performance.now();
      const r = await m.checkCode(m.parseCode(text), { eventId, keys, staticAccepted: true, nowMs: Date.now() });
      times.push(performance.now() - t0);
      if (r !== null) refused++;
    }
    times.sort((a, b) => a - b);
    return { codes: codes.length, refused, verify_ms_mean: times.reduce((a, b) => a + b, 0) / times.length,
      verify_ms_p99: times[Math.floor(times.length * 0.99)] };
  }, { codes, eventId, pk: publicRaw.toString('hex'), rs: rotationSecret.toString('hex') });
  console.log(JSON.stringify(result));
  if (result.refused) process.exit(1);  // every code here is good: a refusal is a bug
} finally {
  await browser.close();
}
